"""Drill: a LoRA linear layer, its forward pass and its merge.

"Fine-tune a frozen linear layer W (out x in) with LoRA: learn B (out x r) and A (r x in)
and compute h = x W^T + (alpha / r) x A^T B^T. Initialize it so the adapted layer starts
out identical to the base layer, count the trainable parameters, and merge the adapter
into a single weight for serving."

numpy only. Weights are stored (out, in), as in PyTorch. Grade it: make drill NAME=lora
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

type F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LoRALinear:
    """A frozen weight (out, in) and bias (out,), plus the adapter A (r, in), B (out, r)."""

    weight: F64
    a: F64
    b: F64
    alpha: float
    bias: F64 | None = None

    @classmethod
    def init(
        cls,
        weight: ArrayLike,
        *,
        rank: int,
        alpha: float,
        rng: np.random.Generator,
        bias: ArrayLike | None = None,
    ) -> LoRALinear:
        """Wrap a pretrained weight: B = 0 and A uniform in [-1/sqrt(in), 1/sqrt(in)]
        (drawn from rng). rank outside 1 .. min(out, in) is a ValueError."""
        raise NotImplementedError("drill lora: implement LoRALinear.init")

    @property
    def trainable_parameters(self) -> int:
        """How many numbers training updates: the entries of A and B."""
        raise NotImplementedError("drill lora: implement LoRALinear.trainable_parameters")

    def forward(self, x: ArrayLike) -> F64:
        """x W^T (+ bias) + (alpha / r) x A^T B^T for x of shape (..., in), computed
        through the rank-r bottleneck (never forming B A)."""
        raise NotImplementedError("drill lora: implement LoRALinear.forward")

    def merged_weight(self) -> F64:
        """W + (alpha / r) B A: one (out, in) weight with the same outputs as forward."""
        raise NotImplementedError("drill lora: implement LoRALinear.merged_weight")
