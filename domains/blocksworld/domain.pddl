; Blocks World with four operators (untyped STRIPS).
; Same domain name, predicates, actions and semantics as PlanBench's and the IPC's 4-operator
; Blocks World, so PlanBench problem files load against it unchanged.
(define (domain blocksworld-4ops)
  (:requirements :strips)
  (:predicates
    (on ?x ?y)
    (ontable ?x)
    (clear ?x)
    (handempty)
    (holding ?x))

  ; Lift a clear block off the table.
  (:action pick-up
    :parameters (?ob)
    :precondition (and (clear ?ob) (ontable ?ob) (handempty))
    :effect (and (holding ?ob)
                 (not (clear ?ob)) (not (ontable ?ob)) (not (handempty))))

  ; Set the held block down on the table.
  (:action put-down
    :parameters (?ob)
    :precondition (holding ?ob)
    :effect (and (ontable ?ob) (clear ?ob) (handempty)
                 (not (holding ?ob))))

  ; Place the held block ?ob on the clear block ?underob.
  (:action stack
    :parameters (?ob ?underob)
    :precondition (and (holding ?ob) (clear ?underob))
    :effect (and (on ?ob ?underob) (clear ?ob) (handempty)
                 (not (holding ?ob)) (not (clear ?underob))))

  ; Lift the clear block ?ob off the block ?underob.
  (:action unstack
    :parameters (?ob ?underob)
    :precondition (and (on ?ob ?underob) (clear ?ob) (handempty))
    :effect (and (holding ?ob) (clear ?underob)
                 (not (on ?ob ?underob)) (not (clear ?ob)) (not (handempty)))))
