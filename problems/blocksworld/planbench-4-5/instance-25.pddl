(define (problem bw-rand-4-instance-25)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a d)
    (on b a)
    (ontable c)
    (ontable d)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on b a)
      (on c d)
    )
  )
)
