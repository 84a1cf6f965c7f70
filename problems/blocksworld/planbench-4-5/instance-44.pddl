(define (problem bw-rand-4-instance-44)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c d)
    (on d a)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on a b)
      (on c a)
    )
  )
)
