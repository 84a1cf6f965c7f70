(define (problem bw-rand-4-instance-62)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (on b c)
    (on c a)
    (ontable d)
    (clear b)
  )
  (:goal
    (and
      (on a d)
      (on c b)
      (on d c)
    )
  )
)
