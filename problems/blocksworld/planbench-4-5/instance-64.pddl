(define (problem bw-rand-4-instance-64)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a b)
    (ontable b)
    (on c a)
    (on d c)
    (clear d)
  )
  (:goal
    (and
      (on b c)
      (on c a)
      (on d b)
    )
  )
)
