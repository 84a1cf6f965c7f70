(define (problem bw-rand-4-instance-37)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b d)
    (ontable c)
    (on d a)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on c a)
      (on d c)
    )
  )
)
