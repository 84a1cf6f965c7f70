(define (problem bw-rand-4-instance-70)
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
      (on a d)
      (on b c)
    )
  )
)
