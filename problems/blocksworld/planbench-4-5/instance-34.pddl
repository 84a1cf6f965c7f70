(define (problem bw-rand-4-instance-34)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b d)
    (on c b)
    (ontable d)
    (clear a)
    (clear c)
  )
  (:goal
    (and
      (on b a)
      (on c d)
    )
  )
)
