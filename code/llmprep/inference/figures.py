"""The computations and figures of the "Inference optimization" deep dive.

- number formats: `FloatFormat` derives a format's range and precision from its exponent and
  mantissa bits (`FORMATS`: FP32, BF16, FP16, FP8 E4M3 and E5M2, FP4 E2M1), so the format
  table is computed, not copied; `fp_round` rounds to such a grid (with a block scale, the
  microscaling formats).
- quantizing MiniLM: `similarity_figure` draws `minilm_quant.compare_schemes`' agreement
  against bits per weight; `outlier_figure` draws per-channel activation maxima and
  SmoothQuant's W8A8 error against its alpha.
- speculative decoding: `train_pair` trains a small draft and a larger target TinyLM on the
  same text; `acceptance_by_temperature` measures alpha = E[sum min(p, q)] on held-out text;
  `run_speculative` runs `inference.speculative` for several draft lengths and temperatures
  and compares the measured tokens per target call with Leviathan et al.'s formula at the
  measured alpha; `speculative_figure` draws both.
- serving: `serving_sweep` runs `inference.serving`'s simulator over arrival rates for
  several scheduler configs; `serving_figure` draws goodput and p99 TPOT against load.

Figures are `matplotlib.figure.Figure` objects (no pyplot state); the house style comes from
the chapter's setup cell.

Leaves out: integer formats' hardware kernels, FP8 scaling recipes (per-tensor delayed
scaling, DeepSeek's 128-element tiles), and measured wall-clock speed-ups: the speculative
experiment counts model calls, which is what a memory-bound server pays for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from llmprep.book.plotting import INK, PALETTE
from llmprep.foundations.sampling import softmax
from llmprep.foundations.tiny_lm import TinyLM, train
from llmprep.inference.minilm_quant import EmbeddingAgreement
from llmprep.inference.serving import (
    LengthSampler,
    ServerConfig,
    SimResult,
    StepCostModel,
    goodput,
    percentiles,
    poisson_requests,
    simulate,
)
from llmprep.inference.speculative import (
    TinyLMModel,
    acceptance_rate,
    expected_tokens_per_call,
    speculative_generate,
    stats,
)

type F64 = NDArray[np.float64]
type Specials = Literal["ieee", "nan-only", "none"]


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


# ------------------------------------------------------------------------------------------
# number formats


@dataclass(frozen=True, slots=True)
class FloatFormat:
    """A binary floating-point format: sign, `exponent` bits, `mantissa` bits.

    specials says what the top exponent holds: "ieee" reserves it for inf and NaN (FP32,
    BF16, FP16, E5M2); "nan-only" keeps it for numbers except the all-ones mantissa, which
    is NaN (OCP FP8 E4M3, so it reaches 448 instead of 240); "none" has no inf or NaN
    (FP4 E2M1).

    Example: FloatFormat("E4M3", 4, 3, "nan-only").max_value -> 448.0
    """

    name: str
    exponent: int
    mantissa: int
    specials: Specials = "ieee"

    @property
    def bits(self) -> int:
        return 1 + self.exponent + self.mantissa

    @property
    def bias(self) -> int:
        return int(2 ** (self.exponent - 1) - 1)

    @property
    def max_value(self) -> float:
        top = 2**self.exponent - 1 - (1 if self.specials == "ieee" else 0)
        step = 2.0**-self.mantissa
        top_mantissa = 2.0 - step * (2 if self.specials == "nan-only" else 1)
        return float(top_mantissa * 2.0 ** (top - self.bias))

    @property
    def min_normal(self) -> float:
        return float(2.0 ** (1 - self.bias))

    @property
    def min_subnormal(self) -> float:
        return float(2.0 ** (1 - self.bias - self.mantissa))

    @property
    def relative_step(self) -> float:
        """Spacing of the grid just above 1: 2^-mantissa (half of it is the rounding error)."""
        return float(2.0**-self.mantissa)

    def grid(self) -> F64:
        """Every non-negative finite value (for formats of 8 bits or fewer)."""
        if self.bits > 8:
            raise ValueError(f"{self.name} has {self.bits} bits: too many values to list")
        values = {0.0}
        for e in range(2**self.exponent):
            for m in range(2**self.mantissa):
                if e == 2**self.exponent - 1:
                    if self.specials == "ieee":
                        continue
                    if self.specials == "nan-only" and m == 2**self.mantissa - 1:
                        continue
                if e == 0:
                    values.add(m / 2**self.mantissa * self.min_normal)
                else:
                    values.add((1 + m / 2**self.mantissa) * 2.0 ** (e - self.bias))
        return np.array(sorted(values))


FP32 = FloatFormat("FP32", 8, 23)
BF16 = FloatFormat("BF16", 8, 7)
FP16 = FloatFormat("FP16", 5, 10)
E4M3 = FloatFormat("FP8 E4M3", 4, 3, "nan-only")
E5M2 = FloatFormat("FP8 E5M2", 5, 2)
E2M1 = FloatFormat("FP4 E2M1", 2, 1, "none")
FORMATS: tuple[FloatFormat, ...] = (FP32, BF16, FP16, E4M3, E5M2, E2M1)


def _nearest(magnitudes: F64, grid: F64) -> F64:
    """The nearest grid value to each magnitude (grid sorted, from 0); saturates at the top.
    Ties go to the value with the even index, as round-half-to-even does on a uniform grid."""
    hi = np.clip(np.searchsorted(grid, magnitudes), 1, len(grid) - 1)
    lo = hi - 1
    d_lo, d_hi = magnitudes - grid[lo], grid[hi] - magnitudes
    pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (hi % 2 == 0))
    out: F64 = np.where(pick_hi, grid[hi], grid[lo])
    return out


def fp_round(x: F64, fmt: FloatFormat, *, block: int | None = None, scale: float = 1.0) -> F64:
    """Round x to the nearest value of a small float format (saturating, not overflowing).

    block=None divides by one `scale` for the whole tensor (FP8 with a per-tensor scale:
    pass scale = max|x| / fmt.max_value), rounds, and multiplies back. With block=n, each
    run of n consecutive values along the last axis gets its own power-of-two scale that
    brings its largest magnitude within the format's range, as MXFP4 and MXFP8 do (one
    shared 8-bit exponent per 32 values).

    Example: fp_round(np.array([0.7, -2.4, 5.0, 100.0]), E2M1) -> [0.5, -2.0, 4.0, 6.0]
    """
    grid = fmt.grid()
    a = np.asarray(x, dtype=np.float64)
    if block is None:
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        out: F64 = np.sign(a) * _nearest(np.abs(a) / scale, grid) * scale
        return out
    if a.shape[-1] % block:
        raise ValueError(f"block {block} must divide the last dimension {a.shape[-1]}")
    blocks = a.reshape(-1, block)
    amax = np.abs(blocks).max(axis=1, keepdims=True)
    safe = np.where(amax > 0, amax, 1.0)
    scales = 2.0 ** np.ceil(np.log2(safe / grid[-1]))
    rounded: F64 = (np.sign(blocks) * _nearest(np.abs(blocks) / scales, grid) * scales).reshape(
        a.shape
    )
    return rounded


# ------------------------------------------------------------------------------------------
# quantizing MiniLM


def similarity_figure(
    results: Mapping[str, EmbeddingAgreement], bits: Mapping[str, float]
) -> Figure:
    """Three agreement measures per scheme, schemes ordered as given, bits in the labels."""
    fig = _new_figure(7.0, 4.4)
    ax = fig.add_subplot()
    names = list(results)
    x = np.arange(len(names))
    series = [
        ("mean cosine to fp32", [results[n].cosine_mean for n in names], "o-"),
        ("worst-sentence cosine", [results[n].cosine_min for n in names], "v--"),
        ("Spearman of pair similarities", [results[n].spearman for n in names], "s-"),
        (
            f"top-{results[names[0]].k} neighbors kept",
            [results[n].top_k for n in names],
            "D-",
        ),
    ]
    for (label, values, style), color in zip(series, PALETTE, strict=False):
        ax.plot(x, values, style, color=color, label=label, markersize=6)
    ax.set_xticks(x, [f"{n}\n{bits[n]:.2f} bits" for n in names], fontsize=8.5)
    ax.set_ylabel("agreement with fp32 (1 = identical)")
    ax.set_ylim(min(0.7, min(min(v) for _, v, _ in series) - 0.02), 1.005)
    ax.legend(loc="lower left", fontsize=9)
    ax.set_title("MiniLM embeddings after quantizing every linear weight")
    return fig


def outlier_figure(
    channel_max: Mapping[str, F64],
    alphas: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    baselines: Mapping[str, float],
) -> Figure:
    """Left: per-channel max |activation| at each named site (channels in index order).
    Right: W8A8 relative error against SmoothQuant's alpha, with unsmoothed baselines."""
    fig = _new_figure(7.6, 3.9)
    left, right = fig.subplots(1, 2, width_ratios=(1.5, 1))
    for (name, values), color in zip(channel_max.items(), PALETTE, strict=False):
        left.plot(np.arange(len(values)), values, color=color, linewidth=1.0, label=name)
    left.set_xlabel("channel (feature dimension)")
    left.set_ylabel("max |activation| over tokens")
    left.legend(fontsize=8.5, loc="upper right")
    left.set_title("Activation outliers")
    for (name, errs), color in zip(errors.items(), PALETTE, strict=False):
        right.plot(alphas, np.asarray(errs) * 100, "o-", color=color, label=name, markersize=4)
    for (name, value), style in zip(baselines.items(), (":", "--"), strict=False):
        right.axhline(value * 100, color=INK, linestyle=style, linewidth=1.2, label=name)
    right.set_xlabel("SmoothQuant alpha")
    right.set_ylabel("W8A8 output error (%)")
    right.set_ylim(bottom=0)
    right.legend(fontsize=8, loc="upper right")
    right.set_title("Smoothing one layer")
    return fig


# ------------------------------------------------------------------------------------------
# speculative decoding with two TinyLMs


@dataclass(frozen=True, slots=True)
class ModelPair:
    """A draft and a target trained on the same text (so they share the vocabulary)."""

    draft: TinyLM
    target: TinyLM
    held_out: NDArray[np.int64]  # the last 10% of the text, as ids

    @property
    def cost_ratio(self) -> float:
        """Draft parameters over target parameters: a draft step's share of a target step
        when both are memory-bound (bytes read scale with parameters)."""
        return _n_params(self.draft) / _n_params(self.target)


def _n_params(lm: TinyLM) -> int:
    return int(sum(p.size for p in lm.params.values()))


def train_pair(text: str, *, seed: int = 0) -> ModelPair:
    """A small draft (context 4, 48 hidden units) and a larger target (context 8, 256)."""
    draft = train(text, context=4, emb_dim=12, hidden=48, steps=1500, seed=seed + 1)
    target = train(text, context=8, emb_dim=24, hidden=256, steps=3000, seed=seed)
    if draft.chars != target.chars:
        raise ValueError("draft and target vocabularies differ")
    held_out = target.encode(text[int(len(text) * 0.9) :])
    return ModelPair(draft, target, held_out)


def _tempered(p: F64, temperature: float) -> F64:
    if temperature == 0.0:
        out = np.zeros_like(p)
        out[int(np.argmax(p))] = 1.0
        return out
    with np.errstate(divide="ignore"):
        return softmax(np.log(p), temperature=temperature)


def acceptance_by_temperature(
    pair: ModelPair, temperatures: Sequence[float], *, positions: int = 300, seed: int = 0
) -> dict[float, float]:
    """alpha(T): the mean of sum_x min(p_T, q_T) over held-out contexts (teacher-forced)."""
    rng = np.random.default_rng(seed)
    n = len(pair.held_out)
    if n <= pair.target.context:
        raise ValueError(f"held-out text of {n} ids is too short")
    picks = rng.choice(np.arange(pair.target.context, n), size=min(positions, n - 8), replace=False)
    target, draft = TinyLMModel(pair.target), TinyLMModel(pair.draft)
    probs = [
        (target.probs(pair.held_out[:i].tolist()), draft.probs(pair.held_out[:i].tolist()))
        for i in picks
    ]
    return {
        t: float(np.mean([acceptance_rate(_tempered(p, t), _tempered(q, t)) for p, q in probs]))
        for t in temperatures
    }


@dataclass(frozen=True, slots=True)
class SpecResult:
    """One (temperature, k) cell of the experiment."""

    temperature: float
    k: int
    tokens_per_call: float  # measured tokens per target forward pass
    alpha: float  # measured: accepted drafts / drafts actually checked
    predicted: float  # (1 - alpha^(k+1)) / (1 - alpha) at the measured alpha
    speedup: float  # tokens / (target calls + c x draft calls), c = cost_ratio


def run_speculative(
    pair: ModelPair,
    ks: Sequence[int],
    temperatures: Sequence[float],
    *,
    prompts: int = 4,
    new_tokens: int = 120,
    seed: int = 0,
) -> list[SpecResult]:
    """Generate from held-out prompts with each k and temperature; count calls."""
    rng = np.random.default_rng(seed)
    target, draft = TinyLMModel(pair.target), TinyLMModel(pair.draft)
    starts = np.linspace(32, len(pair.held_out) - 1, prompts).astype(int)
    out = []
    for t in temperatures:
        for k in ks:
            steps = []
            for s in starts:
                prompt = pair.held_out[s - 32 : s].tolist()
                _, taken = speculative_generate(
                    target, draft, prompt, k=k, max_new_tokens=new_tokens, temperature=t, rng=rng
                )
                steps.extend(taken)
            total = stats(steps)
            alpha = total.acceptance  # accepted / checked: drafts after a rejection go unjudged
            out.append(
                SpecResult(
                    t,
                    k,
                    total.tokens_per_target_call,
                    alpha,
                    expected_tokens_per_call(min(alpha, 1.0), k),
                    total.speedup(pair.cost_ratio),
                )
            )
    return out


def speculative_figure(alpha_by_t: Mapping[float, float], results: Sequence[SpecResult]) -> Figure:
    """Left: alpha against temperature. Right: measured tokens per target call against k
    (markers) and the formula at each temperature's measured alpha (lines)."""
    fig = _new_figure(7.6, 3.9)
    left, right = fig.subplots(1, 2)
    ts = sorted(alpha_by_t)
    left.plot(ts, [alpha_by_t[t] for t in ts], "o-", color=PALETTE[0])
    left.set_xlabel("temperature")
    left.set_ylabel("acceptance rate alpha")
    left.set_ylim(0, 1)
    left.set_title("Draft-target agreement")
    temps = sorted({r.temperature for r in results})
    for t, color in zip(temps, PALETTE[1:], strict=False):
        rows = sorted((r for r in results if r.temperature == t), key=lambda r: r.k)
        ks = [r.k for r in rows]
        right.plot(ks, [r.tokens_per_call for r in rows], "o", color=color, label=f"T = {t:g}")
        alpha = float(np.mean([r.alpha for r in rows]))
        grid = np.arange(0, max(ks) + 1)
        right.plot(
            grid,
            [expected_tokens_per_call(alpha, int(k)) for k in grid],
            "-",
            color=color,
            linewidth=1.2,
            label=f"formula, alpha = {alpha:.2f}",
        )
    right.set_xlabel("draft length k")
    right.set_ylabel("tokens per target call")
    right.legend(fontsize=8, loc="upper left")
    right.set_title("Measured against the formula")
    return fig


# ------------------------------------------------------------------------------------------
# serving: static vs continuous batching, chunked prefill, goodput


def serving_sweep(
    cost: StepCostModel,
    configs: Mapping[str, ServerConfig],
    rates: Sequence[float],
    *,
    n: int = 400,
    prompt: LengthSampler,
    output: LengthSampler,
    seed: int = 0,
) -> dict[str, list[SimResult]]:
    """Simulate the same seeded request stream at each arrival rate under each config."""
    streams = [poisson_requests(n, rate, prompt=prompt, output=output, seed=seed) for rate in rates]
    return {
        name: [simulate(reqs, cost, config) for reqs in streams] for name, config in configs.items()
    }


def serving_figure(
    rates: Sequence[float],
    results: Mapping[str, Sequence[SimResult]],
    *,
    ttft_slo: float,
    tpot_slo: float,
) -> Figure:
    """Left: goodput (requests/s meeting both SLOs) against offered load, per policy.
    Right: p99 time per output token against offered load, with the TPOT objective."""
    fig = _new_figure(7.6, 3.9)
    left, right = fig.subplots(1, 2)
    left.plot(rates, rates, ":", color=INK, linewidth=1.0, label="offered load")
    for (name, runs), color in zip(results.items(), PALETTE, strict=False):
        left.plot(
            rates,
            [goodput(r, ttft_slo=ttft_slo, tpot_slo=tpot_slo) for r in runs],
            "o-",
            color=color,
            label=name,
            markersize=4,
        )
        right.plot(
            rates,
            [percentiles(r.tpot, (99,))[99] * 1e3 for r in runs],
            "o-",
            color=color,
            label=name,
            markersize=4,
        )
    right.axhline(tpot_slo * 1e3, color=INK, linestyle="--", linewidth=1.0, label="TPOT SLO")
    left.set_xlabel("arrival rate (requests/s)")
    left.set_ylabel("goodput (requests/s within SLO)")
    left.set_title("Goodput")
    left.legend(fontsize=8, loc="upper left")
    right.set_xlabel("arrival rate (requests/s)")
    right.set_ylabel("p99 time per output token (ms)")
    right.set_title("Tail TPOT")
    right.set_ylim(bottom=0)
    right.legend(fontsize=8, loc="lower right")
    return fig
