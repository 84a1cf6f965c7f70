(define (problem bw-rand-5-instance-19)
  (:domain blocksworld-4ops)
  (:objects a b c d e)
  (:init
    (handempty)
    (on a d)
    (ontable b)
    (on c a)
    (on d e)
    (on e b)
    (clear c)
  )
  (:goal
    (and
      (on d a)
      (on e b)
    )
  )
)
