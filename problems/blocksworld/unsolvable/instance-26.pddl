(define (problem bw-rand-3-instance-26)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c b)
    (clear a)
    (clear c)
  )
  (:goal
    (and
      (on a c)
      (on b a)
      (on a b)
    )
  )
)
