"""Drill: INT8 absmax quantization, per tensor and per channel, and dequantization.

"Quantize a float weight matrix to int8 with symmetric absmax scaling: one scale for the
whole tensor, or one per output channel. Dequantize it, bound the error, and multiply two
quantized matrices with integer arithmetic."

numpy only. Grade it: make drill NAME=int8-quantization
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

type F64 = NDArray[np.float64]
type I8 = NDArray[np.int8]


def quantize_absmax(x: ArrayLike, *, axis: int | None = None) -> tuple[I8, F64]:
    """(q, scale) with x ~= q * scale; q is int8 in [-127, 127], symmetric.

    scale = max|x| / 127 over the whole tensor (axis=None) or one per index along `axis`
    (axis=0 on a weight (out, in): per output channel). scale keeps x's number of
    dimensions (size 1 on the reduced axes) so that it broadcasts. q = round(x / scale),
    to the nearest integer. An all-zero tensor or channel gets scale 0 and q = 0, with
    no nan. inf or nan in x, or an axis out of range, is a ValueError.
    """
    raise NotImplementedError("drill int8-quantization: implement quantize_absmax")


def dequantize(q: ArrayLike, scale: ArrayLike) -> F64:
    """Back to float64: q * scale."""
    raise NotImplementedError("drill int8-quantization: implement dequantize")


def int8_matmul(x_q: I8, x_scale: F64, w_q: I8, w_scale: F64) -> F64:
    """x W^T from x_q (n, in) with per-row scales (n, 1) and w_q (out, in) with
    per-output-channel scales (out, 1): an integer matmul accumulated in int32, then
    one rescale per output element. Non-int8 operands are a TypeError."""
    raise NotImplementedError("drill int8-quantization: implement int8_matmul")
