"""Grader for the int8-quantization drill: scales, rounding, the error bound, zeros, matmul."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tests.drills.target import load

m = load("int8-quantization")
tensors = arrays(
    np.float64,
    array_shapes(min_dims=1, max_dims=3, max_side=6),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


def test_per_tensor_known_values() -> None:
    q, scale = m.quantize_absmax(np.array([0.5, -1.0, 0.1]))
    assert q.dtype == np.int8
    assert q.tolist() == [round(0.5 * 127), -127, round(0.1 * 127)]
    np.testing.assert_allclose(scale, [1 / 127])
    assert scale.shape == (1,)


def test_per_channel_scales_one_per_row() -> None:
    w = np.array([[1.0, -2.0, 0.5], [0.01, 0.02, -0.04]])
    q, scale = m.quantize_absmax(w, axis=0)
    assert scale.shape == (2, 1)
    np.testing.assert_allclose(scale[:, 0], [2 / 127, 0.04 / 127])
    assert q[0].tolist() == [64, -127, 32]
    assert q[1].tolist() == [32, 64, -127]
    _, col_scale = m.quantize_absmax(w, axis=1)
    assert col_scale.shape == (1, 3)
    np.testing.assert_allclose(col_scale[0], [1 / 127, 2 / 127, 0.5 / 127])


@given(tensors, st.data())
def test_round_trip_error_is_at_most_half_a_step(x: np.ndarray, data: st.DataObject) -> None:
    axis = data.draw(st.none() | st.integers(0, x.ndim - 1))
    q, scale = m.quantize_absmax(x, axis=axis)
    assert q.dtype == np.int8
    assert q.shape == x.shape
    assert np.abs(q.astype(int)).max(initial=0) <= 127
    step = np.broadcast_to(scale, x.shape)
    assert np.all(np.abs(x - m.dequantize(q, scale)) <= step / 2 * (1 + 1e-9))


@given(tensors)
def test_the_extremes_map_to_plus_minus_127(x: np.ndarray) -> None:
    q, _ = m.quantize_absmax(x, axis=0)
    rows = np.abs(x).reshape(x.shape[0], -1).max(axis=1)
    for i, peak in enumerate(rows):
        assert np.abs(q[i].astype(int)).max() == (127 if peak > 0 else 0)


def test_zeros_stay_zero_without_nan() -> None:
    q, scale = m.quantize_absmax(np.zeros((2, 3)))
    assert np.all(q == 0)
    np.testing.assert_array_equal(m.dequantize(q, scale), np.zeros((2, 3)))
    w = np.array([[0.0, 0.0], [3.0, -1.5]])
    q, scale = m.quantize_absmax(w, axis=0)
    out = m.dequantize(q, scale)
    assert not np.any(np.isnan(out))
    np.testing.assert_allclose(out, w, atol=3.0 / 127 / 2)


def test_per_channel_limits_the_damage_of_an_outlier() -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((16, 64)) * 0.02
    w[3, 5] = 2.0
    err_tensor = np.abs(w - m.dequantize(*m.quantize_absmax(w)))
    err_channel = np.abs(w - m.dequantize(*m.quantize_absmax(w, axis=0)))
    others = np.delete(np.arange(16), 3)
    assert err_channel[others].mean() < err_tensor[others].mean() / 10


def test_dequantize_returns_floats() -> None:
    out = m.dequantize(np.array([127, -64], dtype=np.int8), np.array([0.5]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [63.5, -32.0])


def test_int8_matmul_equals_the_dequantized_product() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 300)) * 3, rng.standard_normal((5, 300)) * 3
    x_q, x_s = m.quantize_absmax(x, axis=0)
    w_q, w_s = m.quantize_absmax(w, axis=0)
    got = m.int8_matmul(x_q, x_s, w_q, w_s)
    assert got.shape == (4, 5)
    # 300 products of up to 127 x 127 overflow int8 and int16: the sum needs int32
    exact = m.dequantize(x_q, x_s) @ m.dequantize(w_q, w_s).T
    np.testing.assert_allclose(got, exact, rtol=1e-9, atol=1e-9)
    assert np.abs(got - x @ w.T).max() < 0.03 * np.abs(x @ w.T).max()
    with pytest.raises(TypeError):
        m.int8_matmul(x_q.astype(np.int32), x_s, w_q, w_s)


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.quantize_absmax(np.zeros((2, 2)), axis=2)
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.quantize_absmax(np.array([1.0, np.inf]))
