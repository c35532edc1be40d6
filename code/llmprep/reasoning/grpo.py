"""A GRPO toy: RL from verifiable rewards on a policy that picks one of a few strategies.

The policy is a softmax over six named strategies (logits `theta`); each problem is solved
by a strategy with a known probability `success[problem, strategy]`. Problems come in
types: one general method solves most types some of the time, specialist strategies solve
one rare type each, and nothing else does. That is the structure behind the finding of Yue
et al. (2025): RL with verifiable rewards raises pass@1 by concentrating probability on what
already works most often, and in doing so can lose the rare strategies that solved the
problems nothing else solves, so pass@k at large k *falls* while entropy collapses.

One training step is GRPO without a value model (Shao et al. 2024):

    for each of `batch` problems: sample a group of `group` strategies from the old policy,
    draw each one's 0/1 reward, turn rewards into group-relative advantages
    (`llmprep.training.rl.grpo_advantages`, or Dr. GRPO's variant without the std);
    then take `epochs` gradient steps on the clipped surrogate
    min(r A, clip(r, 1 - eps_low, 1 + eps_high) A),  r = pi(a) / pi_old(a).

`eps_high > eps_low` is DAPO's "clip-higher" (Yu et al. 2025), meant to let unlikely
strategies with positive advantage grow before entropy collapses. A bound only acts when an
update moves a ratio past it, so `History.clipped` records how often that happened: at the
default learning rate, never.

`reward` can differ from `success`: with `loophole=True` the verifier pays the "hedge"
strategy (list several candidate answers) whenever the right number is among them, although
that is almost never a correct answer. The policy learns the loophole: the reward it is
trained on rises while its true accuracy falls.

Leaves out: tokens (a strategy is one action, so there is no length bias to correct and no
KL penalty to a reference), a learned reward model, and any generalization between
problems: the policy has six numbers, not a network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from llmprep.training.rl import grpo_advantages

type Advantages = Callable[[NDArray[np.float64]], NDArray[np.float64]]
"""(groups, G) rewards -> advantages of the same shape, e.g. training.rl.grpo_advantages."""

STRATEGIES: tuple[str, ...] = (
    "general method",
    "case analysis",
    "work backwards",
    "invariant",
    "brute force",
    "hedge (list candidates)",
)
HEDGE = len(STRATEGIES) - 1
_TYPE_SHARES = np.array([0.45, 0.2, 0.15, 0.1, 0.1])  # problem types 0..4
_BASE_POLICY = np.array([0.3, 0.15, 0.15, 0.15, 0.15, 0.1])
LEARNING_RATE = 0.1  # the default step; small enough that one step never moves a ratio 20%
EPOCHS = 4  # gradient passes over each step's samples
CLIP_EPS = 0.2  # PPO's symmetric clip range, the default for both bounds


@dataclass(frozen=True, slots=True)
class StrategyTask:
    """True success and verifier-reward probabilities, one row per problem."""

    success: NDArray[np.float64]  # (problems, strategies)
    reward: NDArray[np.float64]  # what the verifier pays; == success without a loophole


def make_task(*, problems: int = 80, seed: int = 0, loophole: bool = False) -> StrategyTask:
    """Problems of five types. The general method solves types 0-2 with probability 0.45;
    specialist j (1-4) solves type j with 0.5 and anything else with 0.03; the hedge is
    right with 0.02 (and, with `loophole`, paid with 0.8).
    """
    if problems < 1:
        raise ValueError(f"problems must be at least 1, got {problems}")
    rng = np.random.default_rng(seed)
    types = rng.choice(len(_TYPE_SHARES), size=problems, p=_TYPE_SHARES)
    success = np.full((problems, len(STRATEGIES)), 0.03)
    success[:, 0] = np.where(types <= 2, 0.45, 0.0)
    for j in range(1, 5):
        success[types == j, j] = 0.5
    success[:, HEDGE] = 0.02
    reward = success.copy()
    if loophole:
        reward[:, HEDGE] = 0.8
    return StrategyTask(success, reward)


def softmax(theta: NDArray[np.float64]) -> NDArray[np.float64]:
    z = np.exp(theta - theta.max())
    return np.asarray(z / z.sum(), dtype=np.float64)


def entropy(pi: NDArray[np.float64]) -> float:
    """Entropy of the policy in nats (log 6 = 1.79 for a uniform choice of six)."""
    p = pi[pi > 0]
    return float(-(p * np.log(p)).sum())


def pass_at_k_exact(pi: NDArray[np.float64], success: NDArray[np.float64], k: int) -> float:
    """Exact mean pass@k of the policy: 1 - (1 - P(solve))^k per problem, averaged."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    p = success @ pi
    return float(np.mean(1.0 - (1.0 - p) ** k))


@dataclass(frozen=True, slots=True)
class History:
    """One row per training step (row 0 is the policy before training)."""

    policies: NDArray[np.float64]  # (steps + 1, strategies)
    mean_reward: NDArray[np.float64]  # what the verifier paid on each step's samples
    ks: tuple[int, ...]
    clipped: NDArray[np.float64]  # per step: share of surrogate terms the clip switched off

    def entropy(self) -> NDArray[np.float64]:
        return np.array([entropy(pi) for pi in self.policies])

    def pass_at(self, success: NDArray[np.float64], k: int) -> NDArray[np.float64]:
        return np.array([pass_at_k_exact(pi, success, k) for pi in self.policies])


def _clipped(
    ratio: NDArray[np.float64], adv: NDArray[np.float64], eps_low: float, eps_high: float
) -> NDArray[np.bool_]:
    """Which terms the clip switches off: a ratio already past the bound on the side its
    advantage pushes toward (above 1 + eps_high for A > 0, below 1 - eps_low for A < 0)."""
    return np.where(adv > 0, ratio >= 1 + eps_high, (adv < 0) & (ratio <= 1 - eps_low))


def _surrogate_grad(
    theta: NDArray[np.float64],
    pi_old: NDArray[np.float64],
    actions: NDArray[np.int64],
    adv: NDArray[np.float64],
    eps_low: float,
    eps_high: float,
) -> tuple[NDArray[np.float64], float]:
    """Gradient of mean_i min(r_i A_i, clip(r_i) A_i) for a softmax policy, and the share of
    terms the clip switched off (what `History.clipped` records).

    d r / d theta = r (onehot(a) - pi); a clipped term has zero gradient.
    """
    pi = softmax(theta)
    ratio = pi[actions] / pi_old[actions]
    clipped = _clipped(ratio, adv, eps_low, eps_high)
    weight = np.where(clipped, 0.0, adv * ratio)
    onehot = np.zeros((len(actions), len(theta)))
    onehot[np.arange(len(actions)), actions] = 1.0
    grad = (weight[:, None] * (onehot - pi[None, :])).mean(axis=0)
    return np.asarray(grad, dtype=np.float64), float(clipped.mean())


def train(
    task: StrategyTask,
    *,
    advantages: Advantages = grpo_advantages,
    steps: int = 150,
    batch: int = 16,
    group: int = 8,
    epochs: int = EPOCHS,
    lr: float = LEARNING_RATE,
    eps_low: float = CLIP_EPS,
    eps_high: float = CLIP_EPS,
    seed: int = 0,
    ks: Sequence[int] = (1, 8, 64),
) -> History:
    """Run GRPO from the base policy and record the policy after every step."""
    if steps < 1 or batch < 1 or group < 2 or epochs < 1:
        raise ValueError(
            f"need steps, batch, epochs >= 1 and group >= 2, got {steps}, {batch}, {group}, "
            f"{epochs}"
        )
    rng = np.random.default_rng(seed)
    theta = np.log(_BASE_POLICY)
    policies = [softmax(theta)]
    rewards_seen = []
    clipped_seen = []
    n_problems = task.success.shape[0]
    for _ in range(steps):
        pi_old = softmax(theta)
        problems = rng.integers(n_problems, size=batch)
        actions = rng.choice(len(theta), size=(batch, group), p=pi_old)
        paid = rng.random((batch, group)) < task.reward[problems[:, None], actions]
        rewards = paid.astype(np.float64)
        adv = np.asarray(advantages(rewards), dtype=np.float64).reshape(-1)
        flat = actions.reshape(-1).astype(np.int64)
        clipped = 0.0
        for _ in range(epochs):
            grad, share = _surrogate_grad(theta, pi_old, flat, adv, eps_low, eps_high)
            theta = theta + lr * grad
            clipped += share / epochs
        policies.append(softmax(theta))
        rewards_seen.append(float(rewards.mean()))
        clipped_seen.append(clipped)
    return History(np.array(policies), np.array(rewards_seen), tuple(ks), np.array(clipped_seen))
