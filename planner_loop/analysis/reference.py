"""Published numbers of the two reference studies, and which of our conditions each one matches.

Sources (figures as summarised in the project's REFERENCE.md §1-2):

- Valmeekam, Marquez & Kambhampati (2023), "Can Large Language Models Really Improve by
  Self-Critiquing Their Own Plans?", arXiv:2310.08118 — GPT-4, temperature 0, Blocks World,
  Tables 1-3.
- Bohnet et al. (2025), "Enhancing LLM Planning Capabilities through Intrinsic Self-Critique",
  arXiv:2512.24103 — Blocksworld 3-5 accuracy without critique, with step-wise self-critique, with
  5-vote critique, and the ablation without step-wise verification.

A published row is matched to one of our conditions only when the condition follows its protocol:
what the condition *is* (system, verifier, feedback level, step-wise critic, votes), within the study
the run reproduces, the table the figure came from (Table 1 beside the accuracy table, Table 3 beside
the feedback table) and, when the paper gives its count, the same number of instances (Table 1 and 2
used 100, the feedback levels of Table 3 50). A 50-instance feedback run therefore gets no Table 1
figure, and a 100-instance Table 1 run no Table 3 feedback figure.
"""

from __future__ import annotations

from dataclasses import dataclass

VALMEEKAM = "Valmeekam et al. 2023"
BOHNET = "Bohnet et al. 2025"
VALMEEKAM_CITATION = "Valmeekam, Marquez & Kambhampati 2023, arXiv:2310.08118"
BOHNET_CITATION = "Bohnet et al. 2025, arXiv:2512.24103"


@dataclass(frozen=True)
class PublishedAccuracy:
    """One published accuracy figure (counts when the paper gives them)."""

    study: str
    table: str                  # e.g. "Table 1"
    label: str                  # the paper's row name
    correct: int | None
    n: int | None
    accuracy_pct: float
    mean_rounds: float | None

    @property
    def ref(self) -> str:
        return f"paper:{self.study}, {self.table}, {self.label}"

    def fraction(self) -> str:
        """``55/100`` when counts are published, else the percentage."""
        if self.correct is not None and self.n is not None:
            return f"{self.correct}/{self.n}"
        return f"{self.accuracy_pct:.1f}%"


@dataclass(frozen=True)
class PublishedCritic:
    """Valmeekam et al. 2023, Table 2: the LLM critic's verdicts on the final LLM+LLM plans vs VAL."""

    study: str
    table: str
    label: str
    true_positive: int
    false_positive: int
    true_negative: int
    false_negative: int

    @property
    def ref(self) -> str:
        return f"paper:{self.study}, {self.table}, {self.label}"

    @property
    def valid_plans(self) -> int:
        return self.true_positive + self.false_negative

    @property
    def invalid_plans(self) -> int:
        return self.false_positive + self.true_negative


VALMEEKAM_TABLE1: dict[str, PublishedAccuracy] = {
    "llm-only": PublishedAccuracy(VALMEEKAM, "Table 1", "LLM", 40, 100, 40.0, 1.00),
    "llm+llm": PublishedAccuracy(VALMEEKAM, "Table 1", "LLM+LLM", 55, 100, 55.0, 3.48),
    "llm+sound": PublishedAccuracy(VALMEEKAM, "Table 1", "LLM+VAL", 88, 100, 88.0, 4.18),
}
VALMEEKAM_TABLE2 = PublishedCritic(VALMEEKAM, "Table 2", "GPT-4 critic on final LLM+LLM plans", 54, 38, 7, 1)
VALMEEKAM_TABLE2_ACCURACY = (61, 100)
VALMEEKAM_TABLE3: dict[str, PublishedAccuracy] = {
    "none": PublishedAccuracy(VALMEEKAM, "Table 3", "no feedback", 40, 100, 40.0, 1.00),
    "binary": PublishedAccuracy(VALMEEKAM, "Table 3", "binary feedback", 37, 50, 74.0, 5.38),
    "first-error": PublishedAccuracy(VALMEEKAM, "Table 3", "inexecutable action feedback", 43, 50, 86.0, 4.18),
    "all-errors": PublishedAccuracy(VALMEEKAM, "Table 3", "open conditions feedback", 43, 50, 86.0, 4.42),
}
BOHNET_RESULTS: dict[str, PublishedAccuracy] = {
    "without-critique": PublishedAccuracy(BOHNET, "Blocksworld 3-5", "without critique", None, None, 49.8, None),
    "with-critique": PublishedAccuracy(BOHNET, "Blocksworld 3-5", "with self-critique", None, None, 85.5, None),
    "with-voting": PublishedAccuracy(BOHNET, "Blocksworld 3-5", "with 5-vote self-critique", None, None, 89.3, None),
    "no-stepwise": PublishedAccuracy(BOHNET, "Blocksworld 3-5", "ablation: no step-wise verification", None, None, 57.5, None),
}


def same_protocol(published: PublishedAccuracy | None, instances: int | None) -> PublishedAccuracy | None:
    """``published`` when its instance count (if the paper gives one) is ``instances``, else ``None``."""
    if published is None or published.n is None or instances is None:
        return published
    return published if published.n == instances else None


def accuracy_reference(
    study: str | None, system: str, feedback: str, *, stepwise: bool, votes: int, instances: int | None = None
) -> PublishedAccuracy | None:
    """The published accuracy our condition corresponds to in ``study`` (Table 1 / Bohnet), if any;
    ``instances`` (distinct instances the condition ran) must match the paper's count when given."""
    return same_protocol(_accuracy_row(study, system, feedback, stepwise=stepwise, votes=votes), instances)


def _accuracy_row(study: str | None, system: str, feedback: str, *, stepwise: bool, votes: int) -> PublishedAccuracy | None:
    if study == "bohnet2025":
        if system == "llm-only":
            return BOHNET_RESULTS["without-critique"]
        if system == "llm+llm":
            if not stepwise:
                return BOHNET_RESULTS["no-stepwise"]
            return BOHNET_RESULTS["with-voting" if votes > 1 else "with-critique"]
        return None
    if study == "valmeekam2023":
        if system == "llm-only":
            return VALMEEKAM_TABLE1["llm-only"]
        if system == "llm+llm" and not stepwise and votes == 1:
            return VALMEEKAM_TABLE1["llm+llm"]
        # The paper's LLM+VAL row shares its mean-rounds figure (4.18) with the inexecutable-action
        # (first-error) feedback row of Table 3, so that is the condition it corresponds to.
        if system in {"llm+sound", "llm+val"} and feedback == "first-error":
            return VALMEEKAM_TABLE1["llm+sound"]
    return None


def feedback_reference(study: str | None, system: str, feedback: str, *,
                       instances: int | None = None) -> PublishedAccuracy | None:
    """Valmeekam et al. 2023 Table 3 row for a sound-verifier (or LLM-only) condition, at its instance count."""
    if study != "valmeekam2023":
        return None
    if system == "llm-only":
        return same_protocol(VALMEEKAM_TABLE3["none"], instances)
    if system in {"llm+sound", "llm+val"}:
        return same_protocol(VALMEEKAM_TABLE3.get(feedback), instances)
    return None


def critic_reference(study: str | None, system: str, *, stepwise: bool, votes: int,
                     instances: int | None = None) -> PublishedCritic | None:
    """Valmeekam et al. 2023 Table 2 for a plain (one-vote, not step-wise) LLM critic on its 100 instances."""
    table2_n = VALMEEKAM_TABLE2.valid_plans + VALMEEKAM_TABLE2.invalid_plans
    if instances is not None and instances != table2_n:
        return None
    if study == "valmeekam2023" and system == "llm+llm" and not stepwise and votes == 1:
        return VALMEEKAM_TABLE2
    return None


def published_summary(study: str) -> list[str]:
    """The reference study's headline figures as lines, for runs whose protocol differs from the paper's
    (they are then not placed beside our numbers); ``[]`` for a study without published figures."""
    if study in ("demo", "valmeekam2023"):
        t1, t2, t3 = VALMEEKAM_TABLE1, VALMEEKAM_TABLE2, VALMEEKAM_TABLE3
        fp_rate = 100 * t2.false_positive / t2.invalid_plans
        return [
            f"{VALMEEKAM_CITATION}; GPT-4 as generator and critic:",
            f"- Table 1 ({t1['llm-only'].n} instances): LLM only {t1['llm-only'].fraction()}, "
            f"LLM+LLM {t1['llm+llm'].fraction()} ({t1['llm+llm'].mean_rounds:.2f} rounds), "
            f"LLM+VAL {t1['llm+sound'].fraction()} ({t1['llm+sound'].mean_rounds:.2f} rounds)",
            f"- Table 2: the critic's false positives {t2.false_positive}/{t2.invalid_plans} ({fp_rate:.1f}%), "
            f"false negatives {t2.false_negative}/{t2.valid_plans}",
            f"- Table 3 ({t3['binary'].n} instances, LLM+VAL by feedback): binary {t3['binary'].fraction()}, "
            f"first error {t3['first-error'].fraction()}, all errors {t3['all-errors'].fraction()}",
        ]
    if study == "bohnet2025":
        b = BOHNET_RESULTS
        return [f"{BOHNET_CITATION}; Blocksworld 3-5 accuracy:",
                "- " + ", ".join(f"{row.label} {row.accuracy_pct:.1f}%" for row in b.values())]
    return []
