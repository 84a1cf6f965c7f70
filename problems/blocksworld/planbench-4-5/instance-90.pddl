(define (problem bw-rand-4-instance-90)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b a)
    (on c b)
    (on d c)
    (clear d)
  )
  (:goal
    (and
      (on a b)
      (on b c)
    )
  )
)
