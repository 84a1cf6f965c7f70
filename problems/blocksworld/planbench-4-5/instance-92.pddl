(define (problem bw-rand-4-instance-92)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a b)
    (on b c)
    (ontable c)
    (on d a)
    (clear d)
  )
  (:goal
    (and
      (on a d)
      (on c b)
      (on d c)
    )
  )
)
