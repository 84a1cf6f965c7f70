"""Ground truth on solvable and unsolvable instances, and the extraction record a round keeps."""

from __future__ import annotations

from dataclasses import dataclass

from planner_loop.domains import get_domain
from planner_loop.loop import extraction_record, ground_truth, score_round
from planner_loop.planning.plan import Plan, parse_plan
from planner_loop.resources import builtin_dir

TASK = get_domain("blocksworld").load_task(builtin_dir("problems") / "blocksworld" / "3-5" / "instance-1.pddl")
GOOD = parse_plan("(unstack c b)\n(put-down c)\n(pick-up b)\n(stack b e)\n(unstack a d)\n(stack a b)")
BAD = parse_plan("(pick-up b)\n(pick-up a)")


def test_solvable_or_unknown_instances_score_as_before() -> None:
    for solvable in (True, None):
        assert score_round(TASK, GOOD, None, solvable=solvable).valid
        bad = score_round(TASK, BAD, None, solvable=solvable)
        assert not bad.valid and bad.failed_step == 1 and bad.unmet_preconditions == ["(clear b)"]
        missing = score_round(TASK, None, "no plan found", solvable=solvable)
        assert not missing.valid and [e.kind for e in missing.errors] == ["no-plan"]
    assert ground_truth(TASK, None, "why") == {"valid": False, "failed_step": None, "action": None,
                                                "unmet_preconditions": [], "unmet_goals": [],
                                                "errors": [{"step": None, "kind": "no-plan", "message": "why"}]}


def test_unsolvable_instance_is_answered_by_a_no_plan_claim_only() -> None:
    assert score_round(TASK, None, "the reply says no plan exists", solvable=False, no_plan_claim=True).valid
    silent = score_round(TASK, None, "no plan found", solvable=False)
    assert not silent.valid
    # a plan on an instance recorded unsolvable is wrong, whatever the validator finds
    planned = score_round(TASK, GOOD, None, solvable=False)
    assert not planned.valid and [e.kind for e in planned.errors] == ["unsolvable"]
    assert not score_round(TASK, BAD, None, solvable=False).valid


def test_no_plan_claim_on_a_solvable_instance_is_wrong() -> None:
    for solvable in (True, None):
        claim = score_round(TASK, None, "no plan", solvable=solvable, no_plan_claim=True)
        assert not claim.valid and [e.kind for e in claim.errors] == ["no-plan", "no-plan-claim"]
        hedged = score_round(TASK, GOOD, None, solvable=solvable, no_plan_claim=True)
        assert not hedged.valid and [e.kind for e in hedged.errors] == ["no-plan-claim"]


@dataclass(frozen=True)
class OldExtraction:
    plan: Plan | None
    error: str | None
    method: str


@dataclass(frozen=True)
class NewExtraction(OldExtraction):
    block: object = None
    reason: str | None = None
    ambiguous: tuple[str, ...] = ()
    no_plan_claim: bool = False


def test_extraction_record_reads_old_and_new_extractions() -> None:
    old = extraction_record(OldExtraction(None, "no plan found", "none"))  # type: ignore[arg-type]
    assert (old.method, old.block, old.reason, old.ambiguous, old.no_plan_claim) == (
        "none", None, "no plan found", [], False)
    new = extraction_record(NewExtraction(GOOD, None, "nl", block=2, reason="final answer block",  # type: ignore[arg-type]
                                          ambiguous=("stack the red block under the blue block",), no_plan_claim=False))
    assert (new.block, new.reason, new.ambiguous) == ("2", "final answer block",
                                                      ["stack the red block under the blue block"])
    claim = extraction_record(NewExtraction(None, "no plan exists", "none", no_plan_claim=True))  # type: ignore[arg-type]
    assert claim.no_plan_claim and claim.reason == "no plan exists"
