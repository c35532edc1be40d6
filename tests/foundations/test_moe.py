"""MoE routing: gates, capacity, balancing losses, bias balancing, touch rates, parameters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.foundations.moe import (
    MIXTRAL_8X7B,
    QWEN3_235B_A22B,
    Expert,
    MoEShape,
    capacity_mask,
    expected_fraction_touched,
    expert_capacity,
    expert_load,
    moe_layer,
    moe_param_counts,
    route,
    router_z_loss,
    sigmoid_topk_gate,
    softmax_topk_gate,
    switch_aux_loss,
    update_bias,
)

ROUTERS = {  # (experts, top-k), from each model's config.json (see moe.py)
    "Mixtral-8x7B": (8, 2),
    "Qwen3-235B-A22B": (128, 8),
    "DeepSeek-V3": (256, 8),
    "gpt-oss-120b": (128, 4),
}


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


# -----------------------------------------------------------------------------
# gates


@settings(max_examples=50)
@given(seed=st.integers(0, 2**16), n_experts=st.integers(2, 16), data=st.data())
def test_softmax_gate_keeps_the_top_k_and_renormalises(
    seed: int, n_experts: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, n_experts))
    logits = np.random.default_rng(seed).standard_normal((5, n_experts))
    idx, w = softmax_topk_gate(logits, k)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    for row in range(5):
        kept = logits[row, idx[row]]
        assert kept.min() >= np.delete(logits[row], idx[row]).max(initial=-np.inf)
        # gpt-oss's form (softmax of the top-k logits) is the same thing
        np.testing.assert_allclose(w[row], softmax(kept), atol=1e-12)
    assert np.all(np.diff(w, axis=1) <= 0)  # best expert first


def test_sigmoid_gate_bias_changes_the_choice_not_the_weights() -> None:
    logits = np.array([[0.0, 1.0, 2.0]])
    idx, w = sigmoid_topk_gate(logits, 2, routed_scaling=2.5)
    assert idx.tolist() == [[2, 1]]
    s = 1 / (1 + np.exp(-logits[0]))
    np.testing.assert_allclose(w[0], 2.5 * s[[2, 1]] / s[[2, 1]].sum())
    idx_b, w_b = sigmoid_topk_gate(logits, 2, bias=np.array([5.0, 0.0, 0.0]))
    assert idx_b.tolist() == [[0, 2]]
    np.testing.assert_allclose(w_b[0], s[[0, 2]] / s[[0, 2]].sum())  # no bias inside


# -----------------------------------------------------------------------------
# capacity and the layer


def test_capacity_formula_and_first_choices_go_first() -> None:
    assert expert_capacity(16, 8, 2, 1.0) == 4
    assert expert_capacity(16, 8, 2, 1.25) == 5
    idx = np.array([[1, 0], [0, 1], [0, 2]])  # expert 0 is wanted three times, capacity 2
    keep = capacity_mask(idx, 3, capacity=2)
    # token 0's *second* choice loses to token 2's *first* choice
    assert keep.tolist() == [[True, False], [True, True], [True, True]]


@settings(max_examples=50)
@given(seed=st.integers(0, 2**16), cf=st.floats(0.1, 3.0))
def test_no_expert_ever_exceeds_its_capacity(seed: int, cf: float) -> None:
    logits = np.random.default_rng(seed).standard_normal((40, 8)) + np.linspace(0, 3, 8)  # skewed
    r = route(logits, 2, capacity_factor=cf)
    cap = expert_capacity(40, 8, 2, cf)
    assert expert_load(r.experts[r.kept], 8).max() <= cap
    assert np.all(r.weights[~r.kept] == 0)
    if cap >= 40:  # room for every token in every expert: nothing dropped
        assert r.kept.all()


def make_experts(rng: np.random.Generator, n: int, d: int = 6, h: int = 10) -> list[Expert]:
    return [
        Expert(
            rng.standard_normal((d, h)), rng.standard_normal((d, h)), rng.standard_normal((h, d))
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
def test_moe_layer_equals_a_per_token_loop_with_shared_experts(gate: str) -> None:
    rng = np.random.default_rng(1)
    x, logits = rng.standard_normal((12, 6)), rng.standard_normal((12, 5))
    experts, shared = make_experts(rng, 5), make_experts(rng, 1)
    r = route(logits, 2, gate="softmax" if gate == "softmax" else "sigmoid", capacity_factor=1.0)
    assert not r.kept.all()  # capacity 5 for 24 assignments over 5 experts: some drop
    y = moe_layer(x, r, experts, shared)
    for t in range(12):
        expected = shared[0](x[t : t + 1])[0]
        for slot in range(2):
            if r.kept[t, slot]:
                expected = (
                    expected + r.weights[t, slot] * experts[r.experts[t, slot]](x[t : t + 1])[0]
                )
        np.testing.assert_allclose(y[t], expected, atol=1e-10)


# -----------------------------------------------------------------------------
# balancing


def test_switch_loss_is_one_when_balanced_and_n_when_collapsed() -> None:
    uniform = np.full((8, 4), 0.25)
    balanced = np.array([[0, 1], [2, 3]] * 4)
    assert switch_aux_loss(uniform, balanced) == pytest.approx(1.0)
    collapsed = np.tile([1.0, 0.0, 0.0, 0.0], (8, 1))
    assert switch_aux_loss(collapsed, np.zeros((8, 1), dtype=np.int64)) == pytest.approx(4.0)


def test_switch_loss_is_hf_mixtral_loss_divided_by_k() -> None:
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((50, 8))
    r = route(logits, 2)
    # transformers' load_balancing_loss_func: f per choice rank (k, E), summed over ranks
    tokens_per_expert = np.eye(8)[r.experts].mean(axis=0)
    hf = 8 * np.sum(tokens_per_expert * r.probs.mean(axis=0)[None])
    assert switch_aux_loss(r.probs, r.experts) == pytest.approx(hf / 2)


def test_router_z_loss_is_mean_squared_logsumexp() -> None:
    assert router_z_loss(np.zeros((3, 8))) == pytest.approx(np.log(8) ** 2)
    logits = np.random.default_rng(3).standard_normal((4, 5))
    assert router_z_loss(logits) == pytest.approx(np.mean(np.log(np.exp(logits).sum(axis=1)) ** 2))
    assert router_z_loss(logits + 10) > router_z_loss(logits)


def test_bias_update_moves_against_the_load_error() -> None:
    np.testing.assert_allclose(update_bias(np.zeros(3), np.array([6, 3, 0]), 0.1), [-0.1, 0.0, 0.1])


def test_aux_loss_free_bias_balances_a_skewed_router() -> None:
    """DeepSeek-V3's loop: route with the bias, count the load, nudge the bias, repeat."""
    rng = np.random.default_rng(4)
    n_experts, k, gamma = 16, 2, 0.01
    skew = np.linspace(-2, 2, n_experts)  # the router prefers high-numbered experts

    def imbalance(bias: np.ndarray, logits: np.ndarray) -> float:
        load = expert_load(route(logits, k, "sigmoid", bias).experts, n_experts)
        return float(load.max() / load.mean())

    bias = np.zeros(n_experts)
    fresh = rng.standard_normal((256, n_experts)) + skew
    before = imbalance(bias, fresh)
    for _ in range(300):
        logits = rng.standard_normal((256, n_experts)) + skew
        bias = update_bias(
            bias, expert_load(route(logits, k, "sigmoid", bias).experts, n_experts), gamma
        )
    after = imbalance(bias, fresh)
    assert before > 3.0
    assert after < 1.5
    assert bias[0] > bias[-1]  # the unpopular experts were pushed up


# -----------------------------------------------------------------------------
# what a batch touches, and parameter counts


def simulate_fraction_touched(n: int, k: int, tokens: int, trials: int, seed: int) -> np.ndarray:
    """Per trial: each token picks k distinct experts uniformly; share of experts picked."""
    rng = np.random.default_rng(seed)
    picks = np.argsort(rng.random((trials, tokens, n)), axis=-1)[..., :k]
    touched = np.zeros((trials, n), dtype=bool)
    for t in range(trials):
        touched[t, picks[t].ravel()] = True
    out: np.ndarray = touched.mean(axis=1)
    return out


@pytest.mark.parametrize("model", list(ROUTERS))
@pytest.mark.parametrize("tokens", [8, 32])
def test_fraction_touched_matches_monte_carlo(model: str, tokens: int) -> None:
    n, k = ROUTERS[model]
    sim = simulate_fraction_touched(n, k, tokens, trials=400, seed=tokens)
    standard_error = sim.std() / np.sqrt(len(sim)) + 1e-6
    assert abs(sim.mean() - expected_fraction_touched(n, k, tokens)) < 4 * standard_error


def test_the_reviews_touch_table() -> None:
    """foundations-review.md 3.4, rounded to two places as the review prints it."""
    table = {
        "Mixtral-8x7B": (0.90, 1.00, 1.00),
        "Qwen3-235B-A22B": (0.40, 0.87, 1.00),
        "DeepSeek-V3": (0.22, 0.64, 0.98),
        "gpt-oss-120b": (0.22, 0.64, 0.98),  # k/n = 1/32, as DeepSeek-V3
    }
    for model, row in table.items():
        n, k = ROUTERS[model]
        assert tuple(round(expected_fraction_touched(n, k, t), 2) for t in (8, 32, 128)) == row


def test_mixtral_is_46_7b_total_12_9b_active() -> None:
    total, active = moe_param_counts(MIXTRAL_8X7B)
    assert round(total / 1e9, 1) == 46.7  # the Mixtral paper's numbers
    assert round(active / 1e9, 1) == 12.9
    assert total < 8 * 7.24e9  # not 8 x Mistral-7B: attention and embeddings are shared


def test_qwen3_235b_has_22b_active() -> None:
    total, active = moe_param_counts(QWEN3_235B_A22B)
    assert round(total / 1e9) == 235
    assert round(active / 1e9) == 22


def test_param_counts_on_a_hand_computed_shape_with_shared_and_dense_layers() -> None:
    s = MoEShape(
        vocab_size=10,
        d_model=4,
        n_layers=3,
        n_heads=2,
        n_kv_heads=1,
        head_dim=2,
        n_experts=4,
        top_k=2,
        d_expert=3,
        n_shared=1,
        n_dense_layers=1,
        d_dense=5,
    )
    attn = 4 * 2 * (2 * 2 + 2 * 1) + 2 * 4  # q, o: 4x4 each; k, v: 4x2 each; two norms -> 56
    expert = 3 * 4 * 3  # 36
    always = 3 * attn + 3 * 4 * 5 + 2 * (4 * 4 + expert) + 2 * 10 * 4 + 4  # 168+60+104+80+4
    assert moe_param_counts(s) == (always + 2 * 4 * expert, always + 2 * 2 * expert)
    assert moe_param_counts(s) == (704, 560)
