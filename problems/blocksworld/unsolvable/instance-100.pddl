(define (problem bw-rand-3-instance-100)
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
      (on c a)
      (on a c)
    )
  )
)
