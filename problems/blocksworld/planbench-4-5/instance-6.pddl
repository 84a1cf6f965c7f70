(define (problem bw-rand-4-instance-6)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (ontable b)
    (on c a)
    (on d b)
    (clear c)
  )
  (:goal
    (and
      (on a b)
      (on b d)
      (on c a)
    )
  )
)
