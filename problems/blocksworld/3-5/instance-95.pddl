(define (problem bw-rand-4-instance-95)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b d)
    (on c b)
    (on d a)
    (clear c)
  )
  (:goal
    (and
      (on b c)
      (on c a)
    )
  )
)
