(define (problem bw-rand-5-instance-90)
  (:domain blocksworld-4ops)
  (:objects a b c d e)
  (:init
    (handempty)
    (on a e)
    (on b c)
    (ontable c)
    (on d b)
    (ontable e)
    (clear a)
    (clear d)
  )
  (:goal
    (and
      (on c b)
    )
  )
)
