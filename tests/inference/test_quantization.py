"""Absmax quantization: the error bound, per-channel scales, zero tensors, the int8 matmul."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from llmprep.inference.quantization import (
    absmax_scale,
    dequantize,
    int8_matmul,
    qmax,
    quantization_error,
    quantize_absmax,
)

tensors = arrays(
    np.float64,
    array_shapes(min_dims=1, max_dims=3, max_side=6),
    # Magnitudes near the bottom of float64 are left out: max|x| / 127 then underflows into
    # the subnormal range, where the scale itself loses precision and the bound stops holding.
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False).filter(
        lambda v: v == 0 or abs(v) > 1e-200
    ),
)


def test_known_values() -> None:
    q, scale = quantize_absmax([0.5, -1.0, 0.25])
    assert q.dtype == np.int8
    assert q.tolist() == [64, -127, 32]  # 63.5 rounds to the even 64
    assert scale.shape == (1,)
    assert scale[0] == pytest.approx(1 / 127)
    assert qmax(8) == 127
    assert qmax(4) == 7


@given(tensors, st.sampled_from([8, 4]), st.data())
def test_error_is_at_most_half_a_step(x: np.ndarray, bits: int, data: st.DataObject) -> None:
    axis = data.draw(st.none() | st.integers(0, x.ndim - 1))
    q, scale = quantize_absmax(x, axis=axis, bits=bits)
    assert q.dtype == np.int8
    assert scale.ndim == x.ndim
    assert np.abs(q).max(initial=0) <= qmax(bits)
    err = np.abs(x - dequantize(q, scale))
    assert np.all(err <= np.broadcast_to(scale, x.shape) / 2 * (1 + 1e-9))


@given(tensors)
def test_the_largest_magnitude_is_exact(x: np.ndarray) -> None:
    q, scale = quantize_absmax(x)
    i = np.unravel_index(np.argmax(np.abs(x)), x.shape)
    assert abs(int(q[i])) == (127 if x[i] != 0 else 0)
    assert dequantize(q, scale)[i] == pytest.approx(x[i], rel=1e-12)


def test_zero_tensor_and_zero_channel() -> None:
    q, scale = quantize_absmax(np.zeros((3, 4)))
    assert np.all(q == 0)
    assert np.all(scale == 0)
    np.testing.assert_array_equal(dequantize(q, scale), np.zeros((3, 4)))
    x = np.array([[0.0, 0.0], [1.0, -2.0]])
    q, scale = quantize_absmax(x, axis=0)
    assert scale[0, 0] == 0
    assert not np.any(np.isnan(dequantize(q, scale)))
    np.testing.assert_allclose(dequantize(q, scale), x, atol=2 / 127 / 2)


def test_per_channel_scales_follow_the_rows() -> None:
    x = np.array([[1.0, -2.0], [0.5, 0.25]])
    np.testing.assert_allclose(absmax_scale(x, axis=0), [[2 / 127], [0.5 / 127]])
    np.testing.assert_allclose(absmax_scale(x, axis=1), [[1 / 127, 2 / 127]])
    np.testing.assert_allclose(absmax_scale(x, axis=-1), absmax_scale(x, axis=1))
    np.testing.assert_allclose(absmax_scale(x), [[2 / 127]])


def test_per_channel_beats_per_tensor_with_an_outlier_row() -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((16, 64)) * 0.02
    w[3, 5] = 2.0  # one outlier, 100x the typical weight
    per_tensor = quantization_error(w)
    per_channel = quantization_error(w, axis=0)
    assert per_channel.rmse < per_tensor.rmse / 3
    assert per_channel.sqnr_db > per_tensor.sqnr_db + 10
    # the other 15 rows: per tensor they share the outlier's step, per channel they do not
    others = np.delete(np.arange(16), 3)
    err_t = np.abs(w - dequantize(*quantize_absmax(w)))[others]
    err_c = np.abs(w - dequantize(*quantize_absmax(w, axis=0)))[others]
    assert err_c.mean() < err_t.mean() / 10
    # without the outlier row, per-tensor INT8 is about as good as per-channel
    clean = np.delete(w, 3, axis=0)
    assert quantization_error(clean).sqnr_db > per_tensor.sqnr_db + 10


def test_fewer_bits_cost_about_six_db_each() -> None:
    x = np.random.default_rng(1).uniform(-1, 1, size=20_000)
    sqnr8, sqnr4 = quantization_error(x).sqnr_db, quantization_error(x, bits=4).sqnr_db
    assert 4 * 5.0 < sqnr8 - sqnr4 < 4 * 7.0
    assert quantization_error(np.zeros(3)).sqnr_db == float("inf")


def test_int8_matmul_matches_the_float_product() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((5, 32)), rng.standard_normal((7, 32))
    x_q, x_s = quantize_absmax(x, axis=0)
    w_q, w_s = quantize_absmax(w, axis=0)
    got = int8_matmul(x_q, x_s, w_q, w_s)
    np.testing.assert_allclose(got, dequantize(x_q, x_s) @ dequantize(w_q, w_s).T, atol=1e-9)
    assert np.abs(got - x @ w.T).max() < 0.05 * np.abs(x @ w.T).max()
    with pytest.raises(TypeError, match="int8"):
        int8_matmul(x_q.astype(np.int16), x_s, w_q, w_s)


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="bits"):
        quantize_absmax([1.0], bits=9)
    with pytest.raises(ValueError, match="axis"):
        quantize_absmax(np.zeros((2, 2)), axis=2)
    with pytest.raises(ValueError, match="nan"):
        quantize_absmax([1.0, np.nan])
