(define (problem bw-rand-4-instance-76)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b c)
    (on c d)
    (on d a)
    (clear b)
  )
  (:goal
    (and
      (on c d)
      (on d b)
    )
  )
)
