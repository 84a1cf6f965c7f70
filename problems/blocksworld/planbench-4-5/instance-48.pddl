(define (problem bw-rand-4-instance-48)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (on b a)
    (ontable c)
    (on d c)
    (clear b)
  )
  (:goal
    (and
      (on c a)
    )
  )
)
