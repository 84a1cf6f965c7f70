(define (problem bw-rand-3-instance-3)
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
      (on a c)
      (on c b)
      (on b a)
    )
  )
)
