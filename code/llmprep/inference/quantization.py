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

*Group-wise* scales (`quantize_groups`) split every row of a weight (out, in) into groups of
`group_size` consecutive inputs, each with its own scale: what GPTQ and AWQ INT4 checkpoints
and llama.cpp's k-quants store. Smaller groups track the local range better and cost more
scale bits per weight (`effective_bits`). *Asymmetric* min-max quantization
(`quantize_minmax`) adds an integer zero point so that the grid covers [min, max] instead of
[-max|x|, max|x|]: one more level of resolution for a lopsided range, such as a tensor that
is all positive after a GELU. `smoothing_factors` is SmoothQuant's per-input-channel scale,
which moves activation outliers into the weights before W8A8 quantization.

Leaves out: calibration-based and error-correcting methods themselves (GPTQ's Hessian
updates, AWQ's scale search), LLM.int8()'s mixed-precision outlier columns, FP8 and FP4
rounding (the chapter does those), and packing two INT4 values per byte: every integer here
sits in an int8 or uint8 array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmprep.foundations.params import group_scale_bits

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
    # INT8 hardware accumulates in int32 (the sums overflow int16 quickly). The sums are
    # integers of magnitude <= 127^2 x in, which float64 holds exactly for any in below
    # 5e11, and BLAS multiplies floats far faster than numpy multiplies integers: the
    # same result as an int32 accumulator (which overflows only past in = 133,000).
    acc = x_q.astype(np.float64) @ w_q.astype(np.float64).T
    scales = x_scale.reshape(-1, 1) * w_scale.reshape(1, -1)  # (n, out)
    out: F64 = acc * scales
    return out


# ------------------------------------------------------------------------------------------
# Group-wise scales, asymmetric zero points, effective bits


type U8 = NDArray[np.uint8]
type Granularity = Literal["tensor", "channel", "group"]


@dataclass(frozen=True, slots=True)
class GroupQuantized:
    """A weight (out, in) stored as integers in groups along the input dimension.

    q has shape (out, in // group_size, group_size); scale (and zero, if asymmetric) has
    shape (out, in // group_size, 1): one per group. Symmetric groups keep q in int8 in
    [-qmax, qmax] and zero is None; asymmetric groups keep q in uint8 in [0, 2^bits - 1].
    """

    q: NDArray[np.int8] | NDArray[np.uint8]
    scale: F64
    zero: NDArray[np.int64] | None
    bits: int
    shape: tuple[int, int]

    @property
    def group_size(self) -> int:
        return int(self.q.shape[-1])

    def dequantize(self) -> F64:
        """Back to floats, in the original (out, in) shape."""
        q = self.q.astype(np.float64)
        if self.zero is not None:
            q = q - self.zero
        out: F64 = (q * self.scale).reshape(self.shape)
        return out


def _as_matrix(w: ArrayLike) -> F64:
    a = np.asarray(w, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D weight (out, in), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("cannot quantize a tensor that holds inf or nan")
    return a


def quantize_groups(
    w: ArrayLike, *, group_size: int | None, bits: int = 4, symmetric: bool = True
) -> GroupQuantized:
    """Quantize each group of `group_size` consecutive inputs of each row with its own scale.

    w is (out, in), as PyTorch stores a Linear weight. group_size=None means one group per
    row (per output channel). group_size must divide `in`. Symmetric groups use absmax;
    asymmetric ones use min-max with a zero point (`quantize_minmax`). Every element ends
    within half a step of its group's grid: |w - w'| <= scale / 2.

    Example: quantize_groups([[1.0, 0.5, 4.0, -2.0]], group_size=2, bits=4).scale
             -> [[[1/7], [4/7]]]   (two groups, each with its own absmax)
    """
    a = _as_matrix(w)
    out_features, in_features = a.shape
    g = in_features if group_size is None else group_size
    if g < 1 or in_features % g != 0:
        raise ValueError(f"group_size {group_size} must be >= 1 and divide {in_features}")
    groups = a.reshape(out_features, in_features // g, g)
    if symmetric:
        # one scale per group: flatten the groups to rows and take each row's absmax
        scale = absmax_scale(groups.reshape(-1, g), axis=0, bits=bits).reshape(
            out_features, in_features // g, 1
        )
        ratio = np.divide(groups, scale, out=np.zeros_like(groups), where=scale > 0)
        top = qmax(bits)
        q = np.clip(np.round(ratio), -top, top).astype(np.int8)
        return GroupQuantized(q, scale, None, bits, (out_features, in_features))
    uq, uscale, zero = quantize_minmax(groups.reshape(-1, g), axis=0, bits=bits)
    shape3 = (out_features, in_features // g, 1)
    return GroupQuantized(
        uq.reshape(groups.shape),
        uscale.reshape(shape3),
        zero.reshape(shape3),
        bits,
        (out_features, in_features),
    )


def quantize_minmax(
    x: ArrayLike, *, axis: int | None = None, bits: int = 8
) -> tuple[U8, F64, NDArray[np.int64]]:
    """Asymmetric (affine) quantization: x ~= (q - zero) * scale, q in 0 .. 2^bits - 1.

    The range [min, max] is first widened to include 0, so that 0 is exactly representable
    (padding and ReLU zeros stay exact), then split into 2^bits - 1 steps:

        scale = (max - min) / (2^bits - 1)      zero = round(-min / scale)
        q     = clip(round(x / scale) + zero, 0, 2^bits - 1)

    For an all-positive tensor this uses every level, where absmax would waste the negative
    half. Error is at most scale / 2 per element. axis as in `absmax_scale`.

    Example: quantize_minmax([0.0, 1.0, 3.0], bits=2) -> (q [0, 1, 3], scale [1.0], zero [0])
    """
    if not 2 <= bits <= 8:
        raise ValueError(f"bits must be in 2..8 (stored in uint8), got {bits}")
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("cannot quantize a tensor that holds inf or nan")
    if axis is None:
        reduce: tuple[int, ...] = tuple(range(a.ndim))
    else:
        if not -a.ndim <= axis < a.ndim:
            raise ValueError(f"axis {axis} is out of range for shape {a.shape}")
        reduce = tuple(i for i in range(a.ndim) if i != axis % a.ndim)
    levels = 2**bits - 1
    lo = np.minimum(np.min(a, axis=reduce, keepdims=True, initial=0.0), 0.0)
    hi = np.maximum(np.max(a, axis=reduce, keepdims=True, initial=0.0), 0.0)
    scale: F64 = (hi - lo) / levels
    safe = np.where(scale > 0, scale, 1.0)
    zero = np.where(scale > 0, np.round(-lo / safe), 0).astype(np.int64)
    ratio = np.divide(a, scale, out=np.zeros_like(a), where=scale > 0)
    q: U8 = np.clip(np.round(ratio) + zero, 0, levels).astype(np.uint8)
    return q, scale, zero


def dequantize_minmax(q: ArrayLike, scale: ArrayLike, zero: ArrayLike) -> F64:
    """Back to floats: (q - zero) * scale."""
    out: F64 = (np.asarray(q, dtype=np.float64) - np.asarray(zero)) * np.asarray(
        scale, dtype=np.float64
    )
    return out


def effective_bits(
    bits: float,
    *,
    group_size: int | None,
    in_features: int | None = None,
    scale_bits: float = 16,
    zero_point_bits: float = 0,
) -> float:
    """Storage per weight including its share of the scales (and zero points).

    group_size=None with in_features=n is per-channel (one scale per row of n weights);
    both None is per-tensor (the one scale is negligible: counted as 0).

    Example: effective_bits(4, group_size=128) -> 4.125; effective_bits(4, group_size=32,
             scale_bits=8) -> 4.25 (MXFP4's layout); effective_bits(8, group_size=None) -> 8.0
    """
    if group_size is None and in_features is None:
        return float(bits)
    size = group_size if group_size is not None else in_features
    assert size is not None
    return float(bits) + group_scale_bits(size, scale_bits, zero_point_bits)


@dataclass(frozen=True, slots=True)
class QuantScheme:
    """A weight-quantization recipe: bits, where the scales live, symmetric or not."""

    name: str
    bits: int
    granularity: Granularity
    group_size: int | None = None  # only for granularity "group"
    symmetric: bool = True

    def __post_init__(self) -> None:
        if (self.granularity == "group") != (self.group_size is not None):
            raise ValueError(f"{self.name}: group_size {self.group_size} needs granularity 'group'")
        qmax(self.bits)  # validates bits

    def bits_per_weight(self, in_features: int, scale_bits: float = 16) -> float:
        """Effective bits per weight of a (out, in_features) matrix under this scheme."""
        zero_bits = 0.0 if self.symmetric else float(self.bits)
        if self.granularity == "tensor":
            return float(self.bits)
        group = self.group_size if self.granularity == "group" else in_features
        return effective_bits(
            self.bits, group_size=group, scale_bits=scale_bits, zero_point_bits=zero_bits
        )


def fake_quantize(w: ArrayLike, scheme: QuantScheme) -> F64:
    """Quantize a weight (out, in) under `scheme` and dequantize it again ("fake quant").

    What a weight-only kernel effectively multiplies with, so running a model with these
    weights in float measures exactly the error the integers introduce.
    """
    a = _as_matrix(w)
    if scheme.granularity == "tensor":
        if scheme.symmetric:
            return dequantize(*quantize_absmax(a, bits=scheme.bits))
        return dequantize_minmax(*quantize_minmax(a, bits=scheme.bits))
    group = None if scheme.granularity == "channel" else scheme.group_size
    return quantize_groups(
        a, group_size=group, bits=scheme.bits, symmetric=scheme.symmetric
    ).dequantize()


# ------------------------------------------------------------------------------------------
# Activations: per-token INT8 and SmoothQuant's smoothing


def smoothing_factors(
    act_absmax: ArrayLike, weight_absmax: ArrayLike, *, alpha: float = 0.5
) -> F64:
    """SmoothQuant's per-input-channel factors s_j = max|X_j|^alpha / max|W_j|^(1 - alpha).

    Dividing activation channel j by s_j and multiplying the weight's input row j by s_j
    leaves X W unchanged (X diag(s)^-1 diag(s) W) but moves the outlier channels' range from
    the activations, which are hard to quantize, into the weights, which are easy
    (Xiao et al. 2023, arXiv:2211.10438). alpha = 0 leaves X alone; alpha = 1 flattens X
    entirely and puts all of its range into W. Channels that are zero on either side get 1.

    Example: smoothing_factors([16.0, 1.0], [1.0, 1.0], alpha=0.5) -> [4.0, 1.0]
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    x = np.asarray(act_absmax, dtype=np.float64)
    w = np.asarray(weight_absmax, dtype=np.float64)
    if x.shape != w.shape:
        raise ValueError(f"one max per input channel on each side: {x.shape} != {w.shape}")
    ok = (x > 0) & (w > 0)
    s = np.ones_like(x)
    s[ok] = x[ok] ** alpha / w[ok] ** (1.0 - alpha)
    return s


def w8a8_output_error(
    x: ArrayLike,
    w: ArrayLike,
    *,
    act: Literal["tensor", "token"] = "tensor",
    smoothing: ArrayLike | None = None,
) -> float:
    """Relative error ||Y - Y'|| / ||Y|| of Y = x @ w when both run in INT8.

    x is (tokens, in), w is (in, out) (the `x @ w` layout of `foundations.minilm`).
    Weights are quantized per output channel; activations per tensor (one static scale,
    the cheap kernel) or per token. `smoothing` (one factor per input channel) is applied
    first as x / s and s * w, as SmoothQuant does offline.
    """
    xa = np.asarray(x, dtype=np.float64)
    wa = np.asarray(w, dtype=np.float64)
    if xa.ndim != 2 or wa.ndim != 2 or xa.shape[1] != wa.shape[0]:
        raise ValueError(f"need x (tokens, in) and w (in, out), got {xa.shape} and {wa.shape}")
    exact = xa @ wa
    if smoothing is not None:
        s = np.asarray(smoothing, dtype=np.float64)
        xa, wa = xa / s, wa * s[:, None]
    x_q, x_s = quantize_absmax(xa, axis=0 if act == "token" else None)
    if act == "tensor":
        x_s = np.full((xa.shape[0], 1), float(x_s.reshape(-1)[0]))
    w_q, w_s = quantize_absmax(wa.T, axis=0)  # (out, in), one scale per output channel
    got = int8_matmul(x_q, x_s, w_q, w_s)
    denom = float(np.linalg.norm(exact))
    return 0.0 if denom == 0 else float(np.linalg.norm(exact - got) / denom)
