(define (problem bw-rand-4-instance-61)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b c)
    (ontable c)
    (on d a)
    (clear b)
    (clear d)
  )
  (:goal
    (and
      (on c d)
      (on d b)
    )
  )
)
