(define (problem bw-rand-3-instance-9)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (ontable c)
    (clear a)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on c b)
      (on c a)
    )
  )
)
