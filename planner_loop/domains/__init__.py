"""Domains: a PDDL domain plus its natural-language rendering, plan extraction and generator.

Public API::

    from planner_loop.domains import get_domain, load_domain, DomainRegistry
    domain = get_domain("blocksworld")            # or load_domain("path/to/my_domain/")
    task = domain.load_task("problem.pddl")
    prompt_state = domain.render_state(task.init)  # "the red block is clear, ..."
    extraction = domain.extract_plan(reply_text, task)

See docs/domains.md for the data-file format and a tutorial.
"""

from planner_loop.domains.extraction import extract_plan, plan_json_schema
from planner_loop.domains.protocol import Domain, PlanExtraction
from planner_loop.domains.registry import (
    ENTRY_POINT_GROUP,
    DomainRegistry,
    available_domains,
    get_domain,
    load_domain,
    register_domain,
)
from planner_loop.domains.templates import DomainSpec, TemplateDomain, load_domain_spec, parse_domain_spec

__all__ = [
    "ENTRY_POINT_GROUP",
    "Domain",
    "DomainRegistry",
    "DomainSpec",
    "PlanExtraction",
    "TemplateDomain",
    "available_domains",
    "extract_plan",
    "get_domain",
    "load_domain",
    "load_domain_spec",
    "parse_domain_spec",
    "plan_json_schema",
    "register_domain",
]
