(define (problem bw-rand-4-instance-27)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (ontable c)
    (on d a)
    (clear b)
    (clear c)
    (clear d)
  )
  (:goal
    (and
      (on c a)
    )
  )
)
