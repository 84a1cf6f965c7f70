(define (problem bw-rand-4-instance-74)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b d)
    (ontable c)
    (on d c)
    (clear a)
    (clear b)
  )
  (:goal
    (and
      (on d b)
      (on b d)
    )
  )
)
