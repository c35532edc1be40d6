"""Absmax (symmetric) integer quantization: per tensor and per channel, and back again.

Quantizing a weight matrix stores each value as a small integer plus a shared float *scale*:

    scale = max|x| / qmax          qmax = 2^(bits-1) - 1   (127 for INT8)
    q     = clip(round(x / scale), -qmax, qmax)             (an int8)
    x'    = q * scale                                       (dequantized)

Symmetric means zero maps to the integer 0 and the range is [-qmax, qmax]: INT8 leaves -128
unused, so the grid is the same on both sides and no zero-point is needed (asymmetric
schemes add one, for activations that are all positive). Round-to-nearest puts every value
within half a step of its grid point, so the error of each element is at most scale / 2,
and the values at +-max|x| are exact. `quantize_absmax` returns (q, scale); `dequantize`
multiplies back.

*Per tensor*, one scale serves the whole matrix, so a single outlier (the hidden states of
large LLMs have a few feature dimensions far larger than the rest, the observation behind
LLM.int8(), arXiv:2208.07339) stretches the grid, and the small values all round to a
handful of levels.
*Per channel* (`axis=0` for a weight stored (out_features, in_features): one scale per
output row) confines the damage to the outlier's own row, for one extra float per row.
`quantization_error` measures the difference: maximum error, RMS error and the
signal-to-quantization-noise ratio in dB.

`int8_matmul` is why the integers are useful, not only small: with x and W both quantized,
x W^T is an integer matrix product (accumulated in int32, as INT8 tensor cores do) followed by
one multiply by the outer product of the two scale vectors.

Leaves out: group-wise scales (a scale per block of, say, 128 inputs, as GPTQ/AWQ INT4 and
GGUF use), asymmetric zero-points, calibration and error-correcting methods (GPTQ, AWQ,
SmoothQuant), LLM.int8()'s mixed-precision outlier columns, FP8 formats, and packing two INT4
values per byte. The measured effect on the MiniLM weights is for the inference deep dive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

type F64 = NDArray[np.float64]
type I8 = NDArray[np.int8]


def qmax(bits: int = 8) -> int:
    """The largest integer of a symmetric `bits`-bit grid: 2^(bits-1) - 1 (127 for 8 bits).

    Example: qmax(8) -> 127, qmax(4) -> 7
    """
    if not 2 <= bits <= 8:
        raise ValueError(f"bits must be in 2..8 (stored in int8), got {bits}")
    return int(2 ** (bits - 1) - 1)


def absmax_scale(x: ArrayLike, *, axis: int | None = None, bits: int = 8) -> F64:
    """The scale max|x| / qmax, over the whole tensor (axis=None) or one per index of `axis`.

    The result keeps x's number of dimensions (size 1 on the reduced axes), so it broadcasts
    against x. An all-zero tensor or channel gets scale 0: its values quantize to 0 and
    dequantize to exactly 0, with no division by zero. The one place the half-step error
    bound fails is a tensor whose largest value is near float64's smallest (around 1e-300 and
    below): max|x| / qmax underflows, and [5e-324] gets scale 0. Real weights never get there.

    Example: absmax_scale([[1.0, -2.0], [0.5, 0.25]], axis=0) -> [[2/127], [0.5/127]]
    """
    a = np.asarray(x, dtype=np.float64)
    if axis is None:
        reduce: tuple[int, ...] = tuple(range(a.ndim))
    else:
        if not -a.ndim <= axis < a.ndim:
            raise ValueError(f"axis {axis} is out of range for shape {a.shape}")
        reduce = tuple(i for i in range(a.ndim) if i != axis % a.ndim)
    if not np.all(np.isfinite(a)):
        raise ValueError("cannot quantize a tensor that holds inf or nan")
    out: F64 = np.max(np.abs(a), axis=reduce, keepdims=True, initial=0.0) / qmax(bits)
    return out


def quantize_absmax(
    x: ArrayLike,
    *,
    axis: int | None = None,
    bits: int = 8,
) -> tuple[I8, F64]:
    """Symmetric round-to-nearest quantization: (q, scale) with x ~= q * scale.

    axis=None: one scale for the tensor. axis=k: one scale per index along axis k (for a
    weight (out, in), axis=0 is per output channel). q is int8 in [-qmax, qmax]; scale has
    x's number of dimensions. Rounding is numpy's round-half-to-even: still the nearest grid
    point, so |x - q * scale| <= scale / 2 for every element.

    Example: quantize_absmax([0.5, -1.0, 0.25]) -> ([64, -127, 32], [1/127])
             (0.5 * 127 = 63.5 rounds to the even 64)
    """
    a = np.asarray(x, dtype=np.float64)
    scale = absmax_scale(a, axis=axis, bits=bits)
    top = qmax(bits)
    # subtle: divide only where the scale is non-zero; a zero channel stays 0, not nan.
    ratio = np.divide(a, scale, out=np.zeros_like(a), where=scale > 0)
    q: I8 = np.clip(np.round(ratio), -top, top).astype(np.int8)
    return q, scale


def dequantize(q: ArrayLike, scale: ArrayLike) -> F64:
    """Back to floats: q * scale (scale broadcasts, as `quantize_absmax` returns it)."""
    out: F64 = np.asarray(q, dtype=np.float64) * np.asarray(scale, dtype=np.float64)
    return out


@dataclass(frozen=True, slots=True)
class QuantizationError:
    """How far x' = dequantize(quantize(x)) is from x."""

    max_abs: float  # the largest |x - x'|, at most max(scale) / 2
    rmse: float  # root-mean-square error
    sqnr_db: float  # 10 log10(mean x^2 / mean (x - x')^2); ~6 dB per bit for uniform x


def quantization_error(
    x: ArrayLike, *, axis: int | None = None, bits: int = 8
) -> QuantizationError:
    """Quantize and dequantize x, and measure the error (inf dB when it is exact)."""
    a = np.asarray(x, dtype=np.float64)
    err = a - dequantize(*quantize_absmax(a, axis=axis, bits=bits))
    noise = float(np.mean(err**2)) if err.size else 0.0
    signal = float(np.mean(a**2)) if a.size else 0.0
    sqnr = float("inf") if noise == 0 else 10 * np.log10(signal / noise)
    max_abs = float(np.max(np.abs(err), initial=0.0))
    return QuantizationError(max_abs, float(np.sqrt(noise)), float(sqnr))


def int8_matmul(x_q: I8, x_scale: F64, w_q: I8, w_scale: F64) -> F64:
    """x W^T from quantized operands: an integer matmul, then one rescale.

    x_q is (n, in) with per-row scales x_scale (n, 1) (per token, `axis=0`); w_q is
    (out, in) with per-output-channel scales w_scale (out, 1). Then
    x W^T ~= (x_q w_q^T) * (x_scale w_scale^T): each output element is an int32 dot product
    times one scale of each side. Per-input-channel scales would not factor out of the sum,
    which is why weights are scaled per output channel.
    """
    if x_q.dtype != np.int8 or w_q.dtype != np.int8:
        raise TypeError(f"int8_matmul takes int8, not {x_q.dtype} and {w_q.dtype}")
    # Accumulate in int32, as INT8 hardware does: the sums overflow int16 quickly.
    acc = x_q.astype(np.int32) @ w_q.astype(np.int32).T
    scales = x_scale.reshape(-1, 1) * w_scale.reshape(1, -1)  # (n, out)
    out: F64 = acc.astype(np.float64) * scales
    return out
