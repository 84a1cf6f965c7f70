(define (problem bw-rand-4-instance-11)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (ontable b)
    (on c b)
    (ontable d)
    (clear a)
    (clear c)
  )
  (:goal
    (and
      (on c b)
      (on d a)
    )
  )
)
