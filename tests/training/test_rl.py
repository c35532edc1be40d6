"""RL arithmetic: KL estimators against the exact KL (seeded Monte Carlo), GAE against the
definition, PPO's clip at its edges, GRPO and Dr. GRPO advantages by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from llmprep.training.rl import (
    gae,
    grpo_advantages,
    kl_divergence,
    kl_estimators,
    per_token_rewards,
    ppo_clip_objective,
)


def test_kl_estimators_by_hand() -> None:
    est = kl_estimators(np.log([0.5]), np.log([0.9]))  # r = q/p = 1.8
    assert est["k1"][0] == pytest.approx(-math.log(1.8))
    assert est["k2"][0] == pytest.approx(0.5 * math.log(1.8) ** 2)
    assert est["k3"][0] == pytest.approx(0.8 - math.log(1.8))
    same = kl_estimators(np.log([0.3, 0.7]), np.log([0.3, 0.7]))
    for k in ("k1", "k2", "k3"):
        np.testing.assert_allclose(same[k], 0.0, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_k1_and_k3_are_unbiased(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(6))
    q = rng.dirichlet(np.ones(6))  # far apart: KL of order 1
    exact = kl_divergence(p, q)
    x = rng.choice(6, size=200_000, p=p)
    est = kl_estimators(np.log(p[x]), np.log(q[x]))
    # the exact expectations over p first, then the seeded Monte Carlo within 4 std errors
    full = kl_estimators(np.log(p), np.log(q))
    assert float(p @ full["k1"]) == pytest.approx(exact, rel=1e-12)
    assert float(p @ full["k3"]) == pytest.approx(exact, rel=1e-12)
    for k in ("k1", "k3"):
        stderr = est[k].std() / math.sqrt(len(x))
        assert abs(est[k].mean() - exact) < 4 * stderr
    assert np.all(est["k3"] >= 0)  # k3 is never negative; k1 often is
    assert np.any(est["k1"] < 0)


def test_near_the_reference_k3_has_lower_variance_and_k2_little_bias() -> None:
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.ones(8))
    q = np.exp(np.log(p) + 0.2 * rng.standard_normal(8))
    q /= q.sum()  # close to p, as a policy is to its reference early in RL
    exact = kl_divergence(p, q)
    full = kl_estimators(np.log(p), np.log(q))

    def var(k: str) -> float:
        return float(p @ (full[k] - p @ full[k]) ** 2)

    assert var("k3") < var("k1") / 10
    assert float(p @ full["k2"]) == pytest.approx(exact, rel=0.1)  # biased, but slightly


def test_kl_divergence_by_hand() -> None:
    assert kl_divergence([0.5, 0.5], [0.9, 0.1]) == pytest.approx(
        0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    )
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf


def test_per_token_rewards_by_hand() -> None:
    out = per_token_rewards(1.0, [-1.0, -2.0, -0.5], [-1.2, -1.9, -0.8], beta=0.1)
    np.testing.assert_allclose(out, [-0.02, 0.01, 0.97])
    assert out.sum() == pytest.approx(1.0 - 0.1 * (0.2 - 0.1 + 0.3))
    np.testing.assert_allclose(per_token_rewards(2.0, [-1.0], [-1.0], beta=0.5), [2.0])


def _gae_by_definition(r: np.ndarray, v: np.ndarray, gamma: float, lam: float) -> np.ndarray:
    """A_t = sum_l (gamma lam)^l delta_{t+l}, summed directly (v has T + 1 entries)."""
    n = len(r)
    delta = [r[t] + gamma * v[t + 1] - v[t] for t in range(n)]
    return np.array(
        [sum((gamma * lam) ** (j - t) * delta[j] for j in range(t, n)) for t in range(n)]
    )


@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=12),
    st.floats(0, 1),
    st.floats(0, 1),
    st.integers(0, 2**16),
)
def test_gae_matches_the_definition(
    rewards: list[float], gamma: float, lam: float, seed: int
) -> None:
    r = np.array(rewards)
    v = np.random.default_rng(seed).normal(size=len(r) + 1)
    adv, ret = gae(r, v, gamma=gamma, lam=lam)
    np.testing.assert_allclose(adv, _gae_by_definition(r, v, gamma, lam), atol=1e-9)
    np.testing.assert_allclose(ret, adv + v[:-1], atol=1e-12)


def test_gae_hand_cases() -> None:
    # reward only at the end, as in RLHF; V(s_T) = 0
    adv, ret = gae([0.0, 0.0, 1.0], [0.5, 0.5, 0.5], gamma=1.0, lam=1.0)
    np.testing.assert_allclose(adv, [0.5, 0.5, 0.5])
    np.testing.assert_allclose(ret, [1.0, 1.0, 1.0])
    # lam = 0: one-step TD errors r_t + gamma V_{t+1} - V_t
    adv0, _ = gae([0.0, 0.0, 1.0], [0.2, 0.4, 0.7], gamma=1.0, lam=0.0)
    np.testing.assert_allclose(adv0, [0.2, 0.3, 0.3])
    # gamma 0.9, lam 0.5 by hand: deltas [0.16, 0.23, 0.3]; A_2 = 0.3,
    # A_1 = 0.23 + 0.45 * 0.3 = 0.365, A_0 = 0.16 + 0.45 * 0.365 = 0.32425
    adv1, _ = gae([0.0, 0.0, 1.0], [0.2, 0.4, 0.7], gamma=0.9, lam=0.5)
    deltas = [0.0 + 0.9 * 0.4 - 0.2, 0.0 + 0.9 * 0.7 - 0.4, 1.0 - 0.7]
    np.testing.assert_allclose(deltas, [0.16, 0.23, 0.3])
    np.testing.assert_allclose(adv1, [0.32425, 0.365, 0.3])
    # a bootstrap value for a cut-off episode
    adv2, _ = gae([1.0], [0.0, 2.0], gamma=0.5, lam=0.9)
    np.testing.assert_allclose(adv2, [2.0])


def test_ppo_clip_hand_cases() -> None:
    rho = np.array([0.5, 0.8, 1.0, 1.2, 1.5])
    # A > 0: the gain stops growing at 1 + eps; below 1 - eps nothing is clipped
    np.testing.assert_allclose(ppo_clip_objective(rho, np.ones(5)), [0.5, 0.8, 1.0, 1.2, 1.2])
    # A < 0: the objective stops improving at 1 - eps; above 1 + eps it keeps falling
    np.testing.assert_allclose(ppo_clip_objective(rho, -np.ones(5)), [-0.8, -0.8, -1.0, -1.2, -1.5])
    # exactly at the edges, clipped and unclipped agree
    assert ppo_clip_objective(1.2, 2.0) == pytest.approx(2.4)
    assert ppo_clip_objective(0.8, -2.0) == pytest.approx(-1.6)
    assert ppo_clip_objective(1.3, 2.0, eps=0.1) == pytest.approx(2.2)
    assert ppo_clip_objective(1.7, 0.0) == 0.0


@given(st.floats(0, 5), st.floats(-5, 5))
def test_ppo_clip_is_a_pessimistic_bound(rho: float, adv: float) -> None:
    value = float(ppo_clip_objective(rho, adv))
    assert value <= rho * adv + 1e-12
    assert value <= float(np.clip(rho, 0.8, 1.2)) * adv + 1e-12


def test_grpo_advantages_by_hand() -> None:
    np.testing.assert_allclose(grpo_advantages([1, 0, 0, 1]), [1, -1, -1, 1])
    s = math.sqrt(0.1875)
    np.testing.assert_allclose(grpo_advantages([1, 1, 1, 0]), [0.25 / s] * 3 + [-0.75 / s])
    np.testing.assert_allclose(
        grpo_advantages([1, 1, 1, 0], normalize_std=False), [0.25, 0.25, 0.25, -0.75]
    )
    np.testing.assert_allclose(
        grpo_advantages([1, 1, 1, 0], ddof=1), np.array([0.25, 0.25, 0.25, -0.75]) / 0.5
    )
    np.testing.assert_allclose(grpo_advantages([1, 1, 1, 1]), 0.0)  # no signal, no 0/0
    many = grpo_advantages([[1, 0, 0, 1], [2, 2, 2, 2], [3, 1, 2, 2]])
    assert many.shape == (3, 4)
    np.testing.assert_allclose(many[1], 0.0)
    np.testing.assert_allclose(many.mean(axis=1), 0.0, atol=1e-12)


@given(st.lists(st.floats(-10, 10), min_size=2, max_size=16))
@example([0.0, 5e-324])  # a spread at rounding-noise level counts as none
def test_grpo_advantages_center_and_scale(rewards: list[float]) -> None:
    adv = grpo_advantages(rewards)
    assert abs(adv.mean()) < 1e-9
    if np.std(rewards) > 1e-6:
        assert adv.std() == pytest.approx(1.0, rel=1e-6)
    # Dr. GRPO keeps the reward scale: doubling rewards doubles advantages
    np.testing.assert_allclose(
        grpo_advantages(np.array(rewards) * 2, normalize_std=False),
        2 * grpo_advantages(rewards, normalize_std=False),
        atol=1e-9,
    )


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="values must have 3 or 4"):
        gae([0, 0, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match="lam"):
        gae([1.0], [0.0], lam=1.5)
    with pytest.raises(ValueError, match="eps"):
        ppo_clip_objective(1.0, 1.0, eps=0.0)
    with pytest.raises(ValueError, match="ratio"):
        ppo_clip_objective(-1.0, 1.0)
    with pytest.raises(ValueError, match="G >= 2"):
        grpo_advantages([1.0])
    with pytest.raises(ValueError, match="beta"):
        per_token_rewards(1.0, [0.0], [0.0], beta=-1)
    with pytest.raises(ValueError, match="differ"):
        kl_estimators([0.0, 1.0], [0.0])


def test_bad_inputs_are_named_in_the_message() -> None:
    # the offending ratio is in the message, and NaN is rejected like a negative ratio
    with pytest.raises(ValueError, match=r"ratio .*got -0\.5"):
        ppo_clip_objective([1.0, -0.5, 2.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"ratio .*got nan"):
        ppo_clip_objective([float("nan")], [1.0])
    # beta = NaN or inf would silently turn every reward into NaN
    for beta in (float("nan"), float("inf"), -0.1):
        with pytest.raises(ValueError, match=rf"beta .*got {beta}"):
            per_token_rewards(1.0, [0.0, 0.1], [0.0, 0.0], beta=beta)
    assert per_token_rewards(1.0, [0.0], [0.0], beta=0.0).tolist() == [1.0]
    # ddof must leave at least one degree of freedom, and be an int
    for ddof in (2, 5, -1):
        with pytest.raises(ValueError, match=rf"ddof .*got {ddof}"):
            grpo_advantages([1.0, 0.0], ddof=ddof)
    for bad in (0.5, True, "1"):
        with pytest.raises(TypeError, match="ddof"):
            grpo_advantages([1.0, 0.0], ddof=bad)  # type: ignore[arg-type]
    np.testing.assert_allclose(grpo_advantages([1.0, 0.0], ddof=1), [0.7071, -0.7071], atol=1e-4)
    # ddof is checked even when the std is not used, so a typo cannot hide
    with pytest.raises(ValueError, match="ddof"):
        grpo_advantages([1.0, 0.0, 1.0], normalize_std=False, ddof=3)


def test_far_from_the_reference_k3_can_be_noisier_than_k1() -> None:
    p, q = np.array([0.9, 0.1]), np.array([0.1, 0.9])  # r = q/p is 1/9 or 9
    full = kl_estimators(np.log(p), np.log(q))
    var = {k: float(p @ (full[k] - p @ full[k]) ** 2) for k in ("k1", "k3")}
    assert var["k1"] == pytest.approx(0.09 * (2 * math.log(9)) ** 2)
    assert var["k3"] > var["k1"]
