"""DPO: hand-computed losses, stability in the tails, gradient signs and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.training.dpo import (
    dpo_gradients,
    dpo_logits,
    dpo_loss,
    implicit_rewards,
    log_sigmoid,
    sequence_logprobs,
)

logps = st.floats(-200.0, 0.0)


def test_hand_computed_cases() -> None:
    # policy == reference: margin 0, loss log 2 for any beta
    assert dpo_loss(-5.0, -7.0, -5.0, -7.0, beta=0.1) == pytest.approx(math.log(2))
    # chosen up by 1 nat, rejected down by 1 nat, beta 0.5: margin 0.5 * 2 = 1
    assert dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.5) == pytest.approx(
        math.log(1 + math.exp(-1))
    )
    # the wrong way round: margin -1
    assert dpo_loss(-12.0, -10.0, -11.0, -11.0, beta=0.5) == pytest.approx(
        math.log(1 + math.exp(1))
    )
    # beta 0.1, log-ratios +3 and -2: margin 0.5, loss 0.474077
    assert dpo_loss(-20.0, -32.0, -23.0, -30.0, beta=0.1) == pytest.approx(0.4740769841801067)


def test_the_loss_depends_only_on_the_difference_of_log_ratios() -> None:
    base = dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.3)
    assert dpo_loss(-10.0 + 4, -12.0 + 4, -11.0, -11.0, beta=0.3) == pytest.approx(base)
    assert dpo_loss(-10.0, -12.0, -11.0 - 3, -11.0 - 3, beta=0.3) == pytest.approx(base)


def test_vectorized_over_pairs_and_label_smoothing() -> None:
    pc, pr = np.array([-10.0, -12.0]), np.array([-12.0, -10.0])
    ref = np.array([-11.0, -11.0])
    losses = dpo_loss(pc, pr, ref, ref, beta=0.5)
    np.testing.assert_allclose(losses, [math.log1p(math.exp(-1)), math.log1p(math.exp(1))])
    smoothed = dpo_loss(pc, pr, ref, ref, beta=0.5, label_smoothing=0.1)
    np.testing.assert_allclose(smoothed, 0.9 * losses + 0.1 * losses[::-1])


def test_stable_in_both_tails() -> None:
    # margin -5000 and +5000: log(sigmoid(.)) computed literally gives inf and 0
    assert dpo_loss(-5000.0, 0.0, 0.0, 0.0, beta=1.0) == pytest.approx(5000.0)
    assert dpo_loss(0.0, -5000.0, 0.0, 0.0, beta=1.0) == 0.0
    np.testing.assert_allclose(log_sigmoid([0.0, -1000.0, 1000.0]), [-math.log(2), -1000.0, 0.0])


@given(logps, logps, logps, logps, st.floats(0.01, 2.0))
def test_loss_is_positive_and_the_logistic_loss_of_the_margin(
    pc: float, pr: float, rc: float, rr: float, beta: float
) -> None:
    loss = float(dpo_loss(pc, pr, rc, rr, beta=beta))
    margin = beta * ((pc - rc) - (pr - rr))
    assert loss >= 0.0
    assert loss == pytest.approx(math.log1p(math.exp(-margin)) if margin > -700 else -margin)
    assert float(dpo_logits(pc, pr, rc, rr, beta)) == pytest.approx(margin, abs=1e-9)


@given(logps, logps, logps, logps, st.floats(0.01, 2.0))
def test_gradient_signs_and_finite_differences(
    pc: float, pr: float, rc: float, rr: float, beta: float
) -> None:
    g_chosen, g_rejected = dpo_gradients(pc, pr, rc, rr, beta=beta)
    assert g_chosen <= 0 <= g_rejected  # raise the chosen answer, lower the rejected one
    assert g_chosen == pytest.approx(-g_rejected)
    assert abs(g_chosen) <= beta
    h = 1e-5
    numeric = dpo_loss(pc + h, pr, rc, rr, beta=beta) - dpo_loss(pc - h, pr, rc, rr, beta=beta)
    assert g_chosen == pytest.approx(numeric / (2 * h), abs=1e-6)


def test_gradient_fades_once_the_pair_is_ranked_right() -> None:
    small, _ = dpo_gradients(-10.0, -10.0, -10.0, -10.0, beta=0.1)
    large, _ = dpo_gradients(0.0, -100.0, -10.0, -10.0, beta=0.1)
    assert small == pytest.approx(-0.05)  # beta * sigmoid(0)
    assert abs(large) < 1e-4


def test_implicit_rewards() -> None:
    np.testing.assert_allclose(implicit_rewards([-10.0, -20.0], [-12.0, -19.0], 0.5), [1.0, -0.5])


def test_sequence_logprobs_sum_the_answer_tokens() -> None:
    logits = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]))
    labels = np.array([0, 2, 1])
    mask = np.array([0, 1, 1])  # the first token is the prompt
    assert sequence_logprobs(logits, labels, mask) == pytest.approx(math.log(0.7) + math.log(0.3))
    assert sequence_logprobs(logits, labels) == pytest.approx(math.log(0.5 * 0.7 * 0.3))
    batch = sequence_logprobs(np.stack([logits, logits + 5.0]), np.stack([labels, labels]))
    np.testing.assert_allclose(batch, [math.log(0.105)] * 2)  # shift-invariant logits
    assert sequence_logprobs(np.zeros((3, 4)), [0, 1, 2]) == pytest.approx(3 * math.log(0.25))


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(0.0, 0.0, 0.0, 0.0, beta=0.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        dpo_loss(0.0, 0.0, 0.0, 0.0, label_smoothing=0.5)
    with pytest.raises(ValueError, match="disagree"):
        sequence_logprobs(np.zeros((3, 4)), [0, 1])
    with pytest.raises(ValueError, match="token ids"):
        sequence_logprobs(np.zeros((2, 4)), [0, 4])
    with pytest.raises(ValueError, match="mask"):
        sequence_logprobs(np.zeros((2, 4)), [0, 1], [1, 1, 1])
