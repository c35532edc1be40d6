"""Sequential test-time compute: solve, re-check each step, redo what looks wrong, on a budget.

This is the loop a reasoning model runs inside one long chain of thought ("wait, let me check
step 3"), made explicit:

    1. solve the chain once (step_tokens per step);
    2. review: re-check the steps in order (check_tokens each). A wrong step is caught with
       probability `detect`; a right one is doubted with probability `false_alarm`;
    3. on a catch, redo that step and every step after it (fresh samples: a redo can slip
       again, and a trap can catch the solver twice);
    4. a review that flags nothing ends the thinking, unless `forced` (budget forcing: the
       model is told to "Wait" and keep checking until the budget is spent).

The **thinking budget** caps all of it. If it runs out before the first solve is finished,
the trace is cut and answers with the value it has reached, as when s1's budget forcing
(Muennighoff et al. 2025) stops thinking early. Extra budget buys reviews; false alarms are
how it can also *hurt*: doubting a right step and redoing it can introduce a slip, which is
the overthinking failure in miniature.

Leaves out: reviews that get better with practice, a verifier separate from the solver (here
the solver checks itself), and revisions that change the approach rather than one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmprep.reasoning.solver import Solver, Step, Trace
from llmprep.reasoning.task import Problem


@dataclass(frozen=True, slots=True)
class Reviewer:
    """How well the solver checks its own steps, and what a check costs."""

    detect: float = 0.6
    false_alarm: float = 0.03
    check_tokens: int = 6

    def __post_init__(self) -> None:
        for name in ("detect", "false_alarm"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if self.check_tokens < 1:
            raise ValueError(f"check_tokens must be at least 1, got {self.check_tokens}")


def solve_with_budget(
    solver: Solver,
    reviewer: Reviewer,
    problem: Problem,
    rng: np.random.Generator,
    *,
    budget: int,
    forced: bool = False,
    max_reviews: int = 50,
) -> Trace:
    """One trace that thinks for at most `budget` tokens (the answer line comes on top).

    Example: solve_with_budget(Solver(), Reviewer(), p, rng, budget=10**6).truncated is False
    """
    if budget < 0:
        raise ValueError(f"budget must be non-negative, got {budget}")
    spent = 0
    steps: list[Step] = []
    value = problem.start
    # 1. the first solve, cut off when the budget runs out
    for index in range(problem.steps):
        if spent + solver.step_tokens > budget:
            tokens = spent + solver.answer_tokens
            return Trace(problem.id, tuple(steps), value, tokens, truncated=True)
        step = solver.next_step(problem, index, value, rng)
        steps.append(step)
        value = step.after
        spent += solver.step_tokens
    # 2-4. reviews while the budget lasts
    revisions = 0
    for _ in range(max_reviews):
        flagged_any = False
        index = 0
        while index < len(steps):
            if spent + reviewer.check_tokens > budget:
                return _answer(solver, problem, steps, spent, revisions)
            spent += reviewer.check_tokens
            step = steps[index]
            doubt = reviewer.false_alarm if step.correct else reviewer.detect
            if float(rng.random()) < doubt:
                redo_cost = (len(steps) - index) * solver.step_tokens
                if spent + redo_cost > budget:
                    return _answer(solver, problem, steps, spent, revisions)
                steps = solver.continue_steps(problem, steps[:index], rng)
                spent += redo_cost
                revisions += 1
                flagged_any = True
            index += 1
        if not flagged_any and not forced:
            break
    return _answer(solver, problem, steps, spent, revisions)


def _answer(
    solver: Solver, problem: Problem, steps: list[Step], spent: int, revisions: int
) -> Trace:
    tokens = spent + solver.answer_tokens
    return Trace(problem.id, tuple(steps), steps[-1].after, tokens, revisions=revisions)
