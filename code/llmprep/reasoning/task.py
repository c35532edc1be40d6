"""A small arithmetic task with known answers: the test bed for every reasoning experiment.

A problem is a start value and a chain of operations applied left to right:

    start 7, then + 5, then * 3, then - 4   ->   7 + 5 = 12, 12 * 3 = 36, 36 - 4 = 32

Each operation is one reasoning *step*, so the number of operations is the problem's
difficulty: a longer chain gives more chances to slip (see `solver`). The answer is exact
integer arithmetic, so checking an answer is a *verifiable reward* in the sense of RLVR: no
judgment, no learned model, just `answer == problem.answer`.

Problems are generated from a seed, so every run of the chapter sees the same ones.

Leaves out: word problems (parsing is half of GSM8K's difficulty), division and fractions,
operator precedence (the chain is evaluated strictly left to right), and answers that need a
tolerance or a semantic match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

type OpKind = Literal["+", "-", "*"]

OP_KINDS: tuple[OpKind, ...] = ("+", "-", "*")


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of a chain, e.g. Op("*", 3) multiplies the running value by 3."""

    kind: OpKind
    operand: int

    def __post_init__(self) -> None:
        if self.kind not in OP_KINDS:
            raise ValueError(f"operation must be one of {OP_KINDS}, got {self.kind!r}")

    def apply(self, value: int) -> int:
        """The exact result of this operation on `value`.

        Example: Op("-", 4).apply(36) == 32
        """
        if self.kind == "+":
            return value + self.operand
        if self.kind == "-":
            return value - self.operand
        return value * self.operand

    def __str__(self) -> str:
        return f"{self.kind} {self.operand}"


@dataclass(frozen=True, slots=True)
class Problem:
    """A start value and a chain of operations; `answer` is computed, never stored."""

    id: int
    start: int
    ops: tuple[Op, ...]

    def __post_init__(self) -> None:
        if not self.ops:
            raise ValueError(f"problem {self.id} needs at least one operation, got none")

    @property
    def steps(self) -> int:
        """The number of reasoning steps, our measure of difficulty."""
        return len(self.ops)

    @property
    def answer(self) -> int:
        value = self.start
        for op in self.ops:
            value = op.apply(value)
        return value

    def text(self) -> str:
        """The problem as a prompt would state it.

        Example: Problem(0, 7, (Op("+", 5), Op("*", 3))).text() == "Start with 7, + 5, * 3."
        """
        return f"Start with {self.start}, " + ", ".join(str(op) for op in self.ops) + "."


def check_answer(problem: Problem, answer: int | None) -> bool:
    """The verifiable reward: True only for the exact answer (None, no answer, is wrong)."""
    return answer is not None and answer == problem.answer


def generate_problems(
    n: int, *, seed: int, min_steps: int = 2, max_steps: int = 10
) -> list[Problem]:
    """`n` problems with step counts spread evenly from `min_steps` to `max_steps`.

    Operands are small (2 to 9 for +/-, 2 or 3 for *) so values stay readable; the step count,
    not the size of the numbers, sets the difficulty.

    Example: [p.steps for p in generate_problems(3, seed=0, min_steps=2, max_steps=4)]
             == [2, 3, 4]
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 1 <= min_steps <= max_steps:
        raise ValueError(f"need 1 <= min_steps <= max_steps, got {min_steps}, {max_steps}")
    rng = np.random.default_rng(seed)
    span = max_steps - min_steps + 1
    problems = []
    for i in range(n):
        steps = min_steps + i % span
        ops = []
        for _ in range(steps):
            kind = OP_KINDS[int(rng.integers(3))]
            operand = int(rng.integers(2, 4)) if kind == "*" else int(rng.integers(2, 10))
            ops.append(Op(kind, operand))
        problems.append(Problem(i, int(rng.integers(1, 20)), tuple(ops)))
    return problems


def by_steps(problems: Sequence[Problem], steps: int) -> list[Problem]:
    """The problems with exactly `steps` operations."""
    return [p for p in problems if p.steps == steps]
