(define (problem bw-rand-3-instance-4)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (on b a)
    (on c b)
    (clear c)
  )
  (:goal
    (and
      (on b c)
      (on c a)
      (on a c)
    )
  )
)
