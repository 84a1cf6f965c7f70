(define (problem bw-rand-3-instance-24)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (on a b)
    (ontable b)
    (on c a)
    (clear c)
  )
  (:goal
    (and
      (on a b)
      (on c a)
      (on c b)
    )
  )
)
