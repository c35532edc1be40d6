"""LoRA: identity at init, merge equals the adapted forward, gradients, parameter counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.training.lora import LoRALinear


def random_layer(seed: int, out_f: int = 6, in_f: int = 5, rank: int = 2) -> LoRALinear:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((out_f, in_f))
    bias = rng.standard_normal(out_f)
    layer = LoRALinear.init(w, rank=rank, alpha=2.0 * rank, rng=rng, bias=bias)
    # a trained adapter: B no longer zero
    return layer.with_adapter(layer.a, rng.standard_normal((out_f, rank)))


def test_init_is_the_base_layer() -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 4))
    layer = LoRALinear.init(w, rank=3, alpha=6, rng=rng)
    x = rng.standard_normal((5, 4))
    assert np.all(layer.b == 0)
    assert np.any(layer.a != 0)
    assert np.all(np.abs(layer.a) <= 1 / np.sqrt(4))  # PEFT's Kaiming-uniform bound
    np.testing.assert_array_equal(layer.forward(x), x @ w.T)
    np.testing.assert_array_equal(layer.merged_weight(), w)


@given(st.integers(0, 10_000), st.integers(1, 4), st.floats(0.5, 64))
def test_merged_forward_equals_unmerged_forward(seed: int, rank: int, alpha: float) -> None:
    rng = np.random.default_rng(seed)
    w, bias = rng.standard_normal((7, 5)), rng.standard_normal(7)
    layer = LoRALinear(
        w, rng.standard_normal((rank, 5)), rng.standard_normal((7, rank)), alpha, bias
    )
    x = rng.standard_normal((3, 5))
    np.testing.assert_allclose(x @ layer.merged_weight().T + bias, layer.forward(x), atol=1e-10)
    np.testing.assert_allclose(layer.merged_weight(), w + alpha / rank * layer.b @ layer.a)
    assert np.linalg.matrix_rank(layer.delta_weight()) <= rank


def test_forward_is_the_formula_and_handles_leading_axes() -> None:
    layer = random_layer(1)
    x = np.random.default_rng(2).standard_normal((2, 3, 5))
    assert layer.bias is not None
    base = x @ layer.weight.T + layer.bias
    expected = base + layer.alpha / layer.rank * x @ layer.a.T @ layer.b.T
    np.testing.assert_allclose(layer.forward(x), expected)
    assert layer.forward(x).shape == (2, 3, 6)


def test_parameter_counts() -> None:
    rng = np.random.default_rng(0)
    layer = LoRALinear.init(np.zeros((4096, 4096)), rank=8, alpha=16, rng=rng)
    assert layer.trainable_parameters == 8 * (4096 + 4096)
    assert layer.frozen_parameters == 4096 * 4096
    assert layer.frozen_parameters // layer.trainable_parameters == 256
    assert layer.scaling == 2.0


def test_gradients_match_finite_differences() -> None:
    layer = random_layer(3)
    rng = np.random.default_rng(4)
    x, target = rng.standard_normal((4, 5)), rng.standard_normal((4, 6))

    def loss(candidate: LoRALinear) -> float:
        return float(0.5 * np.sum((candidate.forward(x) - target) ** 2))

    grad_a, grad_b = layer.gradients(x, layer.forward(x) - target)
    eps = 1e-6
    for which, grad in (("a", grad_a), ("b", grad_b)):
        matrix = getattr(layer, which)
        numeric = np.zeros_like(matrix)
        for idx in np.ndindex(matrix.shape):
            up, down = matrix.copy(), matrix.copy()
            up[idx] += eps
            down[idx] -= eps
            adapters = {"a": layer.a, "b": layer.b}
            numeric[idx] = (
                loss(layer.with_adapter(**{**adapters, which: up}))
                - loss(layer.with_adapter(**{**adapters, which: down}))
            ) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_at_init_only_b_gets_a_gradient() -> None:
    rng = np.random.default_rng(5)
    layer = LoRALinear.init(rng.standard_normal((6, 5)), rank=2, alpha=4, rng=rng)
    grad_a, grad_b = layer.gradients(rng.standard_normal((3, 5)), rng.standard_normal((3, 6)))
    assert np.all(grad_a == 0)
    assert np.abs(grad_b).max() > 0


def test_gradient_descent_learns_a_low_rank_change() -> None:
    # The "fine-tuned" layer differs from the base by a rank-2 update; LoRA with r = 2 can
    # represent it exactly, so plain gradient descent on A and B drives the loss toward 0.
    rng = np.random.default_rng(6)
    w = rng.standard_normal((8, 6))
    true_delta = rng.standard_normal((8, 2)) @ rng.standard_normal((2, 6)) * 0.3
    x = rng.standard_normal((64, 6))
    target = x @ (w + true_delta).T
    layer = LoRALinear.init(w, rank=2, alpha=2, rng=rng)
    first = float(np.mean((layer.forward(x) - target) ** 2))
    for _ in range(1500):
        grad_a, grad_b = layer.gradients(x, (layer.forward(x) - target) / len(x))
        layer = layer.with_adapter(layer.a - 0.05 * grad_a, layer.b - 0.05 * grad_b)
    last = float(np.mean((layer.forward(x) - target) ** 2))
    assert last < 1e-3 * first
    np.testing.assert_allclose(layer.delta_weight(), true_delta, atol=0.05)


def test_bad_shapes_are_value_errors() -> None:
    rng = np.random.default_rng(0)
    w = np.zeros((4, 3))
    with pytest.raises(ValueError, match="rank"):
        LoRALinear.init(w, rank=0, alpha=1, rng=rng)
    with pytest.raises(ValueError, match="rank"):
        LoRALinear.init(w, rank=4, alpha=1, rng=rng)
    with pytest.raises(ValueError, match="A must be"):
        LoRALinear(w, np.zeros((2, 4)), np.zeros((4, 2)), 1.0)
    with pytest.raises(ValueError, match="bias"):
        LoRALinear(w, np.zeros((2, 3)), np.zeros((4, 2)), 1.0, np.zeros(3))
    with pytest.raises(ValueError, match="matrix"):
        LoRALinear.init(np.zeros(3), rank=1, alpha=1, rng=rng)
