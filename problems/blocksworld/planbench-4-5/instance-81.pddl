(define (problem bw-rand-4-instance-81)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (ontable b)
    (ontable c)
    (on d c)
    (clear a)
    (clear b)
  )
  (:goal
    (and
      (on d a)
    )
  )
)
