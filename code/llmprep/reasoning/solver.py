"""A seeded, imperfect solver that writes its reasoning as a trace of steps.

It stands in for a sampled chain of thought. The error model is explicit and simple, so every
result in the chapter can be traced back to it:

- **Slips.** Every step goes wrong with probability `slip = base + per_step * (steps - 1)`:
  longer problems make each step sloppier, as long chains do for real models. A slip gives
  the right result plus a small random offset (+-1 to +-3), so slips *scatter*: two slipped
  traces rarely agree on a wrong answer.
- **A trap.** Each problem with at least `trap_min_steps` steps has one trap step (chosen
  from the problem's id). There the solver falls for a fixed misconception (it applies the
  operation to the operand plus one, or adds where it should multiply) with an extra
  probability `trap = min(trap_cap, trap_per_step * steps)`. Trap errors are *systematic*:
  every trace that falls for the trap reaches the same wrong answer.
- **Propagation.** Later steps work on the value the trace has, right or wrong, so one early
  slip makes the final answer wrong even if every later step is locally correct.

Tokens are counted per step (`step_tokens`) plus a final answer line (`answer_tokens`); they
are what the strategies pay for.

Leaves out: everything a real model does that is not an arithmetic slip (misreading the
problem, skipping steps, answering in the wrong format), errors correlated across problems,
and temperature: the error rates are fixed parameters, not a sampling setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from llmprep.reasoning.task import Op, Problem

_OFFSETS = np.array([-3, -2, -1, 1, 2, 3])


@dataclass(frozen=True, slots=True)
class ErrorModel:
    """How often the solver slips; see the module docstring for the exact rules."""

    base: float = 0.02
    per_step: float = 0.01
    trap_per_step: float = 0.06
    trap_cap: float = 0.6
    trap_min_steps: int = 4

    def __post_init__(self) -> None:
        for name in ("base", "per_step", "trap_per_step", "trap_cap"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")

    def slip(self, problem: Problem) -> float:
        """Probability that any one step of `problem` slips.

        Example: ErrorModel().slip(problem_with_5_steps) == 0.02 + 0.01 * 4 == 0.06
        """
        return min(1.0, self.base + self.per_step * (problem.steps - 1))

    def trap(self, problem: Problem) -> float:
        """Extra probability of the systematic error on the trap step (0 if there is none)."""
        if problem.steps < self.trap_min_steps:
            return 0.0
        return min(self.trap_cap, self.trap_per_step * problem.steps)


def trap_index(problem: Problem) -> int:
    """Which step of `problem` is its trap: fixed by the id, so every trace sees the same one."""
    return (problem.id * 7 + 3) % problem.steps


def misconception(op: Op, value: int) -> int:
    """The systematic wrong result at a trap: * read as +, or the operand off by one."""
    if op.kind == "*":
        return value + op.operand
    return Op(op.kind, op.operand + 1).apply(value)


@dataclass(frozen=True, slots=True)
class Step:
    """One written step: `before op = after`; `correct` means locally right given `before`."""

    index: int
    op: Op
    before: int
    after: int

    @property
    def correct(self) -> bool:
        return self.after == self.op.apply(self.before)

    def text(self) -> str:
        return f"{self.before} {self.op} = {self.after}"


@dataclass(frozen=True, slots=True)
class Trace:
    """A finished reasoning trace: its steps, its final answer and what it cost in tokens.

    `answer` is None when the trace has no answer line; `truncated` marks a trace cut off by
    its thinking budget, which then answers with whatever value it had reached.
    """

    problem_id: int
    steps: tuple[Step, ...]
    answer: int | None
    tokens: int
    revisions: int = 0
    truncated: bool = False

    @property
    def all_steps_correct(self) -> bool:
        return all(s.correct for s in self.steps)

    def text(self) -> str:
        lines = [s.text() for s in self.steps]
        return "\n".join([*lines, f"The answer is {self.answer}."])


@dataclass(frozen=True, slots=True)
class Solver:
    """Samples steps and traces for a problem; all randomness comes from the caller's rng."""

    errors: ErrorModel = ErrorModel()
    step_tokens: int = 15
    answer_tokens: int = 5

    def next_step(
        self, problem: Problem, index: int, before: int, rng: np.random.Generator
    ) -> Step:
        """Sample step `index` starting from the value `before` the trace holds."""
        if not 0 <= index < problem.steps:
            raise ValueError(f"step index must be in [0, {problem.steps}), got {index}")
        op = problem.ops[index]
        right = op.apply(before)
        u = float(rng.random())
        trap = self.errors.trap(problem) if index == trap_index(problem) else 0.0
        if u < trap:
            return Step(index, op, before, misconception(op, before))
        if u < trap + (1.0 - trap) * self.errors.slip(problem):
            return Step(index, op, before, right + int(rng.choice(_OFFSETS)))
        return Step(index, op, before, right)

    def continue_steps(
        self, problem: Problem, steps: Sequence[Step], rng: np.random.Generator
    ) -> list[Step]:
        """Sample the remaining steps after a partial trace `steps` (which may be empty)."""
        out = list(steps)
        value = out[-1].after if out else problem.start
        for index in range(len(out), problem.steps):
            step = self.next_step(problem, index, value, rng)
            out.append(step)
            value = step.after
        return out

    def finish(self, problem: Problem, steps: Sequence[Step], *, extra_tokens: int = 0) -> Trace:
        """A trace from complete steps: the answer is the last value, tokens are counted."""
        if len(steps) != problem.steps:
            raise ValueError(f"need {problem.steps} steps to finish, got {len(steps)}")
        tokens = len(steps) * self.step_tokens + self.answer_tokens + extra_tokens
        return Trace(problem.id, tuple(steps), steps[-1].after, tokens)

    def solve(self, problem: Problem, rng: np.random.Generator) -> Trace:
        """One sampled trace, start to answer: the "single sample" strategy.

        Example: Solver().solve(problem, np.random.default_rng(0)).answer
        """
        return self.finish(problem, self.continue_steps(problem, (), rng))

    def sample(self, problem: Problem, n: int, rng: np.random.Generator) -> list[Trace]:
        """`n` independent traces: the raw material of voting and best-of-n."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        return [self.solve(problem, rng) for _ in range(n)]

    def p_trace_correct(self, problem: Problem) -> float:
        """The exact chance that one trace is right (no slips, no trap), for checking."""
        slip = self.errors.slip(problem)
        trap = self.errors.trap(problem)
        ok_trap_step = (1.0 - trap) * (1.0 - slip)
        return float((1.0 - slip) ** (problem.steps - 1) * ok_trap_step)
