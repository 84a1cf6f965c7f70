(define (problem bw-rand-4-instance-77)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a b)
    (on b c)
    (ontable c)
    (ontable d)
    (clear a)
    (clear d)
  )
  (:goal
    (and
      (on c a)
    )
  )
)
