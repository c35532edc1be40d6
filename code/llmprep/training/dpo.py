"""DPO: preference tuning as a classification loss on log-probabilities, no reward model.

Direct preference optimization (Rafailov et al. 2023, arXiv:2305.18290) trains a policy
pi_theta on pairs (prompt x, chosen answer y_w, rejected answer y_l) against a frozen
reference pi_ref (usually the SFT model). With the log-ratios

    r_w = log pi_theta(y_w | x) - log pi_ref(y_w | x)
    r_l = log pi_theta(y_l | x) - log pi_ref(y_l | x)

the loss of one pair is

    L = -log sigmoid(beta (r_w - r_l))

the logistic loss of a Bradley-Terry preference model whose reward is beta times the
log-ratio, the *implicit reward* (`implicit_rewards`). It falls as the policy raises the
chosen answer relative to the reference faster than the rejected one. At the start
(pi_theta = pi_ref) every pair costs log 2 = 0.693. beta (typically 0.1) plays the role of
the KL penalty in RLHF: small beta lets the policy drift far from the reference.

The gradient (`dpo_gradients`) is

    dL/d log pi_theta(y_w) = -beta sigmoid(-beta (r_w - r_l)) = -dL/d log pi_theta(y_l)

so each pair pushes the chosen answer up and the rejected one down, weighted by how wrong
the implicit reward model currently is: a pair it already ranks correctly by a wide margin
contributes almost nothing.

subtle: computing log(sigmoid(z)) literally underflows to log(0) = -inf once z < -745 in
float64 (and far sooner in bf16); `log_sigmoid` uses -logaddexp(0, -z), which is exact in
both tails. The sequence log-probabilities come from `sequence_logprobs`: the sum of the
answer tokens' log-softmax, with the prompt's tokens masked out.

Leaves out: the relatives (IPO, KTO, ORPO, SimPO, length-normalized DPO), running the
policy and the reference model (here the log-probabilities are given), and batching tricks
such as precomputing the reference log-probabilities once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

type F64 = NDArray[np.float64]


def log_sigmoid(z: ArrayLike) -> F64:
    """log(1 / (1 + e^-z)) = -log(1 + e^-z), without overflow or log(0).

    Example: log_sigmoid([0.0, -1000.0, 1000.0]) -> [-0.6931, -1000.0, -0.0]
    """
    out: F64 = -np.logaddexp(0.0, -np.asarray(z, dtype=np.float64))
    return out


def sequence_logprobs(
    logits: ArrayLike,
    labels: ArrayLike,
    mask: ArrayLike | None = None,
) -> F64:
    """Sum of log p(label_t) over the positions the mask keeps: log pi(y | x) per sequence.

    logits is (..., T, V) and labels (..., T) int; `logits[..., t, :]` must be the model's
    prediction for `labels[..., t]` (shift before calling: logits[:, :-1] go with
    input_ids[:, 1:]). mask (..., T) is 1 on answer tokens and 0 on the prompt and padding:
    DPO compares the probabilities of the answers, not of the shared prompt.

    Example: uniform logits over 4 tokens, 3 answer tokens -> 3 log(1/4) = -4.159
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if z.shape[:-1] != y.shape:
        raise ValueError(f"logits {z.shape} and labels {y.shape} disagree on (..., T)")
    if y.size and (y.min() < 0 or y.max() >= z.shape[-1]):
        raise ValueError(f"labels must be token ids in [0, {z.shape[-1]})")
    shifted = z - z.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    keep = np.ones_like(picked) if mask is None else np.asarray(mask, dtype=np.float64)
    if keep.shape != picked.shape:
        raise ValueError(f"mask {keep.shape} must match labels {y.shape}")
    out: F64 = (picked * keep).sum(axis=-1)
    return out


def implicit_rewards(
    policy_logps: ArrayLike,
    ref_logps: ArrayLike,
    beta: float = 0.1,
) -> F64:
    """beta (log pi_theta(y) - log pi_ref(y)): the reward DPO's policy implicitly defines.

    TRL logs these as `rewards/chosen` and `rewards/rejected`; their difference is the
    margin, and the share of pairs with a positive margin is the reward accuracy.
    """
    policy, ref = np.asarray(policy_logps, np.float64), np.asarray(ref_logps, np.float64)
    out: F64 = beta * (policy - ref)
    return out


def _check(beta: float, label_smoothing: float) -> None:
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")


def dpo_logits(
    policy_chosen_logps: ArrayLike,
    policy_rejected_logps: ArrayLike,
    ref_chosen_logps: ArrayLike,
    ref_rejected_logps: ArrayLike,
    beta: float = 0.1,
) -> F64:
    """beta ((log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))), one per pair."""
    chosen = implicit_rewards(policy_chosen_logps, ref_chosen_logps, beta)
    rejected = implicit_rewards(policy_rejected_logps, ref_rejected_logps, beta)
    out: F64 = chosen - rejected
    return out


def dpo_loss(
    policy_chosen_logps: ArrayLike,
    policy_rejected_logps: ArrayLike,
    ref_chosen_logps: ArrayLike,
    ref_rejected_logps: ArrayLike,
    *,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
) -> F64:
    """The DPO loss of each pair: -log sigmoid(beta (r_w - r_l)); average it for a batch.

    Inputs are sequence log-probabilities (`sequence_logprobs`), one per pair. With
    label_smoothing eps > 0 (conservative DPO: a share eps of the labels assumed flipped) the
    loss is -(1 - eps) log sigmoid(m) - eps log sigmoid(-m), as TRL's "sigmoid" loss.

    Example: policy (-10, -12), reference (-11, -11), beta 0.5 -> margin 0.5 (1 - (-1)) = 1,
             loss -log sigmoid(1) = 0.3133
    """
    _check(beta, label_smoothing)
    m = dpo_logits(
        policy_chosen_logps,
        policy_rejected_logps,
        ref_chosen_logps,
        ref_rejected_logps,
        beta,
    )
    eps = label_smoothing
    out: F64 = -(1 - eps) * log_sigmoid(m) - eps * log_sigmoid(-m)
    return out


def dpo_gradients(
    policy_chosen_logps: ArrayLike,
    policy_rejected_logps: ArrayLike,
    ref_chosen_logps: ArrayLike,
    ref_rejected_logps: ArrayLike,
    *,
    beta: float = 0.1,
) -> tuple[F64, F64]:
    """dL/d log pi_theta(y_w) and dL/d log pi_theta(y_l), per pair (label_smoothing = 0).

    -beta sigmoid(-m) and +beta sigmoid(-m): a descent step raises the chosen answer's
    log-probability and lowers the rejected one's, by less the larger the margin m.
    """
    _check(beta, 0.0)
    m = dpo_logits(
        policy_chosen_logps,
        policy_rejected_logps,
        ref_chosen_logps,
        ref_rejected_logps,
        beta,
    )
    weight = beta * np.exp(log_sigmoid(-m))  # beta sigmoid(-m), stable for any m
    return -weight, weight
