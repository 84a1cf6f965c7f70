(define (problem bw-rand-3-instance-92)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (on b c)
    (ontable c)
    (clear a)
    (clear b)
  )
  (:goal
    (and
      (on b a)
      (on a b)
    )
  )
)
