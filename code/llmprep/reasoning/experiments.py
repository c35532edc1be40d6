"""The chapter's measurements: accuracy against compute for every strategy, on one task.

Every function takes the problems, the solver and the verifiers as arguments and a seed, and
returns plain numbers, so a figure or a table is a thin layer on top and a test can check the
same numbers. Per-problem randomness comes from `np.random.SeedSequence([seed, problem.id])`:
adding a problem does not change the samples of the others.

How each quantity is estimated, from a pool of `pool` traces per problem:

- **pass@k** (oracle: some sample is right): the unbiased estimator of Chen et al. 2021,
  `llmprep.production.evals.pass_at_k`, averaged over problems;
- **majority@k and best-of-k**: the mean over `subsets` random size-k subsets of the pool
  (seeded), so every k is judged on the same traces;
- **beam search** and **revision**: run directly, `repeats` times per problem.

Leaves out: confidence intervals (the figures show means over a few hundred problems; the
evaluation section computes the spread across samples), and wall-clock latency: cost here is
tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from llmprep.production.evals import pass_at_k
from llmprep.reasoning.revision import Reviewer, solve_with_budget
from llmprep.reasoning.sampling import Outcome, Scorer, best_of_n, majority
from llmprep.reasoning.search import beam_search
from llmprep.reasoning.solver import Solver, Trace
from llmprep.reasoning.task import Problem, check_answer
from llmprep.reasoning.verifiers import ProcessVerifier


def problem_rng(seed: int, problem: Problem, *salt: int) -> np.random.Generator:
    """The generator for one problem (and one experiment, via `salt`)."""
    return np.random.default_rng(np.random.SeedSequence([seed, problem.id, *salt]))


@dataclass(frozen=True, slots=True)
class Point:
    """One point of an accuracy-against-compute curve."""

    strategy: str
    setting: int  # n, k, beam width or thinking budget
    accuracy: float
    generated_tokens: float  # per problem
    verifier_tokens: float = 0.0  # per problem

    @property
    def tokens(self) -> float:
        return self.generated_tokens + self.verifier_tokens

    @property
    def tokens_per_solved(self) -> float:
        """Generated plus verifier tokens per correctly solved problem (inf if none)."""
        return self.tokens / self.accuracy if self.accuracy > 0 else float("inf")


def sample_pool(
    solver: Solver, problems: Sequence[Problem], pool: int, *, seed: int
) -> list[list[Trace]]:
    """`pool` independent traces for each problem."""
    return [solver.sample(p, pool, problem_rng(seed, p, 0)) for p in problems]


def _subsets(pool: int, k: int, subsets: int, rng: np.random.Generator) -> list[list[int]]:
    if not 1 <= k <= pool:
        raise ValueError(f"k must be in [1, {pool}], got {k}")
    if k == pool:
        return [list(range(pool))]
    return [sorted(rng.choice(pool, size=k, replace=False).tolist()) for _ in range(subsets)]


def pass_at(problems: Sequence[Problem], traces: Sequence[Sequence[Trace]], k: int) -> float:
    """Mean unbiased pass@k over problems: the oracle that picks a right sample if any."""
    scores = []
    for problem, pool in zip(problems, traces, strict=True):
        c = sum(check_answer(problem, t.answer) for t in pool)
        scores.append(pass_at_k(len(pool), c, k))
    return float(np.mean(scores))


def subset_curve(
    problems: Sequence[Problem],
    traces: Sequence[Sequence[Trace]],
    ks: Sequence[int],
    *,
    scorer: Scorer | None,
    name: str,
    seed: int,
    subsets: int = 16,
) -> list[Point]:
    """Majority@k (scorer None) or best-of-k (with a scorer) for each k, with its token cost."""
    # score every trace once; best_of_n then looks the scores up
    cached = [
        {id(t): scorer(problem, t) for t in pool} if scorer is not None else {}
        for problem, pool in zip(problems, traces, strict=True)
    ]
    points = []
    for k in ks:
        correct = generated = verified = 0.0
        count = 0
        for problem, pool, known in zip(problems, traces, cached, strict=True):
            rng = problem_rng(seed, problem, 1, k)

            def lookup(_: Problem, trace: Trace, known: dict[int, float] = known) -> float:
                return known[id(trace)]

            for idx in _subsets(len(pool), k, subsets, rng):
                chosen = [pool[i] for i in idx]
                out: Outcome = (
                    majority(chosen) if scorer is None else best_of_n(problem, chosen, lookup)
                )
                correct += check_answer(problem, out.answer)
                generated += out.generated_tokens
                verified += out.verifier_tokens
                count += 1
        points.append(Point(name, k, correct / count, generated / count, verified / count))
    return points


def pass_curve(
    problems: Sequence[Problem], traces: Sequence[Sequence[Trace]], ks: Sequence[int]
) -> list[Point]:
    """pass@k for each k, with the tokens of k samples (the oracle's verifier is free)."""
    mean_tokens = float(np.mean([t.tokens for pool in traces for t in pool]))
    return [Point("pass@k", k, pass_at(problems, traces, k), k * mean_tokens) for k in ks]


def beam_curve(
    solver: Solver,
    prm: ProcessVerifier,
    problems: Sequence[Problem],
    beams: Sequence[int],
    *,
    expand: int = 2,
    seed: int,
    repeats: int = 2,
) -> list[Point]:
    """Accuracy and cost of PRM-guided beam search for each beam width."""
    points = []
    for beam in beams:
        correct = generated = verified = 0.0
        runs = 0
        for problem in problems:
            rng = problem_rng(seed, problem, 2, beam)
            for _ in range(repeats):
                result = beam_search(solver, prm, problem, rng, beam=beam, expand=expand)
                correct += check_answer(problem, result.outcome.answer)
                generated += result.outcome.generated_tokens
                verified += result.outcome.verifier_tokens
                runs += 1
        points.append(
            Point("beam search (PRM)", beam, correct / runs, generated / runs, verified / runs)
        )
    return points


def budget_curve(
    solver: Solver,
    reviewer: Reviewer,
    problems: Sequence[Problem],
    budgets: Sequence[int],
    *,
    forced: bool = False,
    seed: int,
    repeats: int = 4,
) -> list[Point]:
    """Accuracy and mean tokens of sequential revision at each thinking budget."""
    name = "revision, forced" if forced else "revision"
    points = []
    for budget in budgets:
        correct = tokens = 0.0
        runs = 0
        for problem in problems:
            rng = problem_rng(seed, problem, 3, budget)
            for _ in range(repeats):
                trace = solve_with_budget(
                    solver, reviewer, problem, rng, budget=budget, forced=forced
                )
                correct += check_answer(problem, trace.answer)
                tokens += trace.tokens
                runs += 1
        points.append(Point(name, budget, correct / runs, tokens / runs))
    return points
