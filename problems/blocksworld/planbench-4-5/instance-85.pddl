(define (problem bw-rand-4-instance-85)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c b)
    (on d a)
    (clear c)
    (clear d)
  )
  (:goal
    (and
      (on c a)
      (on d c)
    )
  )
)
