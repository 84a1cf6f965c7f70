(define (problem bw-rand-4-instance-80)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a c)
    (ontable b)
    (on c d)
    (on d b)
    (clear a)
  )
  (:goal
    (and
      (on b c)
      (on d a)
    )
  )
)
