"""Verifiers behind one protocol: the sound validator, VAL, and LLM critics.

``verify(task, plan | None, context) -> Verdict``; see ``protocol.py`` and docs/experiments.md.
"""

from planner_loop.verifiers.feedback import FEEDBACK_LEVELS, FeedbackRenderer
from planner_loop.verifiers.llm_critic import LLMCritic, read_verdict
from planner_loop.verifiers.protocol import NoVerifier, Verdict, Verifier, VerifierError, VerifyContext
from planner_loop.verifiers.symbolic import SymbolicVerifier
from planner_loop.verifiers.val import ValVerifier, find_validate, parse_val_output

__all__ = [
    "FEEDBACK_LEVELS", "FeedbackRenderer", "LLMCritic", "NoVerifier", "SymbolicVerifier", "ValVerifier",
    "Verdict", "Verifier", "VerifierError", "VerifyContext", "find_validate", "parse_val_output", "read_verdict",
]
