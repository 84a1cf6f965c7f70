(define (problem bw-rand-4-instance-47)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b a)
    (ontable c)
    (on d b)
    (clear c)
    (clear d)
  )
  (:goal
    (and
      (on a d)
      (on c a)
    )
  )
)
