(define (problem bw-rand-4-instance-12)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c b)
    (on d c)
    (clear a)
    (clear d)
  )
  (:goal
    (and
      (on a d)
      (on d c)
    )
  )
)
