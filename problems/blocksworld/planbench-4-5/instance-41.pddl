(define (problem bw-rand-4-instance-41)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c d)
    (on d b)
    (clear a)
    (clear c)
  )
  (:goal
    (and
      (on c b)
    )
  )
)
