(define (problem bw-rand-4-instance-74)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b d)
    (on c a)
    (on d c)
    (clear b)
  )
  (:goal
    (and
      (on a c)
    )
  )
)
