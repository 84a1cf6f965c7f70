(define (problem bw-rand-3-instance-32)
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
      (on b a)
      (on c a)
    )
  )
)
