"""The GRPO toy: exact pass@k, a gradient checked numerically, and the behaviors the chapter
reports (pass@1 up, pass@64 and entropy down; the loophole learned)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from llmprep.reasoning import grpo


def group_advantages(rewards: NDArray[np.float64]) -> NDArray[np.float64]:
    """A reference (r - mean) / std per group (row), zero for a group with no spread."""
    rows = []
    for r in rewards:
        s = r.std()
        rows.append((r - r.mean()) / s if s > 0 else np.zeros_like(r))
    return np.array(rows)


def test_the_default_advantages_are_grpo_s() -> None:
    task = grpo.make_task(problems=20, seed=2)
    a = grpo.train(task, steps=10)
    b = grpo.train(task, advantages=group_advantages, steps=10)
    np.testing.assert_allclose(a.policies, b.policies)


def test_exact_pass_at_k_by_hand() -> None:
    success = np.array([[0.5, 0.0], [0.0, 1.0]])
    pi = np.array([0.5, 0.5])
    # problem 0: p = 0.25; problem 1: p = 0.5
    assert grpo.pass_at_k_exact(pi, success, 1) == pytest.approx((0.25 + 0.5) / 2)
    assert grpo.pass_at_k_exact(pi, success, 2) == pytest.approx(((1 - 0.75**2) + (1 - 0.5**2)) / 2)
    assert grpo.entropy(np.array([0.5, 0.5])) == pytest.approx(np.log(2))


def test_surrogate_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    theta = rng.normal(size=4)
    pi_old = grpo.softmax(theta + 0.05 * rng.normal(size=4))
    actions = rng.integers(4, size=12)
    adv = rng.normal(size=12)

    def objective(th: NDArray[np.float64]) -> float:
        ratio = grpo.softmax(th)[actions] / pi_old[actions]
        return float(np.mean(np.minimum(ratio * adv, np.clip(ratio, 0.8, 1.2) * adv)))

    grad, _ = grpo._surrogate_grad(theta, pi_old, actions, adv, 0.2, 0.2)
    h = 1e-6
    numeric = [(objective(theta + h * e) - objective(theta - h * e)) / (2 * h) for e in np.eye(4)]
    assert grad == pytest.approx(numeric, abs=1e-6)


def test_grpo_sharpens_pass_at_1_and_narrows_pass_at_64() -> None:
    task = grpo.make_task()
    h = grpo.train(task, advantages=group_advantages, steps=80)
    p1, p64, ent = h.pass_at(task.success, 1), h.pass_at(task.success, 64), h.entropy()
    assert p1[-1] > p1[0] + 0.1
    assert p64[-1] < p64[0] - 0.1
    assert ent[-1] < 0.5 * ent[0]
    assert h.policies.shape == (81, len(grpo.STRATEGIES))
    np.testing.assert_allclose(h.policies.sum(axis=1), 1.0)


def test_the_policy_learns_the_loophole() -> None:
    task = grpo.make_task(loophole=True)
    h = grpo.train(task, advantages=group_advantages, steps=80)
    assert h.policies[-1][grpo.HEDGE] > 0.9
    assert h.mean_reward[-10:].mean() > h.mean_reward[:10].mean()
    assert h.pass_at(task.success, 1)[-1] < h.pass_at(task.success, 1)[0]


def test_training_is_deterministic_and_checks_input() -> None:
    task = grpo.make_task(problems=20, seed=1)
    a = grpo.train(task, advantages=group_advantages, steps=5)
    b = grpo.train(task, advantages=group_advantages, steps=5)
    np.testing.assert_array_equal(a.policies, b.policies)
    with pytest.raises(ValueError, match="group"):
        grpo.train(task, advantages=group_advantages, group=1)
    with pytest.raises(ValueError, match="got 0"):
        grpo.make_task(problems=0)


def test_a_term_is_clipped_only_past_the_bound_its_advantage_pushes_toward() -> None:
    ratio = np.array([1.3, 1.3, 0.7, 0.7, 1.3, 0.7])
    adv = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 0.0])
    clipped = grpo._clipped(ratio, adv, 0.2, 0.28)
    assert clipped.tolist() == [True, False, False, True, False, False]
    # a higher upper bound lets the positive-advantage term at 1.3 keep its gradient
    assert not grpo._clipped(ratio, adv, 0.2, 0.35)[0]


def test_history_records_how_often_the_clip_binds() -> None:
    task = grpo.make_task()
    slow = grpo.train(task, advantages=group_advantages, steps=40)
    fast = grpo.train(task, advantages=group_advantages, steps=40, lr=1.0)
    assert slow.clipped.shape == (40,)
    # at the default learning rate no update moves a ratio past 0.8 or 1.2 ...
    assert slow.clipped.max() == 0.0
    # ... and ten times faster some do, so the bounds matter only then
    assert fast.clipped.max() > 0.0
    wide = grpo.train(task, advantages=group_advantages, steps=40, lr=1.0, eps_high=10.0)
    assert wide.clipped.sum() < fast.clipped.sum()
