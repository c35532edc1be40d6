"""Scaling laws: formulas, the compute-optimal split, and the published constants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.foundations.scaling import (
    BESIROGLU_2024,
    CHINCHILLA,
    KAPLAN,
    PF_DAY,
    chinchilla_loss,
    compute_optimal,
    kaplan_loss_c,
    kaplan_loss_d,
    kaplan_loss_n,
    kaplan_loss_nd,
    training_flops,
)

budgets = st.floats(1e18, 1e26)


def test_published_constants() -> None:
    assert (CHINCHILLA.E, CHINCHILLA.A, CHINCHILLA.B) == (1.69, 406.4, 410.7)
    assert (CHINCHILLA.alpha, CHINCHILLA.beta) == (0.34, 0.28)
    assert (KAPLAN.alpha_n, KAPLAN.n_c, KAPLAN.alpha_d, KAPLAN.d_c) == (
        0.076,
        8.8e13,
        0.095,
        5.4e13,
    )
    assert (KAPLAN.alpha_c, KAPLAN.c_c) == (0.050, 3.1e8)


def test_training_flops_is_six_n_d() -> None:
    assert training_flops(70e9, 1.4e12) == pytest.approx(5.88e23)  # Chinchilla
    assert training_flops(2.0, 3.0) == 36.0


def test_chinchilla_loss_falls_with_n_and_d_towards_e() -> None:
    assert chinchilla_loss(70e9, 1.4e12) == pytest.approx(1.937, abs=1e-3)
    assert chinchilla_loss(1e9, 1e12) > chinchilla_loss(2e9, 1e12)
    assert chinchilla_loss(1e9, 1e12) > chinchilla_loss(1e9, 2e12)
    assert chinchilla_loss(1e20, 1e24) == pytest.approx(CHINCHILLA.E, abs=1e-3)


@given(budgets)
def test_compute_optimal_spends_the_whole_budget(flops: float) -> None:
    opt = compute_optimal(flops)
    assert training_flops(opt.n_params, opt.n_tokens) == pytest.approx(flops, rel=1e-9)
    assert opt.loss == pytest.approx(chinchilla_loss(opt.n_params, opt.n_tokens))


@given(budgets)
def test_compute_optimal_minimises_loss_on_the_iso_flop_curve(flops: float) -> None:
    opt = compute_optimal(flops)
    n_grid = opt.n_params * np.logspace(-2, 2, 4001)
    losses = [chinchilla_loss(n, flops / (6 * n)) for n in n_grid]
    assert opt.loss <= min(losses) + 1e-12
    best = n_grid[int(np.argmin(losses))]
    assert best == pytest.approx(opt.n_params, rel=0.01)


def test_rounded_constants_ask_for_more_than_20_tokens_per_parameter() -> None:
    # the caveat in the module docstring: Approach 3's rounded fit disagrees with "20"
    assert compute_optimal(5.76e23).tokens_per_param > 50


def test_at_the_optimum_the_reducible_terms_balance() -> None:
    opt = compute_optimal(1e23)
    f = CHINCHILLA
    assert f.alpha * f.A / opt.n_params**f.alpha == pytest.approx(
        f.beta * f.B / opt.n_tokens**f.beta
    )


def test_optimal_n_and_d_grow_with_compute_at_the_fitted_exponents() -> None:
    small, big = compute_optimal(1e21), compute_optimal(1e23)
    a = CHINCHILLA.beta / (CHINCHILLA.alpha + CHINCHILLA.beta)
    assert big.n_params / small.n_params == pytest.approx(100**a)
    assert big.n_tokens / small.n_tokens == pytest.approx(100 ** (1 - a))
    assert 0.4 < a < 0.5  # N grows a little slower than D


def test_kaplan_power_laws() -> None:
    assert kaplan_loss_n(KAPLAN.n_c) == 1.0
    assert kaplan_loss_n(85e6) == pytest.approx(2.87, abs=0.01)
    # a 10x bigger model lowers the loss by a factor 10**-0.076
    assert kaplan_loss_n(1e10) / kaplan_loss_n(1e9) == pytest.approx(10**-0.076)
    assert kaplan_loss_d(1e10) / kaplan_loss_d(1e9) == pytest.approx(10**-0.095)
    assert kaplan_loss_c(KAPLAN.c_c * PF_DAY) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [0.0, -1e21])
def test_power_laws_reject_non_positive_sizes(bad: float) -> None:
    # 0 would divide by zero and a negative size to a fractional power is complex.
    for law in (kaplan_loss_n, kaplan_loss_d, kaplan_loss_c, compute_optimal):
        with pytest.raises(ValueError, match="must be positive"):
            law(bad)
    with pytest.raises(ValueError, match="n_params must be positive"):
        chinchilla_loss(bad, 1e12)
    with pytest.raises(ValueError, match="n_tokens must be positive"):
        kaplan_loss_nd(1e9, bad)


def test_kaplan_joint_law_reduces_to_l_of_n_with_unlimited_data() -> None:
    assert kaplan_loss_nd(1e9, 1e30) == pytest.approx(kaplan_loss_n(1e9), rel=1e-6)
    assert kaplan_loss_nd(1e9, 1e9) > kaplan_loss_nd(1e9, 1e11)


def test_besiroglu_refit_constants() -> None:
    # arXiv:2404.10102, their estimates table
    f = BESIROGLU_2024
    assert (f.E, f.A, f.B, f.alpha, f.beta) == (1.8172, 482.01, 2085.43, 0.3478, 0.3658)


def test_besiroglu_refit_reproduces_chinchilla_itself() -> None:
    # Chinchilla's budget, 6 x 70B x 1.4T = 5.88e23 FLOPs: the refit puts the optimum at
    # 73.0B parameters and 18.4 tokens per parameter (review 6.3), within 5% of Chinchilla's
    # 70B and 10% of its 20 tokens per parameter. The rounded published fit asks for 32B.
    opt = compute_optimal(5.88e23, BESIROGLU_2024)
    assert opt.n_params == pytest.approx(73.0e9, rel=0.005)
    assert opt.tokens_per_param == pytest.approx(18.4, abs=0.05)
    assert opt.n_params == pytest.approx(70e9, rel=0.05)
    assert opt.tokens_per_param == pytest.approx(20, rel=0.1)
    assert compute_optimal(5.88e23).n_params == pytest.approx(32.5e9, rel=0.01)


def test_refit_scales_n_and_d_almost_equally() -> None:
    # exponent a = beta / (alpha + beta) = 0.5126: Approaches 1 and 2 said about 0.5
    a = BESIROGLU_2024.beta / (BESIROGLU_2024.alpha + BESIROGLU_2024.beta)
    assert a == pytest.approx(0.5126, abs=1e-4)
    small, big = compute_optimal(1e21, BESIROGLU_2024), compute_optimal(1e25, BESIROGLU_2024)
    assert 17 < big.tokens_per_param < small.tokens_per_param < 22
