(define (problem bw-rand-4-instance-29)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (on b a)
    (on c b)
    (ontable d)
    (clear c)
  )
  (:goal
    (and
      (on b d)
      (on d c)
    )
  )
)
