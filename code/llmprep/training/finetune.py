"""LoRA against full fine-tuning, measured on the tiny language model of the foundations chapter.

The experiment behind the training deep dive's LoRA section, small enough to run in seconds:

1. **Pretrain** a `foundations.tiny_lm` model (embeddings -> tanh hidden layer -> logits) on
   one text, the *original* task (`pretrain`). The vocabulary is the union of the characters of
   both texts, so the same model can read the second one.
2. **Adapt** it to a second, different text, the *new* task (`finetune`), either by full
   fine-tuning (every parameter trains) or by LoRA on the hidden matrix W1 and the output
   matrix W2 (embeddings and biases frozen), at any rank and alpha.
3. **Measure** trainable parameters, held-out loss on the new text against steps, and
   *forgetting*: the loss on the original text after tuning.

The LoRA gradients are derived from the full ones. The tiny model stores W1 as (in, out) and
computes x W1; in LoRA's (out, in) frame the effective weight is W1^T + s B A with
s = alpha / r, so if G = dL/dW1 then (`lora_grads_from_full`)

    dL/dB = s G^T A^T        dL/dA = s B^T G^T

This is exact (a test checks it by finite differences) but computes the full gradient first,
which real implementations never do: they backpropagate through the r-wide bottleneck
(`LoRALinear.gradients`), so no (out, in) gradient or optimizer state is ever stored, and
that is where LoRA's memory saving comes from. Here the full gradient is cheap, and reusing
the foundations backward pass keeps one tested derivative instead of two.

Merging (`merge`) folds s B A into W; `merge_max_abs_diff` checks that the merged model's
logits equal those of the unmerged model run through `LoRALinear.forward`.

Leaves out: attention (the tiny model has none, so "target modules" means W1 and W2 here),
QLoRA's 4-bit base, dropout, weight decay, learning-rate warmup, and any claim that the
numbers transfer to billion-parameter models: the direction of the effects is what the
experiment shows, and the chapter says which published results agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from llmprep.foundations.tiny_lm import (
    PAD,
    evaluate,
    forward,
    init_params,
    loss_and_grads,
    make_dataset,
)
from llmprep.training.lora import LoRALinear

type F64 = NDArray[np.float64]
type Params = dict[str, NDArray[np.floating]]  # as foundations.tiny_lm; float64 here
type IntArray = NDArray[np.int64]
type Method = Literal["full", "lora"]

ADAPTED: tuple[str, ...] = ("W1", "W2")  # the matrices LoRA adapts: hidden and output


# -----------------------------------------------------------------------------
# data


@dataclass(frozen=True, slots=True)
class Task:
    """One text, encoded with a shared vocabulary and split 90/10 into train and held-out."""

    name: str
    x_train: IntArray
    y_train: IntArray
    x_val: IntArray
    y_val: IntArray


def shared_vocabulary(*texts: str) -> str:
    """PAD followed by every character of every text, sorted: one vocabulary for all tasks."""
    joined = "".join(texts)
    if PAD in joined:
        raise ValueError("texts must not contain NUL characters (used for padding)")
    return PAD + "".join(sorted(set(joined)))


def make_task(
    name: str, text: str, chars: str, *, context: int = 8, val_fraction: float = 0.1
) -> Task:
    """Encode `text` with `chars` and split off the last `val_fraction` as held-out data."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    index = {c: i for i, c in enumerate(chars)}
    unknown = sorted(set(text) - index.keys())
    if unknown:
        raise ValueError(f"characters of {name!r} not in the vocabulary: {unknown[:5]!r}")
    ids = np.array([index[c] for c in text], dtype=np.int64)
    split = int(len(ids) * (1.0 - val_fraction))
    x_train, y_train = make_dataset(ids[:split], context)
    x_val, y_val = make_dataset(ids[split:], context)
    if len(y_train) == 0 or len(y_val) == 0:
        raise ValueError(f"text {name!r} is too short to split ({len(text)} characters)")
    return Task(name, x_train, y_train, x_val, y_val)


# -----------------------------------------------------------------------------
# optimizer


@dataclass(slots=True)
class Adam:
    """Adam over a dict of arrays (mutable state, used inside one training run only)."""

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    m: dict[str, NDArray[np.floating]] = field(default_factory=dict)
    v: dict[str, NDArray[np.floating]] = field(default_factory=dict)
    t: int = 0

    def step(
        self, params: Params, grads: Mapping[str, NDArray[np.floating]], lr: float | None = None
    ) -> None:
        """Update `params` in place for every key of `grads`."""
        self.t += 1
        step_lr = self.lr if lr is None else lr
        for k, g in grads.items():
            m = self.m.get(k, np.zeros_like(g))
            v = self.v.get(k, np.zeros_like(g))
            m = self.beta1 * m + (1 - self.beta1) * g
            v = self.beta2 * v + (1 - self.beta2) * g * g
            self.m[k], self.v[k] = m, v
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            params[k] = params[k] - step_lr * m_hat / (np.sqrt(v_hat) + self.eps)


def _linear_decay(lr: float, step: int, steps: int) -> float:
    return lr * (1.0 - 0.9 * step / max(steps - 1, 1))


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")


# -----------------------------------------------------------------------------
# pretraining


def pretrain(
    task: Task,
    vocab_size: int,
    *,
    context: int = 8,
    emb_dim: int = 24,
    hidden: int = 256,
    steps: int = 2000,
    batch_size: int = 128,
    lr: float = 3e-3,
    seed: int = 0,
) -> Params:
    """Train the tiny model from scratch on `task` (float64, Adam, linear decay to 10%)."""
    _check_positive(steps=steps, batch_size=batch_size, lr=lr)
    if task.x_train.shape[1] != context:
        raise ValueError(f"task has context {task.x_train.shape[1]}, expected {context}")
    rng = np.random.default_rng(seed)
    params: Params = init_params(vocab_size, context, emb_dim, hidden, rng, dtype=np.float64)
    opt = Adam(lr)
    for step in range(steps):
        batch = rng.integers(0, len(task.y_train), size=batch_size)
        _, grads = loss_and_grads(params, task.x_train[batch], task.y_train[batch])
        opt.step(params, grads, _linear_decay(lr, step, steps))
    return params


# -----------------------------------------------------------------------------
# LoRA on the tiny model


@dataclass(frozen=True, slots=True)
class Adapters:
    """Rank-r adapters for W1 and W2, in LoRA's (out, in) convention: a (r, in), b (out, r)."""

    a: Mapping[str, F64]
    b: Mapping[str, F64]
    alpha: float

    @property
    def rank(self) -> int:
        return int(self.a[ADAPTED[0]].shape[0])

    @property
    def scaling(self) -> float:
        """alpha / r."""
        return self.alpha / self.rank

    @property
    def trainable_parameters(self) -> int:
        return int(sum(self.a[k].size + self.b[k].size for k in ADAPTED))


def init_adapters(
    base: Mapping[str, NDArray[np.floating]], *, rank: int, alpha: float, rng: np.random.Generator
) -> Adapters:
    """A ~ Kaiming-uniform and B = 0 for each adapted matrix (as `LoRALinear.init`)."""
    _check_positive(alpha=alpha)
    a: dict[str, F64] = {}
    b: dict[str, F64] = {}
    for k in ADAPTED:
        layer = LoRALinear.init(base[k].T, rank=rank, alpha=alpha, rng=rng)
        a[k], b[k] = layer.a, layer.b
    return Adapters(a, b, float(alpha))


def lora_layers(
    base: Mapping[str, NDArray[np.floating]], adapters: Adapters
) -> dict[str, LoRALinear]:
    """The two adapted layers as `LoRALinear` (weight W^T, bias b1 or b2)."""
    biases = {"W1": "b1", "W2": "b2"}
    return {
        k: LoRALinear(
            np.asarray(base[k].T, dtype=np.float64),
            adapters.a[k],
            adapters.b[k],
            adapters.alpha,
            np.asarray(base[biases[k]], dtype=np.float64),
        )
        for k in ADAPTED
    }


def merge(base: Mapping[str, NDArray[np.floating]], adapters: Adapters) -> Params:
    """Plain parameters with W <- W + (alpha / r) (B A)^T folded in (tiny-model layout)."""
    merged: Params = {k: np.array(v, dtype=np.float64) for k, v in base.items()}
    for k, layer in lora_layers(base, adapters).items():
        merged[k] = layer.merged_weight().T
    return merged


def unmerged_logits(
    base: Mapping[str, NDArray[np.floating]], adapters: Adapters, x: IntArray
) -> F64:
    """Logits with the adapters kept apart: each adapted layer runs `LoRALinear.forward`."""
    layers = lora_layers(base, adapters)
    emb = base["emb"][x].reshape(x.shape[0], -1)
    h = np.tanh(layers["W1"].forward(emb))
    return layers["W2"].forward(h)


def merge_max_abs_diff(
    base: Mapping[str, NDArray[np.floating]], adapters: Adapters, x: IntArray
) -> float:
    """max |logits(merged) - logits(unmerged)| on the contexts x: float rounding only."""
    merged_logits, _, _ = forward(merge(base, adapters), x)
    return float(np.max(np.abs(merged_logits - unmerged_logits(base, adapters, x))))


def lora_grads_from_full(
    full_grad: NDArray[np.floating],
    a: NDArray[np.floating],
    b: NDArray[np.floating],
    scaling: float,
) -> tuple[F64, F64]:
    """(dL/dA, dL/dB) from G = dL/dW for a weight stored (in, out) and used as x W.

    The effective weight in (out, in) form is W^T + s B A, whose gradient is G^T, so by the
    chain rule dL/dB = s G^T A^T and dL/dA = s B^T G^T.
    """
    g_t = np.asarray(full_grad, dtype=np.float64).T  # (out, in)
    if a.shape[1] != g_t.shape[1] or b.shape[0] != g_t.shape[0]:
        shapes = f"A {a.shape}, B {b.shape}"
        raise ValueError(f"adapter shapes {shapes} do not fit G {full_grad.shape}")
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    grad_a: F64 = scaling * b64.T @ g_t
    grad_b: F64 = scaling * g_t @ a64.T
    return grad_a, grad_b


def lora_loss_and_grads(
    base: Mapping[str, NDArray[np.floating]],
    adapters: Adapters,
    x: IntArray,
    y: IntArray,
) -> tuple[float, dict[str, F64]]:
    """Loss and the adapters' gradients, keyed "A:W1", "B:W1", "A:W2", "B:W2"."""
    loss, grads = loss_and_grads(merge(base, adapters), x, y)
    out: dict[str, F64] = {}
    for k in ADAPTED:
        a, b, s = adapters.a[k], adapters.b[k], adapters.scaling
        out[f"A:{k}"], out[f"B:{k}"] = lora_grads_from_full(grads[k], a, b, s)
    return loss, out


# -----------------------------------------------------------------------------
# fine-tuning runs


@dataclass(frozen=True, slots=True)
class FinetuneRun:
    """One adaptation run: what trained, and the losses it reached."""

    label: str
    method: Method
    rank: int | None  # None for full fine-tuning
    alpha: float | None
    lr: float
    trainable_parameters: int
    steps: NDArray[np.int64]  # steps at which held-out losses were measured (0 = before)
    new_losses: F64  # held-out loss on the new text at those steps (nats/char)
    original_losses: F64  # held-out loss on the original text at those steps
    params: Params  # the tuned (merged, for LoRA) parameters
    adapters: Adapters | None

    @property
    def final_new_loss(self) -> float:
        return float(self.new_losses[-1])

    @property
    def final_original_loss(self) -> float:
        return float(self.original_losses[-1])

    @property
    def forgetting(self) -> float:
        """Rise of the original-text loss from before tuning to after (nats/char)."""
        return float(self.original_losses[-1] - self.original_losses[0])


def _adapters_from(train: Mapping[str, NDArray[np.floating]], alpha: float) -> Adapters:
    a = {k: np.asarray(train[f"A:{k}"], dtype=np.float64) for k in ADAPTED}
    b = {k: np.asarray(train[f"B:{k}"], dtype=np.float64) for k in ADAPTED}
    return Adapters(a, b, float(alpha))


def count_parameters(params: Mapping[str, NDArray[np.floating]]) -> int:
    return int(sum(p.size for p in params.values()))


def finetune(
    base: Mapping[str, NDArray[np.floating]],
    new: Task,
    original: Task,
    *,
    method: Method,
    rank: int = 8,
    alpha: float = 16.0,
    steps: int = 600,
    batch_size: int = 128,
    lr: float = 1e-3,
    eval_every: int = 50,
    seed: int = 1,
) -> FinetuneRun:
    """Adapt `base` to `new` by full fine-tuning or LoRA on W1 and W2; track both tasks.

    The same seed gives the same minibatches for every method, so curves differ only by
    what trains. The base parameters are never modified.
    """
    if method not in ("full", "lora"):
        raise ValueError(f"method must be 'full' or 'lora', got {method!r}")
    _check_positive(steps=steps, batch_size=batch_size, lr=lr, eval_every=eval_every)
    rng = np.random.default_rng(seed)
    frozen = {k: np.array(v, dtype=np.float64) for k, v in base.items()}
    opt = Adam(lr)
    adapters: Adapters | None = None
    train: Params
    if method == "full":
        train = {k: v.copy() for k, v in frozen.items()}
        trainable = count_parameters(train)
    else:
        adapters = init_adapters(frozen, rank=rank, alpha=alpha, rng=rng)
        train = {f"A:{k}": adapters.a[k].copy() for k in ADAPTED}
        train |= {f"B:{k}": adapters.b[k].copy() for k in ADAPTED}
        trainable = adapters.trainable_parameters

    def current() -> Params:
        return train if adapters is None else merge(frozen, _adapters_from(train, alpha))

    eval_steps: list[int] = []
    new_losses: list[float] = []
    original_losses: list[float] = []

    def record(step: int) -> None:
        p = current()
        eval_steps.append(step)
        new_losses.append(evaluate(p, new.x_val, new.y_val))
        original_losses.append(evaluate(p, original.x_val, original.y_val))

    record(0)
    for step in range(steps):
        batch = rng.integers(0, len(new.y_train), size=batch_size)
        x, y = new.x_train[batch], new.y_train[batch]
        grads: Mapping[str, NDArray[np.floating]]
        if adapters is None:
            _, grads = loss_and_grads(train, x, y)
        else:
            _, grads = lora_loss_and_grads(frozen, _adapters_from(train, alpha), x, y)
        opt.step(train, grads, _linear_decay(lr, step, steps))
        if (step + 1) % eval_every == 0 or step == steps - 1:
            record(step + 1)

    final_adapters = None if adapters is None else _adapters_from(train, alpha)
    label = "full fine-tuning" if method == "full" else f"LoRA r={rank}, alpha={alpha:g}"
    return FinetuneRun(
        label=label,
        method=method,
        rank=None if method == "full" else rank,
        alpha=None if method == "full" else float(alpha),
        lr=lr,
        trainable_parameters=trainable,
        steps=np.array(eval_steps, dtype=np.int64),
        new_losses=np.array(new_losses),
        original_losses=np.array(original_losses),
        params=current(),
        adapters=final_adapters,
    )


def update_spectrum(
    base: Mapping[str, NDArray[np.floating]], tuned: Mapping[str, NDArray[np.floating]], key: str
) -> F64:
    """Share of ||W_tuned - W_base||_F^2 captured by the top-k singular values, k = 1, 2, ...

    A value near 1 at small k means the full fine-tuning update is close to low-rank, the
    premise of LoRA (Aghajanyan et al.'s intrinsic dimension; Hu et al.'s rank analysis).
    """
    if key not in base or key not in tuned:
        raise ValueError(f"no matrix {key!r} in the parameters")
    s = np.linalg.svd(tuned[key] - base[key], compute_uv=False)
    energy = s**2
    out: F64 = np.cumsum(energy) / max(float(energy.sum()), 1e-300)
    return out


# -----------------------------------------------------------------------------
# the chapter's experiment


@dataclass(frozen=True, slots=True)
class Experiment:
    """Pretraining on one text, then every adaptation run on the second."""

    original: Task
    new: Task
    vocab_size: int
    base: Params
    base_original_loss: float  # held-out loss on the original text before tuning
    base_new_loss: float  # held-out loss on the new text before tuning
    runs: tuple[FinetuneRun, ...]

    def find(
        self,
        method: Method,
        *,
        rank: int | None = None,
        alpha: float | None = None,
        lr: float | None = None,
    ) -> FinetuneRun:
        """The one run with these settings (None matches any); ValueError unless unique."""
        found = [
            r
            for r in self.runs
            if r.method == method
            and (rank is None or r.rank == rank)
            and (alpha is None or r.alpha == alpha)
            and (lr is None or r.lr == lr)
        ]
        if len(found) != 1:
            wanted = f"{method} rank={rank} alpha={alpha} lr={lr}"
            raise ValueError(f"{len(found)} runs match {wanted}, need exactly one")
        return found[0]

    @property
    def full(self) -> tuple[FinetuneRun, ...]:
        return tuple(r for r in self.runs if r.method == "full")

    @property
    def lora_runs(self) -> tuple[FinetuneRun, ...]:
        return tuple(r for r in self.runs if r.method == "lora")


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One adaptation to run: full fine-tuning, or LoRA at a rank and alpha."""

    method: Method
    rank: int = 8
    alpha: float = 16.0
    lr: float = 1e-3


def run_experiment(
    original_text: str,
    new_text: str,
    specs: Sequence[RunSpec],
    *,
    original_name: str = "original",
    new_name: str = "new",
    context: int = 8,
    hidden: int = 256,
    pretrain_steps: int = 2000,
    finetune_steps: int = 600,
    eval_every: int = 50,
    seed: int = 0,
) -> Experiment:
    """Pretrain on `original_text`, then run every spec on `new_text` with the same batches."""
    if not specs:
        raise ValueError("specs must name at least one run")
    chars = shared_vocabulary(original_text, new_text)
    original = make_task(original_name, original_text, chars, context=context)
    new = make_task(new_name, new_text, chars, context=context)
    base = pretrain(
        original, len(chars), context=context, hidden=hidden, steps=pretrain_steps, seed=seed
    )
    runs = tuple(
        finetune(
            base,
            new,
            original,
            method=s.method,
            rank=s.rank,
            alpha=s.alpha,
            lr=s.lr,
            steps=finetune_steps,
            eval_every=eval_every,
            seed=seed + 1,
        )
        for s in specs
    )
    return Experiment(
        original=original,
        new=new,
        vocab_size=len(chars),
        base=base,
        base_original_loss=evaluate(base, original.x_val, original.y_val),
        base_new_loss=evaluate(base, new.x_val, new.y_val),
        runs=runs,
    )
