(define (problem bw-rand-3-instance-87)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (on a c)
    (ontable b)
    (ontable c)
    (clear a)
    (clear b)
  )
  (:goal
    (and
      (on a b)
      (on c a)
      (on b a)
    )
  )
)
