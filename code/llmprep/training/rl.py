"""The arithmetic of RL fine-tuning: KL estimates, KL-penalized rewards, GAE, PPO, GRPO.

Everything here works on numbers a trainer already has per generated token: the policy's
log-probability of the token, the reference (frozen SFT) model's, a value estimate, and one
reward-model or verifier score per answer.

- KL estimators (Schulman, "Approximating KL divergence", 2020, joschu.net/blog/kl-approx.html).
  With samples x ~ p and r = q(x) / p(x), three single-sample estimates of KL(p || q):
  k1 = -log r (unbiased, high variance, often negative), k2 = (log r)^2 / 2 (biased, low
  variance), k3 = (r - 1) - log r (unbiased, never negative, and low variance when p and q
  are close; far apart its variance can exceed k1's). The note writes KL[q, p] with x ~ q
  and r = p/q: the same thing with the names swapped. GRPO's KL term (Shao et al. 2024) is
  k3 with x ~ pi_theta and q = pi_ref.
- KL-penalized rewards, as in InstructGPT (Ouyang et al. 2022, arXiv:2203.02155): PPO
  maximizes r_RM(x, y) - beta log(pi(y|x) / pi_ref(y|x)). Per token, that is -beta times the
  log-ratio at every token plus the reward-model score at the last one (`per_token_rewards`).
- GAE (Schulman et al. 2016, arXiv:1506.02438, Sec. 3): with TD errors
  delta_t = r_t + gamma V(s_{t+1}) - V(s_t), the advantage is
  A_t = sum_l (gamma lambda)^l delta_{t+l}; lambda = 0 is the one-step TD error (low
  variance, biased by V), lambda = 1 is the Monte Carlo return minus V (unbiased, noisy).
- PPO's clipped surrogate (Schulman et al. 2017, arXiv:1707.06347):
  min(rho A, clip(rho, 1 - eps, 1 + eps) A), with rho = pi_new / pi_old. For A > 0 the gain
  stops at rho = 1 + eps; for A < 0 at rho = 1 - eps; moving the other way is never clipped.
- GRPO (Shao et al. 2024, DeepSeekMath, arXiv:2402.03300) drops the value model: sample a
  group of G answers per prompt and use A_i = (r_i - mean(r)) / std(r) for every token of
  answer i. Dr. GRPO (Liu et al. 2025, arXiv:2503.20783) removes the division by std (it
  up-weights prompts that are nearly always or nearly never solved) and the 1/|o_i|
  length normalization of the loss; `normalize_std=False` is its advantage.

Leaves out: the policy-gradient step itself, value-function training, reward models, PPO's
value and entropy losses, the pretraining mix of InstructGPT's PPO-ptx, and the loss
aggregation choices (per sequence, per token, Dr. GRPO's constant) the papers argue about.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

type F64 = NDArray[np.float64]


def _as_1d(x: ArrayLike, name: str) -> F64:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    return arr


def kl_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """Exact KL(p || q) = sum_x p(x) log(p(x) / q(x)) of two categoricals (0 log 0 = 0).

    Example: kl_divergence([0.5, 0.5], [0.9, 0.1]) -> 0.5108
    """
    pp, qq = _as_1d(p, "p"), _as_1d(q, "q")
    if pp.shape != qq.shape:
        raise ValueError(f"p and q differ in size: {pp.size} != {qq.size}")
    if np.any((pp > 0) & (qq <= 0)):
        return float("inf")
    mask = pp > 0
    return float(np.sum(pp[mask] * (np.log(pp[mask]) - np.log(qq[mask]))))


def kl_estimators(logp: ArrayLike, logq: ArrayLike) -> dict[str, F64]:
    """Schulman's k1, k2, k3 for each sample x ~ p, estimating KL(p || q).

    `logp` and `logq` are log p(x) and log q(x) at the sampled points. Average over samples
    to get the estimate; k1 and k3 average to the true KL, k2 only approximately.

    Example: logp = log 0.5, logq = log 0.9 (r = 1.8): k1 = -0.588, k2 = 0.173, k3 = 0.212
    """
    lp, lq = np.asarray(logp, dtype=np.float64), np.asarray(logq, dtype=np.float64)
    if lp.shape != lq.shape:
        raise ValueError(f"logp and logq differ in shape: {lp.shape} != {lq.shape}")
    log_r = lq - lp
    return {
        "k1": -log_r,
        "k2": 0.5 * log_r**2,
        "k3": np.expm1(log_r) - log_r,
    }


def per_token_rewards(
    reward: float, logp_policy: ArrayLike, logp_ref: ArrayLike, beta: float
) -> F64:
    """InstructGPT-style rewards for the tokens of one answer: -beta (log pi - log pi_ref)
    at every token, plus the reward-model score `reward` at the last token.

    Their sum is reward - beta x (k1 estimate of the sequence's KL to the reference).

    Example: reward 1.0, log-ratios [0.2, -0.1, 0.3], beta 0.1 -> [-0.02, 0.01, 0.97]
    """
    lp, lr = _as_1d(logp_policy, "logp_policy"), _as_1d(logp_ref, "logp_ref")
    if lp.shape != lr.shape:
        raise ValueError(f"logp_policy and logp_ref differ in shape: {lp.shape} != {lr.shape}")
    if not (beta >= 0.0 and math.isfinite(beta)):  # also rejects NaN
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    out: F64 = -beta * (lp - lr)
    out[-1] += reward
    return out


def gae(
    rewards: ArrayLike, values: ArrayLike, *, gamma: float = 1.0, lam: float = 0.95
) -> tuple[F64, F64]:
    """Generalized advantage estimates and returns (targets for the value function).

    `values` holds V(s_0) .. V(s_{T-1}), one per reward (the episode ends after the last
    token, so V(s_T) = 0), or T + 1 entries whose last is the bootstrap value V(s_T) of a
    cut-off episode. Computed backwards: A_t = delta_t + gamma lam A_{t+1}. Returns are
    A_t + V(s_t) (the TD(lambda) return).

    Example: rewards [0, 0, 1], values [0.5, 0.5, 0.5], gamma 1, lam 1
             -> advantages [0.5, 0.5, 0.5] (the return 1 minus V), returns [1, 1, 1]
    """
    r = _as_1d(rewards, "rewards")
    v = _as_1d(values, "values")
    if len(v) == len(r):
        v = np.append(v, 0.0)
    elif len(v) != len(r) + 1:
        raise ValueError(f"values must have {len(r)} or {len(r) + 1} entries, got {len(v)}")
    for name, x in (("gamma", gamma), ("lam", lam)):
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {x!r}")
    deltas = r + gamma * v[1:] - v[:-1]
    advantages = np.zeros_like(r)
    running = 0.0
    for t in range(len(r) - 1, -1, -1):
        running = deltas[t] + gamma * lam * running
        advantages[t] = running
    returns: F64 = advantages + v[:-1]
    return advantages, returns


def ppo_clip_objective(ratio: ArrayLike, advantage: ArrayLike, eps: float = 0.2) -> F64:
    """PPO's clipped surrogate per token, to maximize: min(rho A, clip(rho, 1-eps, 1+eps) A).

    Example (eps 0.2): rho 1.5, A = +1 -> 1.2 (capped); rho 0.5, A = +1 -> 0.5 (not capped);
             rho 0.5, A = -1 -> -0.8 (capped); rho 1.5, A = -1 -> -1.5 (not capped)
    """
    rho = np.asarray(ratio, dtype=np.float64)
    adv = np.asarray(advantage, dtype=np.float64)
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1), got {eps!r}")
    bad = ~(rho >= 0)  # negative or NaN
    if np.any(bad):
        raise ValueError(
            f"ratio must be >= 0 (it is pi_new / pi_old), got {float(rho[bad].flat[0])!r}"
        )
    out: F64 = np.minimum(rho * adv, np.clip(rho, 1.0 - eps, 1.0 + eps) * adv)
    return out


def grpo_advantages(rewards: ArrayLike, *, normalize_std: bool = True, ddof: int = 0) -> F64:
    """Group-relative advantages: (r_i - mean(r)) / std(r) within each group (last axis).

    `rewards` is one group (G,) or many (prompts, G). normalize_std=False is Dr. GRPO's
    r_i - mean(r). A group whose rewards are all equal gets zero advantages (it carries no
    learning signal) instead of 0 / 0, and so does one whose spread is below 1e-12 of its
    scale. DeepSeekMath does not say which standard deviation;
    `ddof=0` is the population one, `ddof=1` the sample one some libraries use.

    Example: [1, 0, 0, 1] -> [1, -1, -1, 1]; [1, 1, 1, 0] -> [0.577, 0.577, 0.577, -1.732];
             without std: [1, 1, 1, 0] -> [0.25, 0.25, 0.25, -0.75]
    """
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim not in (1, 2) or r.shape[-1] < 2:
        raise ValueError(f"rewards must be (G,) or (groups, G) with G >= 2, got {r.shape}")
    if isinstance(ddof, bool) or not isinstance(ddof, numbers.Integral):
        raise TypeError(f"ddof must be an int, got {ddof!r}")
    if not 0 <= ddof < r.shape[-1]:
        raise ValueError(f"ddof must be in [0, G) = [0, {r.shape[-1]}), got {ddof!r}")
    centered = r - r.mean(axis=-1, keepdims=True)
    if not normalize_std:
        return centered
    std = r.std(axis=-1, keepdims=True, ddof=ddof)
    # subtle: a spread at rounding-noise level (say rewards 0 and 5e-324) would blow up to
    # +-1 after dividing; treat it as no spread at all
    spread = std > 1e-12 * np.maximum(1.0, np.abs(r).max(axis=-1, keepdims=True))
    out: F64 = np.where(spread, centered / np.where(spread, std, 1.0), 0.0)
    return out
