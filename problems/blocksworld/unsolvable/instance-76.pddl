(define (problem bw-rand-3-instance-76)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (ontable a)
    (ontable b)
    (on c a)
    (clear b)
    (clear c)
  )
  (:goal
    (and
      (on c a)
      (on a c)
    )
  )
)
