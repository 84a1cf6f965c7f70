(define (problem bw-rand-3-instance-50)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c a)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on b c)
      (on c b)
    )
  )
)
