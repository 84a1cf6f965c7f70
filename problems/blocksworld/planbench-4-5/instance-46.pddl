(define (problem bw-rand-4-instance-46)
  (:domain blocksworld-4ops)
  (:objects a b c d)
  (:init
    (handempty)
    (on a b)
    (on b d)
    (ontable c)
    (on d c)
    (clear a)
  )
  (:goal
    (and
      (on b d)
      (on d a)
    )
  )
)
