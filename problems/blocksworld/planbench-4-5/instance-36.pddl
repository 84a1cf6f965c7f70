(define (problem bw-rand-4-instance-36)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (ontable b)
    (on c a)
    (ontable d)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on a c)
      (on c d)
    )
  )
)
