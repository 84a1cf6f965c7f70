(define (problem bw-rand-3-instance-83)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (on a b)
    (on b c)
    (ontable c)
    (clear a)
  )
  (:goal
    (and
      (on a b)
      (on c a)
      (on b a)
    )
  )
)
