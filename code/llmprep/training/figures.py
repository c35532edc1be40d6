"""The computations and figures of the training deep dive ("Training and fine-tuning").

Each figure draws a computation from the `training` package or the foundations calculators:

- LoRA on the tiny model (`finetune.Experiment`): `lora_curves_figure` (held-out loss on the
  new text and on the original text against steps, full fine-tuning against LoRA ranks),
  `learn_forget_figure` (every run's final new-text loss against its original-text loss) and
  `lora_runs_table` (trainable parameters and losses per run, as Markdown).
- LoRA on a real shape: `lora_trainable_parameters` counts r (d_in + d_out) over the matrices
  a target set names (`TARGETS`), and `lora_rank_figure` draws it against the rank for
  Llama-3.1-8B.
- Training memory (`training.memory`): `zero_table_rows` reproduces the ZeRO paper's 7.5B
  example, `zero_memory_figure` draws memory per GPU by stage for named models on a named GPU,
  and `activation_figure` draws activation memory against sequence length by recomputation
  policy (Korthikanti et al.).
- DPO (`training.dpo`): `tabular_dpo` runs DPO on a softmax policy over a handful of whole
  responses, and `dpo_figure` draws the loss and gradient weight against the margin beside
  the log-probabilities during that run: the margins grow while the log-probability of a
  response that is *chosen* in one pair falls.

Figures are `matplotlib.figure.Figure`, not `pyplot`, so a function never touches global
state; the house style comes from `llmprep.book.plotting` via the chapter's setup cell.

Leaves out: anything that needs a GPU. Memory figures count model states and activations only
(no temporary buffers, fragmentation or framework overhead), and the tiny-model experiment is
a toy whose direction, not magnitude, is the lesson.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from llmprep.book.plotting import INK, PALETTE
from llmprep.foundations.model_shapes import ModelShape
from llmprep.foundations.params import param_count
from llmprep.training.dpo import dpo_gradients, dpo_loss
from llmprep.training.finetune import Experiment, FinetuneRun
from llmprep.training.memory import (
    Recompute,
    TrainingSetup,
    ZeroStage,
    activation_bytes_per_layer,
    model_states_per_gpu,
)

type F64 = NDArray[np.float64]
type Target = Literal["q,v", "attention", "all linear"]

TARGETS: Final[tuple[Target, ...]] = ("q,v", "attention", "all linear")
STAGE_NAMES: Final[Mapping[ZeroStage, str]] = {
    0: "DP",
    1: "ZeRO-1",
    2: "ZeRO-2",
    3: "ZeRO-3 / FSDP",
}


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    """A figure outside pyplot: displayed once in a notebook, garbage-collected after."""
    return Figure(figsize=(width, height), layout="constrained")


# ------------------------------------------------------------------------------------------
# LoRA on the tiny model


def _run_color(run: FinetuneRun, lora_runs: Sequence[FinetuneRun]) -> str:
    if run.method == "full":
        return INK
    return PALETTE[[r.label for r in lora_runs].index(run.label) % len(PALETTE)]


def lora_curves_figure(experiment: Experiment, runs: Sequence[FinetuneRun]) -> Figure:
    """Two panels against fine-tuning steps: held-out loss on the new text (learning) and on
    the original text (forgetting), one line per run; dotted lines mark the base model."""
    if not runs:
        raise ValueError("runs must name at least one run")
    fig = _new_figure(7.0, 3.8)
    learn, forget = fig.subplots(1, 2, sharex=True)
    loras = [r for r in runs if r.method == "lora"]
    for run in runs:
        style = {
            "color": _run_color(run, loras),
            "linestyle": "--" if run.method == "full" else "-",
        }
        learn.plot(run.steps, run.new_losses, label=run.label, **style)
        forget.plot(run.steps, run.original_losses, **style)
    learn.axhline(experiment.base_new_loss, color=INK, linestyle=":", linewidth=1)
    forget.axhline(experiment.base_original_loss, color=INK, linestyle=":", linewidth=1)
    learn.set_title(f"learning: {experiment.new.name}", loc="left", fontsize=11)
    forget.set_title(f"forgetting: {experiment.original.name}", loc="left", fontsize=11)
    for ax in (learn, forget):
        ax.set_xlabel("fine-tuning step")
    learn.set_ylabel("held-out loss (nats/char)")
    handles, labels = learn.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=9)
    return fig


def learn_forget_figure(experiment: Experiment) -> Figure:
    """Every run as one point: final loss on the new text (x) against final loss on the
    original text (y). Down and to the left is better; the base model is the star."""
    fig = _new_figure(6.0, 4.2)
    ax = fig.subplots()
    markers = {"full": "s", "lora": "o"}
    for method, name in (("full", "full fine-tuning"), ("lora", "LoRA")):
        chosen = [r for r in experiment.runs if r.method == method]
        if not chosen:
            continue
        ax.scatter(
            [r.final_new_loss for r in chosen],
            [r.final_original_loss for r in chosen],
            marker=markers[method],
            s=46,
            color=INK if method == "full" else PALETTE[0],
            label=name,
            zorder=3,
        )
        for r in chosen:
            tag = f"lr {r.lr:g}" if r.rank is None else f"r{r.rank}, a{r.alpha:g}, lr {r.lr:g}"
            ax.annotate(tag, (r.final_new_loss, r.final_original_loss), fontsize=7,
                        xytext=(4, 3), textcoords="offset points")  # fmt: skip
    ax.scatter([experiment.base_new_loss], [experiment.base_original_loss], marker="*", s=140,
               color=PALETTE[1], label="base model", zorder=3)  # fmt: skip
    ax.set_xlabel(f"loss on {experiment.new.name} after tuning (nats/char)")
    ax.set_ylabel(f"loss on {experiment.original.name}\nafter tuning (nats/char)")
    ax.legend(loc="upper right", fontsize=9)
    return fig


def lora_runs_table(experiment: Experiment) -> str:
    """A Markdown table: method, trainable parameters (and share of the model), learning
    rate, final losses on both texts and the forgetting, one row per run."""
    total = sum(int(p.size) for p in experiment.base.values())
    lines = [
        "| Run | Trainable parameters | Learning rate | New-text loss | Original-text loss"
        " | Forgetting |",
        "|:---|---:|---:|---:|---:|---:|",
        f"| base model (before tuning) | n/a | n/a | {experiment.base_new_loss:.3f} |"
        f" {experiment.base_original_loss:.3f} | n/a |",
    ]
    for r in experiment.runs:
        share = r.trainable_parameters / total
        lines.append(
            f"| {r.label} | {r.trainable_parameters:,} ({share:.1%}) | {r.lr:g} |"
            f" {r.final_new_loss:.3f} | {r.final_original_loss:.3f} | {r.forgetting:+.3f} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# LoRA on a real shape


def _target_matrices(shape: ModelShape, target: Target) -> list[tuple[int, int]]:
    """(d_in, d_out) of the matrices one block adapts for a target set."""
    q = (shape.d_model, shape.q_dim)
    k = v = (shape.d_model, shape.kv_dim)
    o = (shape.q_dim, shape.d_model)
    mlp = [(shape.d_model, shape.d_ff), (shape.d_model, shape.d_ff), (shape.d_ff, shape.d_model)]
    if target == "q,v":
        return [q, v]
    if target == "attention":
        return [q, k, v, o]
    if target == "all linear":
        return [q, k, v, o, *mlp]
    raise ValueError(f"target must be one of {TARGETS}, got {target!r}")


def lora_trainable_parameters(shape: ModelShape, rank: int, target: Target) -> int:
    """r (d_in + d_out) summed over the adapted matrices of every block (dense shapes only).

    Example: Llama-3.1-8B, r = 16, "q,v" -> 32 x 16 x ((4096 + 4096) + (4096 + 1024))
             = 6,815,744.
    """
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    if shape.moe is not None:
        raise ValueError(f"{shape.name} is a mixture of experts; count its experts separately")
    per_block = sum(rank * (d_in + d_out) for d_in, d_out in _target_matrices(shape, target))
    return shape.n_layers * per_block


def lora_rank_figure(shape: ModelShape, ranks: Sequence[int]) -> Figure:
    """Trainable parameters (share of the model, log scale) against rank, one line per
    target set; the dashed line at 100% is full fine-tuning."""
    total = param_count(shape)
    fig = _new_figure(6.4, 4.0)
    ax = fig.subplots()
    for i, target in enumerate(TARGETS):
        shares = [100 * lora_trainable_parameters(shape, r, target) / total for r in ranks]
        ax.plot(ranks, shares, marker="o", color=PALETTE[i], label=f"LoRA on {target}")
    ax.axhline(100, color=INK, linestyle="--", linewidth=1.2, label="full fine-tuning")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(list(ranks), [str(r) for r in ranks])
    ax.set_xlabel("LoRA rank r")
    ax.set_ylabel(f"trainable parameters\n(% of {shape.name})")
    ax.legend(fontsize=9, loc="lower right")
    return fig


# ------------------------------------------------------------------------------------------
# Training memory


def zero_table_rows(params: float, gpus: int) -> list[tuple[str, float]]:
    """(stage name, GB per GPU of model states) for stages 0-3, 16 bytes per parameter."""
    return [
        (STAGE_NAMES[stage], model_states_per_gpu(TrainingSetup(params, gpus, stage)).total / 1e9)
        for stage in (0, 1, 2, 3)
    ]


def zero_memory_figure(
    models: Mapping[str, float], *, gpus: int, gpu_bytes: float, gpu_label: str
) -> Figure:
    """Stacked bars of weights, gradients and optimizer states per GPU, one group per model
    and one bar per ZeRO stage, with the GPU's memory as a dashed line (log scale)."""
    if not models:
        raise ValueError("models must name at least one model")
    fig = _new_figure(7.0, 4.2)
    ax = fig.subplots()
    stages: tuple[ZeroStage, ...] = (0, 1, 2, 3)
    width = 0.8 / len(stages)
    parts = (("weights", PALETTE[0]), ("gradients", PALETTE[2]), ("optimizer", PALETTE[1]))
    for m, params in enumerate(models.values()):
        for j, stage in enumerate(stages):
            mem = model_states_per_gpu(TrainingSetup(params, gpus, stage))
            x = m + (j - (len(stages) - 1) / 2) * width
            bottom = 0.0
            for part, color in parts:
                value = getattr(mem, part) / 1e9
                ax.bar(x, value, width=width * 0.92, bottom=bottom, color=color,
                       label=part if m == 0 and j == 0 else None)  # fmt: skip
                bottom += value
            tag = STAGE_NAMES[stage].split(" ")[0]
            ax.annotate(tag, (x, bottom), ha="center", va="bottom", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")  # fmt: skip
    ax.axhline(gpu_bytes / 1e9, color=INK, linestyle="--", linewidth=1.2)
    ax.annotate(gpu_label, (len(models) - 0.5, gpu_bytes / 1e9), ha="right", va="bottom",
                fontsize=9, xytext=(0, 3), textcoords="offset points")  # fmt: skip
    ax.set_xticks(range(len(models)), [f"{n}\non {gpus} GPUs" for n in models])
    ax.set_ylabel("model states per GPU (GB)")
    ax.set_yscale("log")
    ax.legend(loc="upper left", fontsize=9)
    return fig


@dataclass(frozen=True, slots=True)
class ActivationCase:
    """One line of the activation figure: a recomputation policy and the parallelism."""

    label: str
    recompute: Recompute
    tensor_parallel: int = 1
    sequence_parallel: bool = False


def activation_gb(
    shape: ModelShape, seq: int, case: ActivationCase, *, micro_batch: int = 1
) -> float:
    """Activations of all layers per GPU, in GB (Korthikanti et al.'s per-layer bytes x L)."""
    per_layer = activation_bytes_per_layer(
        seq=seq,
        batch=micro_batch,
        hidden=shape.d_model,
        heads=shape.n_heads,
        tensor_parallel=case.tensor_parallel,
        sequence_parallel=case.sequence_parallel,
        recompute=case.recompute,
    )
    return shape.n_layers * per_layer / 1e9


def activation_figure(
    shape: ModelShape,
    seqs: Sequence[int],
    cases: Sequence[ActivationCase],
    *,
    gpu_bytes: float,
    gpu_label: str,
) -> Figure:
    """Activation memory per GPU against sequence length (log-log), one line per case."""
    fig = _new_figure(6.6, 4.2)
    ax = fig.subplots()
    for i, case in enumerate(cases):
        ax.plot(seqs, [activation_gb(shape, s, case) for s in seqs], marker="o",
                color=PALETTE[i % len(PALETTE)], label=case.label)  # fmt: skip
    ax.axhline(gpu_bytes / 1e9, color=INK, linestyle="--", linewidth=1.2)
    ax.annotate(gpu_label, (seqs[0], gpu_bytes / 1e9), va="bottom", fontsize=9,
                xytext=(0, 3), textcoords="offset points")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(list(seqs), [f"{s // 1024}k" for s in seqs])
    ax.set_xlabel("sequence length (tokens, micro-batch 1)")
    ax.set_ylabel(f"activations per GPU (GB)\n{shape.name}, {shape.n_layers} layers")
    ax.legend(fontsize=8, loc="upper left")
    return fig


# ------------------------------------------------------------------------------------------
# DPO on a tabular policy


@dataclass(frozen=True, slots=True)
class TabularDPO:
    """A DPO run on a softmax policy over whole responses to one prompt."""

    pairs: tuple[tuple[int, int], ...]  # (chosen, rejected) response ids
    beta: float
    logps: F64  # (steps + 1, n_responses): log pi_theta of every response
    ref_logps: F64  # (n_responses,)
    losses: F64  # (steps + 1,): mean DPO loss over the pairs

    def margins(self) -> F64:
        """(steps + 1, n_pairs): beta (log-ratio of the chosen - log-ratio of the rejected)."""
        ratios = self.logps - self.ref_logps
        chosen = ratios[:, [c for c, _ in self.pairs]]
        rejected = ratios[:, [r for _, r in self.pairs]]
        out: F64 = self.beta * (chosen - rejected)
        return out


def _log_softmax(z: F64) -> F64:
    shifted = z - z.max()
    out: F64 = shifted - np.log(np.exp(shifted).sum())
    return out


def tabular_dpo(
    pairs: Sequence[tuple[int, int]],
    n_responses: int,
    *,
    beta: float = 0.1,
    lr: float = 1.0,
    steps: int = 200,
) -> TabularDPO:
    """Gradient descent on the mean DPO loss of `pairs`, for logits z over n responses.

    The reference is uniform (z = 0). The chain rule through log-softmax gives
    d log pi(y) / dz = onehot(y) - pi, so each pair moves its chosen logit up and its
    rejected logit down by the same amount, and the softmax does the rest.
    """
    if n_responses < 2:
        raise ValueError(f"n_responses must be >= 2, got {n_responses}")
    if not pairs:
        raise ValueError("pairs must hold at least one (chosen, rejected) pair")
    for c, r in pairs:
        if c == r or not (0 <= c < n_responses and 0 <= r < n_responses):
            raise ValueError(f"bad pair ({c}, {r}) for {n_responses} responses")
    chosen = np.array([c for c, _ in pairs])
    rejected = np.array([r for _, r in pairs])
    z = np.zeros(n_responses)
    ref = _log_softmax(z)
    logps, losses = [], []
    for step in range(steps + 1):
        logp = _log_softmax(z)
        args = (logp[chosen], logp[rejected], ref[chosen], ref[rejected])
        logps.append(logp)
        losses.append(float(np.mean(dpo_loss(*args, beta=beta))))
        if step == steps:
            break
        g_chosen, g_rejected = dpo_gradients(*args, beta=beta)
        probs = np.exp(logp)
        grad = np.zeros(n_responses)
        for gc, gr, c, r in zip(g_chosen, g_rejected, chosen, rejected, strict=True):
            grad += gc * (np.eye(n_responses)[c] - probs) + gr * (np.eye(n_responses)[r] - probs)
        z = z - lr * grad / len(pairs)
    return TabularDPO(tuple((int(c), int(r)) for c, r in pairs), beta, np.array(logps), ref,
                      np.array(losses))  # fmt: skip


def dpo_figure(run: TabularDPO, *, labels: Sequence[str]) -> Figure:
    """Left: the DPO loss and its gradient weight beta sigmoid(-m) / beta against the margin
    m. Right: log pi of every response during `run`, and the margins of its pairs."""
    fig = _new_figure(7.0, 3.8)
    left, right = fig.subplots(1, 2)
    m = np.linspace(-6, 6, 241)
    left.plot(m, dpo_loss(m, 0.0, 0.0, 0.0, beta=1.0), color=PALETTE[0], label="loss")
    weight = -dpo_gradients(m, 0.0, 0.0, 0.0, beta=1.0)[0]
    left.plot(m, weight, color=PALETTE[1], linestyle="--", label="gradient weight")
    left.axvline(0, color=INK, linewidth=0.8)
    left.set_xlabel("margin m = beta x (log-ratio gap)")
    left.set_title("loss and push per pair", loc="left", fontsize=11)
    left.legend(fontsize=9)
    steps = np.arange(run.logps.shape[0])
    if len(labels) != run.logps.shape[1]:
        raise ValueError(f"need {run.logps.shape[1]} labels, got {len(labels)}")
    dashes = ("-", "--", "-.", ":")
    for i, name in enumerate(labels):
        right.plot(steps, run.logps[:, i], color=PALETTE[i % len(PALETTE)], label=name,
                   linestyle=dashes[i % len(dashes)], linewidth=2.6 - 0.4 * (i % 4))  # fmt: skip
    right.set_xlabel("DPO step")
    right.set_ylabel("log-probability")
    right.set_title("log pi of each response", loc="left", fontsize=11)
    right.legend(fontsize=8, loc="lower left")
    return fig
