(define (problem bw-rand-3-instance-78)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (on b c)
    (on c a)
    (clear b)
  )
  (:goal
    (and
      (on b a)
      (on c b)
      (on a c)
    )
  )
)
