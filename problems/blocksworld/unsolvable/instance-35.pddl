(define (problem bw-rand-3-instance-35)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (on b c)
    (on c a)
    (clear b)
  )
  (:goal
    (and
      (on a c)
      (on c b)
      (on b c)
    )
  )
)
