"""``tool-use``: the generator may call ``simulate(plan)`` / ``validate(plan)`` before answering.

Tool answers come from the sound validator (:mod:`planner_loop.strategies.tools`). Two protocols:

- ``functions``: OpenAI function calling (the server must support ``tools``); a reply holding
  ``tool_calls`` is answered with ``tool`` messages;
- ``text`` (any server): a reply holding a line ``CALL simulate`` or ``CALL validate``, the plan on
  the next lines and a line ``END CALL`` is a call; the result comes back as a user turn starting
  ``TOOL RESULT (<tool>):``. A reply without a ``CALL`` line is the answer.

Every generator call is a round; a call round's plan is the plan sent to the tool and its verdict
``{"valid": null, "detail": {"kind": "tool", "tool", "result", "calls"}}``. At most ``max_tool_calls``
tool calls are answered; then the model is told to answer. The answer is judged by the condition's
verifier (none for ``llm-only``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from planner_loop.domains.protocol import read_plan
from planner_loop.llm.protocol import ChatMessage, Completion
from planner_loop.loop import Episode
from planner_loop.strategies.cot import with_instruction
from planner_loop.strategies.function_turns import function_turns
from planner_loop.strategies.ledger import Ledger, proposal_of
from planner_loop.strategies.params import StrategyParams, parse_params, refuse_verifier, refuse_schema
from planner_loop.strategies.bounds import BoundedCondition, EpisodeBound, max_calls
from planner_loop.strategies.protocol import EpisodeInputs
from planner_loop.strategies.steps import calls_per_verdict, judge
from planner_loop.strategies.texts import text, texts_size
from planner_loop.strategies.tools import TOOL_NAMES, answer, function_specs
from planner_loop.verifiers.protocol import Verdict

CALL_LINE = re.compile(r"^\s*CALL\s+(simulate|validate)\b.*$", re.IGNORECASE | re.MULTILINE)
END_LINE = re.compile(r"^\s*END\s+CALL\s*$", re.IGNORECASE | re.MULTILINE)


class ToolUseParams(StrategyParams):
    max_tool_calls: int = Field(4, ge=0, le=64)
    tools: tuple[Literal["simulate", "validate"], ...] = Field(TOOL_NAMES, min_length=1)
    protocol: Literal["text", "functions"] = "text"


@dataclass(frozen=True)
class ToolCall:
    """One call the reply makes: the tool, the plan text, the function-call id (``functions`` only)."""

    tool: str
    plan_text: str
    call_id: str | None = None


def text_call(reply: str) -> ToolCall | None:
    """The first ``CALL`` block of a reply under the text protocol (``None``: the reply is an answer)."""
    found = CALL_LINE.search(reply)
    if found is None:
        return None
    rest = reply[found.end():]
    end = END_LINE.search(rest)
    return ToolCall(found.group(1).lower(), rest[: end.start()] if end else rest)


def function_call(completion: Completion) -> ToolCall | None:
    """The first tool call of a function-calling reply."""
    for call in completion.tool_calls:
        try:
            arguments = json.loads(call.arguments or "{}")
        except ValueError:
            arguments = {}
        plan = arguments.get("plan") if isinstance(arguments, dict) else None
        return ToolCall(call.name, str(plan or ""), call.id)
    return None


class ToolUse:
    """Let the generator check plans with the sound validator before it answers."""

    name = "tool-use"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.options = parse_params(ToolUseParams, params, self.name)
        self.params: Mapping[str, Any] = self.options.model_dump(mode="json")

    def check_verifier(self, kind: str) -> None:
        refuse_verifier(self.name, kind, ("none", "symbolic"), "answers its tools with the sound validator")

    def episode_bound(self, condition: BoundedCondition) -> EpisodeBound:
        """Up to ``max_tool_calls`` answered calls, then the answer and its verdict; the function
        specs travel with every request under the ``functions`` protocol."""
        options = self.options
        specs = json.dumps(function_specs(options.tools)) if options.protocol == "functions" else ""
        return EpisodeBound(generator_calls=options.max_tool_calls + 1, verdicts=1, carried=options.max_tool_calls,
                            text_bytes=texts_size(self.name) + len(specs.encode("utf-8")))

    def max_calls(self, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode (critic votes included), capped by the condition's budget."""
        return max_calls(self.episode_bound(condition), condition, verifier_calls_per_verdict)

    async def run(self, inputs: EpisodeInputs) -> Episode:
        setup = inputs.setup
        options = self.options
        ledger = Ledger(inputs, self.name, self.params)
        refuse_schema(self.name, inputs.setup.generator_params.json_schema)
        encoding = inputs.prompts.encoding
        functions = options.protocol == "functions"
        intro = text("tool-use", "intro_functions" if functions else "intro_text", encoding)
        messages: list[ChatMessage] = with_instruction(
            inputs.prompts.generator_messages(setup.task, setup.examples[: setup.shots], [], "last"), intro)
        params = setup.generator_params
        if functions:
            params = dataclasses.replace(params, tools=function_specs(options.tools))
        answered = 0
        while True:
            last = answered >= options.max_tool_calls
            if not ledger.allows(1):
                return ledger.finish("budget")
            call_params = dataclasses.replace(params, tools=None) if last and functions else params
            completion = await ledger.ask(messages, call_params)
            call = None if last else (function_call(completion) if functions else text_call(completion.text))
            if call is None or call.tool not in options.tools:
                if not ledger.allows(calls_per_verdict(inputs.verifier)):
                    ledger.add(messages, proposal_of(inputs, completion))
                    return ledger.finish("budget")
                proposal = proposal_of(inputs, completion)
                verdict, error = await judge(inputs, proposal, len(ledger.rounds) + 1)
                ledger.add(messages, proposal, verdict, error=error)
                if error is not None:
                    return ledger.finish("error", error=error)
                return ledger.finish("accepted" if verdict.valid is True else "max_rounds")
            extraction = read_plan(inputs.domain, call.plan_text, setup.task)
            result = answer(call.tool, extraction.plan, extraction.error, setup.task, inputs.domain, encoding)
            answered += 1
            proposal = proposal_of(inputs, completion, call.plan_text or "", missing="the tool call holds no plan")
            ledger.add(messages, proposal, Verdict(None, result, {"kind": "tool", "tool": call.tool, "result": result,
                                                                  "calls": answered}))
            messages = [*messages, *_tool_turns(completion, call, result, functions)]
            if answered >= options.max_tool_calls:
                messages = [*messages, ChatMessage("user", text("tool-use", "last_call"))]


def _tool_turns(completion: Completion, call: ToolCall, result: str, functions: bool) -> Sequence[ChatMessage]:
    """The assistant's call and the tool's result as chat turns."""
    if functions:
        return function_turns(completion, call.call_id, result)
    return [ChatMessage("assistant", completion.text),
            ChatMessage("user", text("tool-use", "result", tool=call.tool, result=result))]

