"""The numbers and figures of the "Agent patterns" chapter.

Three computations, each small enough to read, and the figures that draw them:

- `failure_sweep`: run the scripted researcher (`llmprep.agents.demo`) against a search tool
  that fails at random (`demo.flaky`) over many seeded failure rates, with and without
  retries, and count the runs that end in a cited answer. Everything is scripted: the
  "model" is a rule, so the sweep measures the *runtime's* error handling, not a model.
- `pass_hat_k` / `pass_at_k`: the reliability metric of tau-bench (all k trials succeed)
  against the code-generation metric (at least one of k succeeds), from counts of trials.
- `agent_token_cost`: a transparent token model of a single agent, a supervisor with
  workers, and a hand-off chain, priced with `llmprep.core.pricing`. Every input is an
  explicit assumption (`CostAssumptions`), so the chapter can print them next to the result.

Leaves out: real model behaviour (a real model retries, rephrases or gives up in ways a
rule does not), latency, and prompt caching (which would cut the re-read input tokens).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import comb

import numpy as np
from matplotlib.figure import Figure

from llmprep.agents.demo import flaky, researcher
from llmprep.agents.loop import Budget, Run, run
from llmprep.agents.registry import ToolRegistry
from llmprep.agents.tools import AnyTool
from llmprep.book.plotting import PALETTE
from llmprep.core.pricing import price_of
from llmprep.prompting.passk import pass_at_k as pass_at_k  # re-exported

QUESTION = "What is few-shot prompting?"
MAX_CALLS = 20  # more tool calls than any run in the sweep can make


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


# -----------------------------------------------------------------------------
# task success under injected tool failures


@dataclass(frozen=True, slots=True)
class Policy:
    """How the agent handles a failed call: `retries` repeats, under a loop threshold."""

    label: str
    retries: int
    loop_threshold: int = 3


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One failure rate and policy: how many of `trials` runs ended in a cited answer."""

    policy: str
    rate: float
    trials: int
    successes: int
    stops: tuple[tuple[str, int], ...]  # stop reasons and their counts

    @property
    def success_rate(self) -> float:
        return self.successes / self.trials


def succeeded(result: Run) -> bool:
    """A run succeeds when it stops with an answer that cites a chunk ("... [id#n]")."""
    answer = result.answer or ""
    return result.stop_reason == "answer" and answer.endswith("]") and "#" in answer


def failing_calls(rate: float, seed: int, horizon: int = MAX_CALLS) -> set[int]:
    """Which call numbers (1-based) fail, each independently with probability `rate`.

    Example: failing_calls(0.0, 1) == set(); failing_calls(1.0, 1) == set(range(1, 21))
    """
    rng = random.Random(seed)
    return {i for i in range(1, horizon + 1) if rng.random() < rate}


async def failure_sweep(
    tool: AnyTool,
    rates: Sequence[float],
    policies: Sequence[Policy],
    trials: int,
    seed: int = 0,
) -> list[SweepPoint]:
    """Run `trials` seeded runs per (rate, policy); the same seeds for every policy.

    Using the same failure pattern for every policy makes the comparison paired: a policy
    can only differ from another in what it does after a failure.
    """
    points = []
    for policy in policies:
        budget = Budget(max_steps=8, loop_threshold=policy.loop_threshold)
        for rate in rates:
            ok, stops = 0, dict[str, int]()
            for trial in range(trials):
                fails = failing_calls(rate, seed * 1_000_003 + trial)
                tools = ToolRegistry([flaky(tool, fails)])
                result = await run(researcher(retries=policy.retries), tools, QUESTION, budget)
                ok += succeeded(result)
                stops[result.stop_reason] = stops.get(result.stop_reason, 0) + 1
            points.append(SweepPoint(policy.label, rate, trials, ok, tuple(sorted(stops.items()))))
    return points


def expected_success(rate: float, attempts: int) -> float:
    """Success if any of `attempts` independent calls works: 1 - rate ** attempts."""
    return 1 - rate**attempts


def success_vs_failure_rate(points: Sequence[SweepPoint], attempts: dict[str, int]) -> Figure:
    """Measured success rate per policy (markers) and 1 - r^attempts (dashed lines)."""
    fig = _new_figure()
    ax = fig.add_subplot()
    grid = np.linspace(0, 1, 101)
    for color, label in zip(PALETTE, dict.fromkeys(p.policy for p in points), strict=False):
        mine = [p for p in points if p.policy == label]
        ax.plot(
            [p.rate for p in mine],
            [p.success_rate for p in mine],
            "o-",
            color=color,
            label=label,
            markersize=5,
        )
        if label in attempts:
            n = attempts[label]
            ax.plot(grid, 1 - grid**n, "--", color=color, linewidth=1, alpha=0.8)
    ax.set_xlabel("Injected tool-failure rate (probability each call fails)")
    ax.set_ylabel("Task success rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    return fig


# -----------------------------------------------------------------------------
# pass^k and pass@k


def pass_hat_k(n: int, c: int, k: int) -> float:
    """tau-bench's pass^k for one task: the chance k of its n trials, drawn without
    replacement, all succeed, C(c, k) / C(n, k) (c of the n trials succeeded).

    Example: pass_hat_k(4, 2, 2) == 1 / 6
    """
    _check(n, c, k)
    return comb(c, k) / comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def pass_curves(ps: Sequence[float], ks: Sequence[int]) -> Figure:
    """pass^k = p^k (solid) and pass@k = 1 - (1 - p)^k (dashed) for per-trial rates `ps`.

    One color per p; the legend sits outside the axes, where no curve runs.
    """
    from matplotlib.lines import Line2D

    fig = _new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    k = np.asarray(ks)
    handles = []
    for color, p in zip(PALETTE, ps, strict=False):
        ax.plot(k, p**k, "o-", color=color, markersize=4)
        ax.plot(k, 1 - (1 - p) ** k, "--", color=color, linewidth=1.2)
        handles.append(Line2D([], [], color=color, marker="o", markersize=4, label=f"p = {p:g}"))
    handles += [
        Line2D([], [], color="0.3", label="pass$^k$ (all k succeed)"),
        Line2D([], [], color="0.3", linestyle="--", label="pass@k (any succeeds)"),
    ]
    ax.set_xlabel("k (trials of the same task)")
    ax.set_ylabel("Probability")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(ks))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return fig


# -----------------------------------------------------------------------------
# what multi-agent designs cost


@dataclass(frozen=True, slots=True)
class CostAssumptions:
    """Every number the token model uses, so the chapter can print them.

    A step is one model call: it reads the whole context so far and writes `output`
    tokens; a tool call then adds `tool_result` tokens to that context.
    """

    system: int = 1_500  # system prompt plus tool definitions, re-sent on every call
    task: int = 200  # the user's request
    output: int = 250  # tokens the model writes per step (reasoning and the call)
    tool_result: int = 1_500  # tokens each tool result adds to the context
    steps: int = 15  # steps of the single agent (as many tool calls as all workers together)
    workers: int = 3  # subagents under a supervisor
    worker_steps: int = 5  # steps of each worker
    brief: int = 300  # the supervisor's instructions to one worker
    report: int = 500  # what one worker sends back (its condensed findings)
    answer: int = 600  # the final answer


@dataclass(frozen=True, slots=True)
class DesignCost:
    design: str
    calls: int
    input_tokens: int
    output_tokens: int

    def usd(self, model: str) -> Decimal:
        return price_of(model).cost(self.input_tokens, self.output_tokens)


def _loop(start: int, steps: int, a: CostAssumptions) -> tuple[int, int]:
    """Input and output tokens of `steps` calls whose context starts at `start` tokens."""
    per_step = a.output + a.tool_result
    input_tokens = steps * start + per_step * steps * (steps - 1) // 2
    return input_tokens, steps * a.output


def agent_token_cost(a: CostAssumptions = CostAssumptions()) -> list[DesignCost]:
    """Tokens for one task under four designs (see `CostAssumptions`):

    - single agent: `steps` calls in one growing context, then the answer;
    - supervisor + workers, condensed reports: a planning call writes the briefs, each
      worker runs `worker_steps` in its own fresh context, its last step also writes a
      `report`, and the supervisor writes the answer from the reports;
    - supervisor + workers, full transcripts: the same, but each worker's whole context
      goes back to the supervisor instead of a report (no condensing);
    - hand-off chain: `workers` agents in turn, each taking over the full conversation so
      far (the "pass everything" hand-off) and running `worker_steps` calls.
    """
    single_in, single_out = _loop(a.system + a.task, a.steps, a)
    final_ctx = a.system + a.task + a.steps * (a.output + a.tool_result)
    single = DesignCost("single agent", a.steps + 1, single_in + final_ctx, single_out + a.answer)

    plan_in, plan_out = a.system + a.task, a.workers * a.brief
    w_in, w_out = _loop(a.system + a.brief, a.worker_steps, a)
    worker_ctx = a.system + a.brief + a.worker_steps * (a.output + a.tool_result)
    synth_in = a.system + a.task + plan_out + a.workers * a.report
    calls = 1 + a.workers * a.worker_steps + 1
    supervisor = DesignCost(  # a worker's last step writes its report as well
        "supervisor + workers (reports)",
        calls,
        plan_in + a.workers * w_in + synth_in,
        plan_out + a.workers * (w_out + a.report) + a.answer,
    )
    full_synth_in = a.system + a.task + plan_out + a.workers * worker_ctx
    transcripts = DesignCost(
        "supervisor + workers (full transcripts)",
        1 + a.workers * a.worker_steps + 1,
        plan_in + a.workers * w_in + full_synth_in,
        plan_out + a.workers * w_out + a.answer,
    )

    chain_in, chain_out, ctx = 0, 0, a.task
    for _ in range(a.workers):
        i, o = _loop(a.system + ctx, a.worker_steps, a)
        chain_in, chain_out = chain_in + i, chain_out + o
        ctx += a.worker_steps * (a.output + a.tool_result)
    chain = DesignCost(
        "hand-off chain (full context)",
        a.workers * a.worker_steps + 1,
        chain_in + a.system + ctx,
        chain_out + a.answer,
    )
    return [single, supervisor, transcripts, chain]
