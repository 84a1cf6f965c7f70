(define (problem bw-rand-5-instance-57)
  (:domain blocksworld-4ops)
  (:objects a b c d e)
  (:init
    (handempty)
    (ontable a)
    (on b e)
    (on c b)
    (on d a)
    (ontable e)
    (clear c)
    (clear d)
  )
  (:goal
    (and
      (on a e)
    )
  )
)
