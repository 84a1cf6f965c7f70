(define (problem bw-rand-4-instance-60)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a b)
    (on b d)
    (on c a)
    (ontable d)
    (clear c)
  )
  (:goal
    (and
      (on a c)
    )
  )
)
