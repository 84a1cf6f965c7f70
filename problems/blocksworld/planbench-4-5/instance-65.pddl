(define (problem bw-rand-4-instance-65)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (on b c)
    (ontable c)
    (on d b)
    (clear a)
  )
  (:goal
    (and
      (on a b)
      (on b c)
      (on c d)
    )
  )
)
