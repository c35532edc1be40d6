"""Grader for the dpo-loss drill: sequence log-probabilities and the loss, by hand and in the
tails, with the direction the gradient pushes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.drills.target import load

m = load("dpo-loss")
logps = st.floats(-300.0, 0.0)


def test_equal_policy_and_reference_cost_log_two() -> None:
    assert float(m.dpo_loss(-5.0, -9.0, -5.0, -9.0, beta=0.1)) == pytest.approx(math.log(2))
    assert float(m.dpo_loss(-5.0, -9.0, -5.0, -9.0, beta=3.0)) == pytest.approx(math.log(2))


def test_hand_computed_losses() -> None:
    # log-ratios +1 (chosen) and -1 (rejected), beta 0.5: margin 1
    assert float(m.dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.5)) == pytest.approx(
        math.log1p(math.exp(-1.0))
    )
    # log-ratios +3 and -2, default beta 0.1: margin 0.5
    assert float(m.dpo_loss(-20.0, -32.0, -23.0, -30.0)) == pytest.approx(
        math.log1p(math.exp(-0.5))
    )


def test_one_loss_per_pair() -> None:
    pc, pr = np.array([-10.0, -12.0, -7.0]), np.array([-12.0, -10.0, -7.0])
    ref = np.full(3, -11.0)
    losses = m.dpo_loss(pc, pr, ref, ref, beta=0.5)
    assert losses.shape == (3,)
    np.testing.assert_allclose(
        losses, [math.log1p(math.exp(-1.0)), math.log1p(math.exp(1.0)), math.log(2)]
    )


def test_finite_in_both_tails() -> None:
    high = float(m.dpo_loss(-5000.0, 0.0, 0.0, 0.0, beta=1.0))  # margin -5000
    low = float(m.dpo_loss(0.0, -5000.0, 0.0, 0.0, beta=1.0))  # margin +5000
    assert high == pytest.approx(5000.0)
    assert low == 0.0


@given(logps, logps, logps, logps, st.floats(0.01, 2.0))
def test_loss_is_the_logistic_loss_of_the_margin(
    pc: float, pr: float, rc: float, rr: float, beta: float
) -> None:
    margin = beta * ((pc - rc) - (pr - rr))
    expected = -margin if margin < -30 else math.log1p(math.exp(-margin))
    assert float(m.dpo_loss(pc, pr, rc, rr, beta=beta)) == pytest.approx(
        expected, rel=1e-9, abs=1e-12
    )


@given(logps, logps, logps, logps)
def test_raising_the_chosen_answer_lowers_the_loss(
    pc: float, pr: float, rc: float, rr: float
) -> None:
    before = float(m.dpo_loss(pc, pr, rc, rr, beta=0.1))
    assert float(m.dpo_loss(pc + 1.0, pr, rc, rr, beta=0.1)) <= before
    assert float(m.dpo_loss(pc, pr - 1.0, rc, rr, beta=0.1)) <= before
    assert float(m.dpo_loss(pc, pr, rc + 1.0, rr, beta=0.1)) >= before


def test_beta_must_be_positive() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.dpo_loss(0.0, 0.0, 0.0, 0.0, beta=0.0)


def test_sequence_logprobs_sum_the_masked_tokens() -> None:
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    labels = np.array([0, 2, 1])
    mask = np.array([0, 1, 1])
    got = float(m.sequence_logprobs(np.log(probs), labels, mask))
    assert got == pytest.approx(math.log(0.7 * 0.3))
    assert float(m.sequence_logprobs(np.log(probs), labels)) == pytest.approx(math.log(0.105))


def test_sequence_logprobs_are_batched_and_stable() -> None:
    logits = np.random.default_rng(0).standard_normal((2, 4, 5))
    labels = np.array([[1, 2, 3, 4], [0, 0, 1, 1]])
    out = m.sequence_logprobs(logits, labels)
    assert out.shape == (2,)
    shifted = m.sequence_logprobs(logits * 1 + 1e4, labels)  # softmax ignores a constant
    np.testing.assert_allclose(shifted, out, atol=1e-6)
    big = m.sequence_logprobs(logits * 1e3, labels)
    assert np.all(np.isfinite(big))
    assert np.all(big <= 0)


def test_sequence_logprobs_reject_bad_labels() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any clear message will do
        m.sequence_logprobs(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError):  # noqa: PT011
        m.sequence_logprobs(np.zeros((2, 3)), np.array([0, 1, 2]))
