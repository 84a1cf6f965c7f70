"""Verifiers behind one protocol: the sound validator, VAL, and LLM critics.

``verify(task, plan | None, context) -> Verdict``; see ``protocol.py`` and docs/experiments.md.
Verifier kinds, what each supports and ``build_verifier`` are in ``registry.py``. Names are
imported on first use, so the registry (read when a config is validated) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FEEDBACK_LEVELS": "feedback", "FeedbackRenderer": "feedback",
    "LLMCritic": "llm_critic", "read_verdict": "verdict_reader",
    "NoVerifier": "protocol", "Verdict": "protocol", "Verifier": "protocol", "VerifierError": "protocol",
    "VerifyContext": "protocol",
    "SymbolicVerifier": "symbolic",
    "ValVerifier": "val", "find_validate": "val", "parse_val_output": "val",
    "BUILTIN_VERIFIERS": "registry", "VerifierEntry": "registry", "VerifierRequest": "registry",
    "VerifierSupport": "registry", "build_verifier": "registry", "default_verifiers": "registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'planner_loop.verifiers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"planner_loop.verifiers.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
