(define (problem bw-rand-4-instance-31)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (ontable b)
    (on c b)
    (on d c)
    (clear a)
  )
  (:goal
    (and
      (on a b)
      (on b d)
      (on c a)
    )
  )
)
