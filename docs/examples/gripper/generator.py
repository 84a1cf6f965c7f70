"""A problem generator for the Gripper tutorial: n balls start in room a and must go to room b."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from planner_loop.generation import GeneratedInstance, GenerationRequest


@dataclass(frozen=True)
class GripperGenerator:
    """Balls scattered over rooms a and b; each must end in a room drawn at random."""

    name: str = "gripper"
    version: int = 1
    domain_file: Path = Path(__file__).parent / "domain.pddl"
    size_names: tuple[str, ...] = ("balls",)
    goal_styles: tuple[str, ...] = ("all-balls",)

    def generate(self, request: GenerationRequest) -> Iterator[GeneratedInstance]:
        """``request.count`` instances with ``balls`` from the requested range (default 2-3)."""
        size = request.sizes.get("balls")
        low, high = (size.low, size.high) if size else (2, 3)
        rng = random.Random(request.seed)
        made = 0
        while made < request.count:
            n = rng.randint(low, high)
            start = [rng.choice("ab") for _ in range(n)]
            goal = [rng.choice("ab") for _ in range(n)]
            if start == goal:
                continue  # trivial
            made += 1
            balls = [f"ball{i + 1}" for i in range(n)]
            init = ["(at-robby room-a)", "(free left)", "(free right)"]
            init += [f"(at {b} room-{s})" for b, s in zip(balls, start, strict=True)]
            goals = " ".join(f"(at {b} room-{g})" for b, g in zip(balls, goal, strict=True))
            pddl = (f"(define (problem gripper-{made}) (:domain gripper)\n"
                    f"  (:objects room-a room-b - room {' '.join(balls)} - ball left right - gripper)\n"
                    f"  (:init {' '.join(init)})\n  (:goal (and {goals})))\n")
            yield GeneratedInstance(id=f"instance-{made}", pddl=pddl, sizes={"balls": n},
                                    goal_style="all-balls", instance_seed=request.seed, attempt=made - 1)
