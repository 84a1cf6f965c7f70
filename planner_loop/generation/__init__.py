"""Seeded problem generators and committed problem sets.

``get_generator("blocksworld").generate(GenerationRequest(...))`` yields instances;
``generate_problem_set`` also solves them optimally and writes ``<id>.pddl`` + ``manifest.jsonl``.
"""

from planner_loop.generation.blocksworld import BlocksWorldGenerator, count_states
from planner_loop.generation.instances import GeneratedInstance, GenerationRequest, ProblemGenerator, SizeRange
from planner_loop.generation.problem_set import (
    MANIFEST_NAME,
    generate_problem_set,
    read_manifest,
    solve_instances,
    write_problem_set,
)
from planner_loop.generation.registry import available_generators, get_generator

__all__ = [
    "MANIFEST_NAME",
    "BlocksWorldGenerator",
    "GeneratedInstance",
    "GenerationRequest",
    "ProblemGenerator",
    "SizeRange",
    "available_generators",
    "count_states",
    "generate_problem_set",
    "get_generator",
    "read_manifest",
    "solve_instances",
    "write_problem_set",
]
