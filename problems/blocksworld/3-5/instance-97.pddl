(define (problem bw-rand-4-instance-97)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b a)
    (on c d)
    (on d b)
    (clear c)
  )
  (:goal
    (and
      (on a d)
      (on b a)
      (on d c)
    )
  )
)
