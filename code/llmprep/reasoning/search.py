"""Verifier-guided search: a beam over partial traces, ranked by a process reward model.

Best-of-n only judges finished traces, so a trace that slips at step 2 is paid for to the
end. Step-level search judges *prefixes*: after each step it keeps the `beam` prefixes the
PRM likes best and expands each into `expand` candidate next steps:

    depth 0:  [start]
    depth 1:  beam x expand candidates -> PRM scores -> keep the best `beam`
    ...
    depth d:  the best finished prefix answers

This is the "beam search against a PRM" that Snell et al. (2024) compare with best-of-n:
it spends the same kind of tokens, but spends them on prefixes that still look right.

Leaves out: lookahead (scoring a prefix by rolling it out), diversity penalties between
beams (only exact duplicates are merged), and tree search with backtracking (MCTS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmprep.reasoning.sampling import Outcome
from llmprep.reasoning.solver import Solver, Step
from llmprep.reasoning.task import Problem
from llmprep.reasoning.verifiers import ProcessVerifier


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The answer, its cost, and the PRM score of the prefix that won."""

    outcome: Outcome
    score: float
    steps: tuple[Step, ...]


def beam_search(
    solver: Solver,
    prm: ProcessVerifier,
    problem: Problem,
    rng: np.random.Generator,
    *,
    beam: int = 4,
    expand: int = 2,
) -> SearchResult:
    """Step-level beam search; beam=1, expand=1 is a single sample judged step by step.

    Cost: every candidate step is generated (`step_tokens` each) and read by the PRM.
    """
    if beam < 1 or expand < 1:
        raise ValueError(f"beam and expand must be at least 1, got {beam}, {expand}")
    prefixes: list[tuple[Step, ...]] = [()]
    generated = 0
    for index in range(problem.steps):
        candidates: list[tuple[float, int, tuple[Step, ...]]] = []
        seen: set[tuple[Step, ...]] = set()
        for prefix in prefixes:
            value = prefix[-1].after if prefix else problem.start
            for _ in range(expand):
                step = solver.next_step(problem, index, value, rng)
                generated += solver.step_tokens
                new = (*prefix, step)
                if new in seen:  # a duplicate prefix would take two beam slots
                    continue
                seen.add(new)
                candidates.append((prm.prefix_score(problem, new), len(candidates), new))
        candidates.sort(key=lambda c: (-c[0], c[1]))
        prefixes = [c[2] for c in candidates[:beam]]
    best = prefixes[0]
    generated += solver.answer_tokens
    # the PRM reads each candidate step once when it is scored
    outcome = Outcome(best[-1].after, generated, verifier_tokens=generated - solver.answer_tokens)
    return SearchResult(outcome, prm.prefix_score(problem, best), best)
