(define (problem bw-rand-3-instance-10)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init
    (handempty)
    (on a b)
    (ontable b)
    (ontable c)
    (clear a)
    (clear c)
  )
  (:goal
    (and
      (on a c)
      (on b a)
      (on b c)
    )
  )
)
