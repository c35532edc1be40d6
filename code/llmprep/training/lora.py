"""LoRA: fine-tune a linear layer by learning a low-rank update beside its frozen weight.

LoRA (Hu et al. 2021, arXiv:2106.09685) freezes a pretrained weight W (out x in) and learns
the change as a product of two thin matrices, B (out x r) and A (r x in), with r much smaller
than in and out:

    h = x W^T + (alpha / r) x A^T B^T            (x is a batch of rows, n x in)

Only A and B train: r (in + out) parameters instead of in x out, 256x fewer for a 4096 x 4096
projection at r = 8 (`trainable_parameters`). Gradients and optimizer states exist only for
them, which is where the memory saving of LoRA fine-tuning comes from.

- **Initialization.** B = 0 and A small and random, so at step 0 the adapter adds exactly
  nothing and the adapted model *is* the base model. (Both zero would be a saddle: the
  gradient of A is proportional to B and that of B to A, so neither would move; with A random,
  B gets a gradient at once, see `gradients`.) The paper draws A from a Gaussian; Hugging Face
  PEFT uses Kaiming-uniform, U(-1/sqrt(in), 1/sqrt(in)), as `LoRALinear.init` does here.
- **Scaling.** alpha / r keeps the update's size roughly steady when you change r, so a
  learning rate tuned at one rank still works at another. (rsLoRA, arXiv:2312.03732, argues
  for alpha / sqrt(r) at large ranks.)
- **Compute order.** x A^T B^T is computed right to left through the r-wide bottleneck:
  n r (in + out) multiply-adds, never the full out x in matrix B A.
- **Merging.** Because the update is linear, W' = W + (alpha / r) B A gives the same outputs
  with no extra matmul at inference (`merged_weight`); keep W and (A, B) apart instead to swap
  adapters per request (multi-LoRA serving).

Weights are stored (out, in), as PyTorch's `nn.Linear` does, so the forward pass is x W^T.

Leaves out: dropout on the adapter's input, which modules to adapt (usually the attention
and MLP projections), QLoRA (the frozen W stored in 4 bits), DoRA's magnitude/direction split,
training loops and optimizers. Training LoRA on the tiny model is for the training deep dive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

type F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LoRALinear:
    """A frozen linear layer plus a rank-r adapter. Example:

    layer = LoRALinear.init(w, rank=8, alpha=16, rng=np.random.default_rng(0))
    layer.forward(x)                      # == x @ w.T at init, since B = 0
    x @ layer.merged_weight().T           # == layer.forward(x), for any A and B
    """

    weight: F64  # (out, in), frozen
    a: F64  # (rank, in), trainable ("lora_A")
    b: F64  # (out, rank), trainable ("lora_B")
    alpha: float
    bias: F64 | None = None  # (out,), frozen

    def __post_init__(self) -> None:
        out_f, in_f = self.weight.shape
        rank = self.a.shape[0]
        if rank < 1:
            raise ValueError(f"rank must be >= 1, got {rank}")
        if self.a.shape != (rank, in_f) or self.b.shape != (out_f, rank):
            raise ValueError(
                f"for weight {self.weight.shape}, A must be ({rank}, {in_f}) and B"
                f" ({out_f}, {rank}); got A {self.a.shape}, B {self.b.shape}"
            )
        if self.bias is not None and self.bias.shape != (out_f,):
            raise ValueError(f"bias must have shape ({out_f},), got {self.bias.shape}")

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
        """Wrap a pretrained weight (out, in): A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0."""
        w = np.asarray(weight, dtype=np.float64)
        if w.ndim != 2:
            raise ValueError(f"weight must be a matrix (out, in), got shape {w.shape}")
        if rank < 1 or rank > min(w.shape):
            limit = min(w.shape)
            raise ValueError(f"rank must be in 1..{limit} for {w.shape}, got {rank}")
        out_f, in_f = w.shape
        bound = 1.0 / np.sqrt(in_f)
        a = rng.uniform(-bound, bound, size=(rank, in_f))
        b = np.zeros((out_f, rank))
        bias_arr = None if bias is None else np.asarray(bias, dtype=np.float64)
        return cls(w, a, b, float(alpha), bias_arr)

    @property
    def rank(self) -> int:
        return int(self.a.shape[0])

    @property
    def scaling(self) -> float:
        """alpha / r: the factor on the adapter's output."""
        return self.alpha / self.rank

    @property
    def trainable_parameters(self) -> int:
        """r (in + out): the entries of A and B, the only ones that get gradients."""
        return int(self.a.size + self.b.size)

    @property
    def frozen_parameters(self) -> int:
        """in x out (+ out for a bias): the base layer's parameters."""
        return int(self.weight.size + (0 if self.bias is None else self.bias.size))

    def forward(self, x: ArrayLike) -> F64:
        """x W^T (+ bias) + (alpha / r) (x A^T) B^T, for x of shape (..., in)."""
        xs = np.asarray(x, dtype=np.float64)
        base = xs @ self.weight.T
        if self.bias is not None:
            base = base + self.bias
        out: F64 = base + self.scaling * ((xs @ self.a.T) @ self.b.T)
        return out

    def delta_weight(self) -> F64:
        """The update the adapter stands for: (alpha / r) B A, (out, in), rank <= r."""
        out: F64 = self.scaling * (self.b @ self.a)
        return out

    def merged_weight(self) -> F64:
        """W + (alpha / r) B A: a plain weight with the same outputs, for serving one adapter."""
        out: F64 = self.weight + self.delta_weight()
        return out

    def gradients(self, x: ArrayLike, grad_out: ArrayLike) -> tuple[F64, F64]:
        """(dL/dA, dL/dB) given x (n, in) and dL/dh (n, out); W and the bias get none.

        With u = x A^T (n, r): dL/dB = s grad_out^T u and dL/dA = s (grad_out B)^T x, where
        s = alpha / r. At init B = 0, so dL/dA = 0 but dL/dB is not: B moves first.
        """
        xs = np.asarray(x, dtype=np.float64).reshape(-1, self.weight.shape[1])
        g = np.asarray(grad_out, dtype=np.float64).reshape(-1, self.weight.shape[0])
        grad_b: F64 = self.scaling * g.T @ (xs @ self.a.T)
        grad_a: F64 = self.scaling * (g @ self.b).T @ xs
        return grad_a, grad_b

    def with_adapter(self, a: ArrayLike, b: ArrayLike) -> LoRALinear:
        """The same frozen layer with new adapter matrices (after an optimizer step)."""
        a_new, b_new = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return replace(self, a=a_new, b=b_new)
