"""Drill: the DPO loss, from logits to a number you can train on.

"Direct preference optimization trains a policy on pairs of answers, one preferred
(chosen) and one not (rejected), against a frozen reference model. Compute each answer's
log-probability from the model's logits, then the DPO loss of each pair. It must stay
finite for any log-probabilities."

    margin = (log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))
    loss   = -log sigmoid(beta * margin)

numpy only. Grade it: make drill NAME=dpo-loss
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

type F64 = NDArray[np.float64]


def sequence_logprobs(
    logits: ArrayLike,
    labels: ArrayLike,
    mask: ArrayLike | None = None,
) -> F64:
    """Sum over t with mask[..., t] = 1 of log softmax(logits[..., t, :])[labels[..., t]].

    logits is (..., T, V) and already aligned with labels (..., T): row t predicts
    label t. mask (..., T) is 1 on answer tokens and 0 on prompt and padding (default:
    all ones). Returns one number per sequence, shape (...). Stable for large logits.
    Labels outside [0, V) or mismatched shapes are a ValueError.
    """
    raise NotImplementedError("drill dpo-loss: implement sequence_logprobs")


def dpo_loss(
    policy_chosen_logps: ArrayLike,
    policy_rejected_logps: ArrayLike,
    ref_chosen_logps: ArrayLike,
    ref_rejected_logps: ArrayLike,
    *,
    beta: float = 0.1,
) -> F64:
    """The loss of each pair (not the mean), from sequence log-probabilities.

    Must not overflow or return inf/nan even when beta times the margin is -5000 or
    +5000. beta <= 0 is a ValueError.
    """
    raise NotImplementedError("drill dpo-loss: implement dpo_loss")
