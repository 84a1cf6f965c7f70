(define (problem bw-rand-4-instance-62)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (ontable a)
    (on b a)
    (on c d)
    (ontable d)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on b d)
    )
  )
)
