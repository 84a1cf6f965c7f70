(define (problem bw-rand-4-instance-35)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a b)
    (ontable b)
    (ontable c)
    (on d c)
    (clear a)
    (clear d)
  )
  (:goal
    (and
      (on b c)
      (on c a)
    )
  )
)
