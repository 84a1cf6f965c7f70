(define (problem bw-rand-5-instance-100)
  (:domain blocksworld-4ops)
  (:objects a b c d e)
  (:init
    (handempty)
    (on a c)
    (on b e)
    (ontable c)
    (on d b)
    (on e a)
    (clear d)
  )
  (:goal
    (and
      (on c a)
      (on e c)
    )
  )
)
