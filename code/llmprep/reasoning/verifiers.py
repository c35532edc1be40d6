"""Two imperfect verifiers: an outcome reward model (ORM) and a process reward model (PRM).

A real verifier is a learned model, and it is wrong some of the time. These stand-ins make
the error rates explicit parameters instead of hiding them:

- `OutcomeVerifier` judges only the final answer (an ORM, as in Cobbe et al. 2021 and
  Lightman et al. 2023). A wrong answer passes with probability `false_positive`, a right one
  is rejected with probability `false_negative`.
- `ProcessVerifier` judges every step (a PRM): a wrong step is missed with probability
  `miss`, a right step is flagged with probability `false_alarm`. A trace scores its
  weakest step: a chain is only as good as its worst step. (Lightman et al. multiply
  calibrated per-step probabilities of correctness; our scores are ranks, not
  probabilities, and their product would punish long right chains, so we take the minimum.)

Each judgment is a deterministic function of what is judged (a hash of the verifier's seed,
the problem and the answer or step), not a fresh coin flip: a learned verifier that is fooled
by one wrong answer is fooled by it every time, which is exactly why sampling more cannot
average its mistakes away. Scores are in [0, 1]: accepted items score above 0.5, rejected
ones below, and within each side right items lean higher (`sharpness`).

Leaves out: calibration (the scores are ranks, not probabilities), verifiers whose errors
depend on how the trace is written, and the cost of training either model (PRMs need
step-level labels: 800,000 human ones for Lightman et al.'s PRM800K).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from llmprep.reasoning.solver import Step, Trace
from llmprep.reasoning.task import Problem


def unit_hash(*parts: object) -> float:
    """A deterministic number in [0, 1) from any values: the verifiers' fixed "randomness".

    Example: unit_hash(0, 1, 42) == unit_hash(0, 1, 42)  (and almost surely != unit_hash(0, 1, 43))
    """
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


def _score(accepted: bool, right: bool, u: float, sharpness: float) -> float:
    """Accepted items land in [0.5, 1), rejected in [0, 0.5).

    Within each half, right items lean high (u ** (1 / sharpness)) and wrong items lean low
    (u ** sharpness): the score carries some signal beyond accept/reject, as a learned
    verifier's does. sharpness = 1 makes the order within a half pure noise.
    """
    lean = float(u ** (1.0 / sharpness) if right else u**sharpness)
    return 0.5 + 0.5 * lean if accepted else 0.5 * lean


def _check_sharpness(value: float) -> None:
    if value < 1.0:
        raise ValueError(f"sharpness must be at least 1, got {value!r}")


@dataclass(frozen=True, slots=True)
class OutcomeVerifier:
    """Scores a trace by its final answer only (an ORM with stated error rates)."""

    false_positive: float = 0.1
    false_negative: float = 0.05
    sharpness: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        _check_rate("false_positive", self.false_positive)
        _check_rate("false_negative", self.false_negative)
        _check_sharpness(self.sharpness)

    def accepts(self, problem: Problem, trace: Trace) -> bool:
        """Whether the verifier calls this trace's answer correct."""
        if trace.answer is None:
            return False
        u = unit_hash(self.seed, "orm", problem.id, trace.answer)
        if trace.answer == problem.answer:
            return u >= self.false_negative
        return u < self.false_positive

    def score(self, problem: Problem, trace: Trace) -> float:
        """A score in [0, 1] for best-of-n: above 0.5 iff `accepts`."""
        u = unit_hash(self.seed, "orm-rank", problem.id, trace.answer)
        right = trace.answer == problem.answer
        return _score(self.accepts(problem, trace), right, u, self.sharpness)


@dataclass(frozen=True, slots=True)
class ProcessVerifier:
    """Scores each step (a PRM with stated error rates); a trace scores its weakest step."""

    miss: float = 0.2
    false_alarm: float = 0.03
    sharpness: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        _check_rate("miss", self.miss)
        _check_rate("false_alarm", self.false_alarm)
        _check_sharpness(self.sharpness)

    def flags(self, problem: Problem, step: Step) -> bool:
        """Whether the verifier calls this step wrong."""
        u = unit_hash(self.seed, "prm", problem.id, step.index, step.before, step.after)
        if step.correct:
            return u < self.false_alarm
        return u >= self.miss

    def step_score(self, problem: Problem, step: Step) -> float:
        """A score in [0, 1] for one step: below 0.5 iff `flags`."""
        u = unit_hash(self.seed, "prm-rank", problem.id, step.index, step.before, step.after)
        return _score(not self.flags(problem, step), step.correct, u, self.sharpness)

    def prefix_score(self, problem: Problem, steps: tuple[Step, ...]) -> float:
        """The lowest step score of a partial trace: how beam search ranks prefixes.

        Any prefix with a flagged step ranks below every prefix without one.
        """
        return min((self.step_score(problem, s) for s in steps), default=1.0)

    def score(self, problem: Problem, trace: Trace) -> float:
        """The lowest step score of the trace (1.0 for a trace with no steps)."""
        return self.prefix_score(problem, trace.steps)
