(define (problem bw-rand-3-instance-98)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (on a c)
    (on b a)
    (ontable c)
    (clear b)
  )
  (:goal
    (and
      (on b c)
      (on c b)
    )
  )
)
