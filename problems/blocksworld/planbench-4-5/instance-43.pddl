(define (problem bw-rand-4-instance-43)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c a)
    (on d c)
    (clear b)
    (clear d)
  )
  (:goal
    (and
      (on c d)
      (on d a)
    )
  )
)
