(define (problem bw-rand-3-instance-51)
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
      (on b c)
      (on c a)
      (on a b)
    )
  )
)
