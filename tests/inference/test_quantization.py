"""Absmax quantization: the error bound, per-channel scales, zero tensors, the int8 matmul."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from llmprep.inference.quantization import (
    QuantScheme,
    absmax_scale,
    dequantize,
    dequantize_minmax,
    effective_bits,
    fake_quantize,
    int8_matmul,
    qmax,
    quantization_error,
    quantize_absmax,
    quantize_groups,
    quantize_minmax,
    smoothing_factors,
    w8a8_output_error,
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
    exact = (x_q.astype(np.int32) @ w_q.astype(np.int32).T) * (x_s.reshape(-1, 1) * w_s.T)
    np.testing.assert_array_equal(got, exact)  # float accumulation is exact for int8 sums
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


# ------------------------------------------------------------------------------------------
# group-wise, asymmetric, effective bits, SmoothQuant

matrices = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.sampled_from([4, 8, 12])),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).filter(
        lambda v: v == 0 or abs(v) > 1e-200
    ),
)


def test_groups_known_values() -> None:
    g = quantize_groups([[1.0, 0.5, 4.0, -2.0]], group_size=2, bits=4)
    assert g.q.shape == (1, 2, 2)
    np.testing.assert_allclose(g.scale.reshape(-1), [1 / 7, 4 / 7])
    assert g.q.reshape(-1).tolist() == [7, 4, 7, -4]  # 0.5 * 7 = 3.5 rounds to even 4
    assert g.group_size == 2
    np.testing.assert_allclose(g.dequantize(), [[1.0, 4 / 7, 4.0, -16 / 7]])


@given(matrices, st.sampled_from([2, 4]), st.sampled_from([3, 4, 8]), st.booleans())
def test_group_error_is_at_most_half_a_step_per_group(
    w: np.ndarray, group: int, bits: int, symmetric: bool
) -> None:
    g = quantize_groups(w, group_size=group, bits=bits, symmetric=symmetric)
    err = np.abs(w.reshape(g.q.shape) - g.dequantize().reshape(g.q.shape))
    assert np.all(err <= g.scale / 2 * (1 + 1e-9) + 1e-300)


@given(matrices, st.sampled_from([4, 8]))
def test_per_channel_bound_never_exceeds_per_tensor_bound(w: np.ndarray, bits: int) -> None:
    per_tensor = absmax_scale(w, bits=bits)
    per_channel = quantize_groups(w, group_size=None, bits=bits).scale
    assert np.all(per_channel <= per_tensor * (1 + 1e-12))
    err_c = np.abs(w - quantize_groups(w, group_size=None, bits=bits).dequantize()).max()
    assert err_c <= float(per_tensor.max()) / 2 * (1 + 1e-9) + 1e-300
    # and smaller groups never have a larger step than their row
    grouped = quantize_groups(w, group_size=w.shape[1] // 2, bits=bits).scale
    assert np.all(grouped <= per_channel * (1 + 1e-12))


def test_per_channel_can_lose_to_per_tensor_on_one_matrix() -> None:
    # subtle: the *bound* is never worse, the realized error can be. Row 2 sits exactly on
    # the per-tensor grid (step 1/127) but not on its own (step 126/127/127).
    w = np.array([[127.0, 127.0], [126.0, 1.0]]) / 127
    assert quantization_error(w).max_abs < 1e-15
    assert quantization_error(w, axis=0).max_abs > 1e-5


def test_minmax_uses_every_level_of_a_positive_range() -> None:
    q, scale, zero = quantize_minmax([0.0, 1.0, 3.0], bits=2)
    assert q.tolist() == [0, 1, 3]
    assert scale.reshape(-1).tolist() == [1.0]
    assert zero.reshape(-1).tolist() == [0]
    x = np.linspace(0.0, 1.0, 1_000)  # all positive, like a GELU output
    sym = quantization_error(x, bits=4)
    asym = x - dequantize_minmax(*quantize_minmax(x, bits=4))
    assert float(np.sqrt(np.mean(asym**2))) < sym.rmse / 1.8  # 15 steps instead of 7


@given(tensors, st.sampled_from([3, 4, 8]))
def test_minmax_error_bound_and_exact_zero(x: np.ndarray, bits: int) -> None:
    q, scale, zero = quantize_minmax(x, bits=bits)
    assert q.dtype == np.uint8
    assert int(q.max(initial=0)) <= 2**bits - 1
    err = np.abs(x - dequantize_minmax(q, scale, zero))
    assert np.all(err <= scale / 2 * (1 + 1e-9) + 1e-300)
    assert float(dequantize_minmax(zero, scale, zero).reshape(-1)[0]) == 0.0


def test_effective_bits() -> None:
    assert effective_bits(4, group_size=128) == 4.125
    assert effective_bits(4, group_size=32, scale_bits=8) == 4.25  # MXFP4's layout
    assert effective_bits(8, group_size=None) == 8.0
    assert effective_bits(4, group_size=None, in_features=384) == 4 + 16 / 384
    scheme = QuantScheme("INT4 g=64 asym", 4, "group", 64, symmetric=False)
    assert scheme.bits_per_weight(384) == 4 + 20 / 64
    assert QuantScheme("t", 8, "tensor").bits_per_weight(384) == 8.0


def test_fake_quantize_matches_the_primitives() -> None:
    w = np.random.default_rng(3).standard_normal((6, 16))
    np.testing.assert_allclose(
        fake_quantize(w, QuantScheme("c", 8, "channel")),
        dequantize(*quantize_absmax(w, axis=0)),
    )
    np.testing.assert_allclose(
        fake_quantize(w, QuantScheme("t", 4, "tensor")), dequantize(*quantize_absmax(w, bits=4))
    )
    g = fake_quantize(w, QuantScheme("g", 4, "group", 8))
    halves = np.concatenate(
        [dequantize(*quantize_absmax(h, axis=0, bits=4)) for h in (w[:, :8], w[:, 8:])], axis=1
    )
    np.testing.assert_allclose(g, halves)
    rmse = [
        float(np.sqrt(np.mean((w - fake_quantize(w, QuantScheme("g", 4, "group", n))) ** 2)))
        for n in (16, 8, 4)
    ]
    assert rmse[0] > rmse[2]  # smaller groups, smaller error


def test_bad_schemes_and_groups() -> None:
    with pytest.raises(ValueError, match="group_size"):
        QuantScheme("bad", 4, "group")
    with pytest.raises(ValueError, match="group_size"):
        QuantScheme("bad", 4, "channel", 32)
    with pytest.raises(ValueError, match="bits"):
        QuantScheme("bad", 9, "tensor")
    with pytest.raises(ValueError, match="divide"):
        quantize_groups(np.zeros((2, 6)), group_size=4)
    with pytest.raises(ValueError, match="2-D"):
        quantize_groups(np.zeros(6), group_size=2)
    with pytest.raises(ValueError, match="bits"):
        quantize_minmax([1.0], bits=1)


def test_smoothing_factors_and_w8a8() -> None:
    np.testing.assert_allclose(smoothing_factors([16.0, 1.0], [1.0, 1.0]), [4.0, 1.0])
    np.testing.assert_allclose(smoothing_factors([16.0, 0.0], [4.0, 1.0], alpha=1.0), [16.0, 1.0])
    with pytest.raises(ValueError, match="alpha"):
        smoothing_factors([1.0], [1.0], alpha=1.5)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 32))
    x[:, 3] *= 50  # one outlier channel, as in LLM activations
    w = rng.standard_normal((32, 16)) * 0.1
    s = smoothing_factors(np.abs(x).max(axis=0), np.abs(w).max(axis=1), alpha=0.5)
    # smoothing is exact in float: (x / s) (s w) == x w
    np.testing.assert_allclose((x / s) @ (w * s[:, None]), x @ w, rtol=1e-12)
    plain = w8a8_output_error(x, w)
    smoothed = w8a8_output_error(x, w, smoothing=s)
    assert smoothed < plain / 2
    assert w8a8_output_error(x, w, act="token") <= plain
    assert w8a8_output_error(np.zeros((2, 3)), np.zeros((3, 2))) == 0.0
    with pytest.raises(ValueError, match="need x"):
        w8a8_output_error(x, w.T)
