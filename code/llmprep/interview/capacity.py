"""Back-of-envelope numbers for an LLM system-design interview, computed instead of guessed.

An interviewer wants five numbers before any box is drawn: how many requests a second (on
average and at peak), how many tokens a second, what that costs a day on an API, how many
GPUs it takes to self-host, and where the latency goes. This module chains them:

    Traffic (users x requests, peak-to-average)  -> requests/day, QPS average and peak
    TokenProfile (tokens per call, calls, cache) -> tokens/s, API USD per request and per day
    SelfHosting (model shape, accelerator, batch) -> GPUs per replica (memory), replicas (load)
    VectorIndex, LogPolicy                       -> bytes of index and of logs
    latency stages                               -> a budget against an SLO

and `estimate` packs them into one `Estimate` that renders as a table. Nothing here is new
arithmetic: API prices come from `llmprep.core.pricing` (dated) and prompt-cache discounts
from `llmprep.production.cost`; GPU time from `llmprep.production.capacity`; model memory and
KV cache from `llmprep.foundations`; index memory from `llmprep.rag.index_math`.

The self-hosting model provisions for the *peak*: a replica is the set of GPUs that holds the
weights plus `batch` sequences of KV cache (tensor parallelism when one GPU is too small),
and replicas are added until the peak load uses at most `target_utilization` of them.
Autoscaling (`autoscaled_gpu_hours`) follows a daily traffic curve instead.

Prefill runs at the chip's bf16 peak times `mfu` even for 8-bit weights (FP8 kernels would be
up to twice as fast), and prompt caching lowers the API bill only: a self-hosted prefix cache
would cut prefill too.

Leaves out: queueing delay (an M/G/c model would add it on top of the service times),
tensor-parallel communication (GPU-seconds per request are taken as unchanged when a replica
spans several GPUs, which is optimistic), MoE expert touch rates at large batch, cache-write
surcharges on the API bill (at high hit rates they are a small share), cache misses (the
cached share is assumed to hit on every call once it reaches the provider's minimum prefix),
reasoning tokens (billed as output by reasoning models: add them to `output_tokens`),
batch-API discounts, the cost of embedding calls, people, and any real GPU price:
`gpu_hour_usd` is a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from llmprep.core.pricing import PRICES, ModelPrice, price_of
from llmprep.foundations.hardware import Accelerator
from llmprep.foundations.kv_cache import kv_cache_bytes_for_context
from llmprep.foundations.model_shapes import ModelShape
from llmprep.foundations.params import param_count, weights_bytes
from llmprep.production.capacity import (
    Workload,
    decode_step_seconds,
    gpu_seconds_per_request,
    prefill_flops,
)
from llmprep.production.cost import CACHE_PRICES, CachePricing, prompt_cache_cost
from llmprep.rag.index_math import Encoding, flat_footprint, hnsw_footprint

SECONDS_PER_DAY = 86_400
DAYS_PER_MONTH = 30  # the convention for a monthly bill in an interview


def _number(name: str, value: object, *, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {value!r}")
    return float(value)


def _count(name: str, value: object, *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return value


def _fraction(name: str, value: object, *, open_low: bool = False) -> float:
    v = _number(name, value)
    if v > 1 or (open_low and v == 0):
        interval = "(0, 1]" if open_low else "[0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return v


# ------------------------------------------------------------------------------------------
# Traffic and tokens


@dataclass(frozen=True, slots=True)
class Traffic:
    """Who sends requests, and how bursty they are.

    Example: Traffic(100_000, 4).avg_qps -> 4.63; with the default peak of 3x, 13.9 at peak
    """

    daily_active_users: float
    requests_per_user_per_day: float
    peak_to_average: float = 3.0  # busiest-hour QPS over the day's average

    def __post_init__(self) -> None:
        _number("daily_active_users", self.daily_active_users)
        _number("requests_per_user_per_day", self.requests_per_user_per_day)
        _number("peak_to_average", self.peak_to_average, low=1.0)

    @property
    def requests_per_day(self) -> float:
        return self.daily_active_users * self.requests_per_user_per_day

    @property
    def avg_qps(self) -> float:
        return self.requests_per_day / SECONDS_PER_DAY

    @property
    def peak_qps(self) -> float:
        return self.avg_qps * self.peak_to_average

    def scaled(self, factor: float) -> Traffic:
        """The same users' habits with `factor` times as many users."""
        f = _number("factor", factor)
        return Traffic(self.daily_active_users * f, self.requests_per_user_per_day,
                       self.peak_to_average)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TokenProfile:
    """Tokens of one LLM call, and how many calls one user request makes (an agent loop, a
    router before the answer). `cached_input_share` is the share of each call's input read
    from the provider's prompt cache (a shared system prompt, tool schemas)."""

    input_tokens: int
    output_tokens: int
    cached_input_share: float = 0.0
    llm_calls: int = 1

    def __post_init__(self) -> None:
        _count("input_tokens", self.input_tokens)
        _count("output_tokens", self.output_tokens)
        _fraction("cached_input_share", self.cached_input_share)
        _count("llm_calls", self.llm_calls, low=1)

    @property
    def cached_tokens(self) -> int:
        """Input tokens per call billed as cache reads (rounded down)."""
        return math.floor(self.input_tokens * self.cached_input_share)

    @property
    def per_request(self) -> tuple[int, int]:
        """(input, output) tokens of one user request, all calls together."""
        return self.input_tokens * self.llm_calls, self.output_tokens * self.llm_calls


def tokens_per_second(
    traffic: Traffic, tokens: TokenProfile, *, peak: bool = True
) -> tuple[float, float]:
    """(input, output) tokens per second, at the peak or on average.

    Example: 13.9 peak QPS x 3,000 input and 300 output tokens -> (41,667, 4,167)
    """
    qps = traffic.peak_qps if peak else traffic.avg_qps
    n_in, n_out = tokens.per_request
    return qps * n_in, qps * n_out


# ------------------------------------------------------------------------------------------
# API cost


type CacheStatus = Literal["cached", "not assumed", "no cache price", "below cache minimum"]


def cache_status(
    tokens: TokenProfile,
    model: str,
    cache_prices: Mapping[str, CachePricing] = CACHE_PRICES,
) -> CacheStatus:
    """Whether the profile's cached share is billed as cache reads on `model`: only if the
    provider has verified cache prices and the cached prefix reaches its minimum length
    (`CachePricing.min_prefix_tokens`).

    Example: 480 cached tokens on gpt-5-mini (minimum 1,024) -> 'below cache minimum'
    """
    cached = tokens.cached_tokens if tokens.cached_input_share else 0
    if not cached:
        return "not assumed"
    if model not in cache_prices:
        return "no cache price"
    if cached < cache_prices[model].min_prefix_tokens:
        return "below cache minimum"
    return "cached"


def api_cost_per_request(
    tokens: TokenProfile,
    model: str,
    prices: Mapping[str, ModelPrice] = PRICES,
    cache_prices: Mapping[str, CachePricing] = CACHE_PRICES,
) -> Decimal:
    """Exact USD of one user request on `model`: every call's uncached input, cache
    reads and output. The cached share pays full price on a model with no verified cache
    prices or when the prefix is shorter than the provider caches (`cache_status`)."""
    if cache_status(tokens, model, cache_prices) == "cached":
        cached = tokens.cached_tokens
        call = prompt_cache_cost(
            model,
            uncached_input_tokens=tokens.input_tokens - cached,
            cache_read_tokens=cached,
            output_tokens=tokens.output_tokens,
            prices=prices,
            cache_prices=cache_prices,
        )
    else:
        call = price_of(model, prices).cost(tokens.input_tokens, tokens.output_tokens)
    return call * tokens.llm_calls


def api_cost_per_day(
    traffic: Traffic,
    tokens: TokenProfile,
    model: str,
    prices: Mapping[str, ModelPrice] = PRICES,
    cache_prices: Mapping[str, CachePricing] = CACHE_PRICES,
) -> Decimal:
    """USD per day: requests per day x the exact cost of one request.

    Example: 400,000 requests of 3,000 in / 300 out on gpt-5-mini ($0.25 / $2.00 per MTok):
    400,000 x $0.00135 = $540 a day.
    """
    per_request = api_cost_per_request(tokens, model, prices, cache_prices)
    return per_request * Decimal(traffic.requests_per_day)


# ------------------------------------------------------------------------------------------
# Self-hosting: GPUs from memory and from load


@dataclass(frozen=True, slots=True)
class SelfHosting:
    """A self-hosted deployment: the model, the chip and the operating point."""

    shape: ModelShape
    accel: Accelerator
    batch: int = 32  # concurrent sequences per replica under continuous batching
    weight_bits: float = 16
    mfu: float = 0.5  # share of peak FLOP/s a prefill achieves
    bandwidth_efficiency: float = 0.7  # share of peak HBM bandwidth a decode step achieves
    target_utilization: float = 0.6  # provision so the peak keeps replicas this busy
    min_replicas: int = 2  # one can fail
    gpu_hour_usd: float = 3.0  # an assumed price, a parameter, not a quote
    memory_headroom: float = 0.9  # share of HBM for weights + KV (the rest: runtime)

    def __post_init__(self) -> None:
        _count("batch", self.batch, low=1)
        _number("weight_bits", self.weight_bits, low=1)
        _fraction("mfu", self.mfu, open_low=True)
        _fraction("bandwidth_efficiency", self.bandwidth_efficiency, open_low=True)
        _fraction("target_utilization", self.target_utilization, open_low=True)
        _count("min_replicas", self.min_replicas, low=1)
        _number("gpu_hour_usd", self.gpu_hour_usd)
        _fraction("memory_headroom", self.memory_headroom, open_low=True)

    @property
    def label(self) -> str:
        return f"{self.shape.name} ({self.weight_bits:g}-bit) on {self.accel.name}"


@dataclass(frozen=True, slots=True)
class GpuPlan:
    """How many GPUs a self-hosted deployment needs at the peak, and how fast each stream is."""

    hosting: SelfHosting
    memory_per_replica: float  # bytes: weights + batch x KV cache at the longest context
    gpus_per_replica: int
    replicas: int
    gpu_seconds_per_request: float  # all the request's calls
    peak_gpu_load: float  # GPU-seconds of work per second at the peak
    ttft_s: float  # one call's prefill on one replica
    tpot_s: float  # one decode step at the batch (time per output token of a stream)

    @property
    def gpus(self) -> int:
        return self.gpus_per_replica * self.replicas

    @property
    def cost_per_day(self) -> float:
        """Every GPU billed around the clock at the assumed price."""
        return self.gpus * 24 * self.hosting.gpu_hour_usd

    @property
    def requests_per_gpu_day(self) -> float:
        """Requests one GPU serves in a day if kept fully busy."""
        return SECONDS_PER_DAY / self.gpu_seconds_per_request


def replica_memory_bytes(
    shape: ModelShape, *, batch: int, context: int, weight_bits: float = 16
) -> float:
    """Bytes a replica holds: all the weights at `weight_bits` plus `batch` sequences of KV
    cache at `context` tokens (bf16 cache; windows and MLA accounted for)."""
    weights = weights_bytes(param_count(shape), weight_bits)
    return weights + kv_cache_bytes_for_context(shape, seq_len=context, batch=batch)


def gpu_plan(traffic: Traffic, tokens: TokenProfile, hosting: SelfHosting) -> GpuPlan:
    """GPUs for the peak: a replica is enough GPUs to hold the weights plus `batch`
    sequences; replicas are added until the peak load keeps each at most
    `target_utilization` busy, and never fewer than `min_replicas`."""
    h, n_in, n_out = hosting, tokens.input_tokens, tokens.output_tokens
    # Memory decides the replica: weights + batch x KV cache at the longest context.
    memory = replica_memory_bytes(
        h.shape, batch=h.batch, context=n_in + n_out, weight_bits=h.weight_bits
    )
    per_replica = math.ceil(memory / (h.accel.hbm_gb * 1e9 * h.memory_headroom))
    # Load decides the replica count: GPU-seconds of work per second at the peak.
    bits, bw = h.weight_bits, h.bandwidth_efficiency
    call_s = gpu_seconds_per_request(
        h.shape, h.accel, Workload(n_in, n_out), batch=h.batch, weight_bits=bits,
        mfu=h.mfu, bandwidth_efficiency=bw,
    )  # fmt: skip
    request_s = call_s * tokens.llm_calls
    load = traffic.peak_qps * request_s
    busy = per_replica * h.target_utilization
    replicas = max(h.min_replicas, math.ceil(load / busy))
    # Ideal tensor parallelism: k GPUs give k times the FLOP/s and the bandwidth.
    ttft = prefill_flops(h.shape, n_in) / (h.accel.flops_per_s() * h.mfu * per_replica)
    step = decode_step_seconds(
        h.shape, h.accel, batch=h.batch, context=n_in + n_out, weight_bits=bits,
        bandwidth_efficiency=bw,
    )  # fmt: skip
    tpot = step / per_replica
    return GpuPlan(h, memory, per_replica, replicas, request_s, load, ttft, tpot)


def gpus_needed(
    traffic: Traffic,
    tokens: TokenProfile,
    shape: ModelShape,
    accel: Accelerator,
    *,
    batch: int,
    weight_bits: float = 16,
    target_utilization: float = 0.6,
    min_replicas: int = 2,
) -> int:
    """GPUs to serve the peak (see `gpu_plan`).

    Example: 13.9 peak QPS of 3,000 in / 300 out on Qwen3-8B, H100 SXM, batch 32 -> 6
    """
    hosting = SelfHosting(
        shape,
        accel,
        batch=batch,
        weight_bits=weight_bits,
        target_utilization=target_utilization,
        min_replicas=min_replicas,
    )
    return gpu_plan(traffic, tokens, hosting).gpus


def diurnal_profile(peak_to_average: float, hours: int = 24) -> tuple[float, ...]:
    """Hourly traffic multipliers that average 1 and peak at `peak_to_average`: a von Mises
    bump exp(k cos(angle)) with k found by bisection (k = 0 is flat traffic).

    Example: max(diurnal_profile(3.0)) -> 3.0 and sum(...) / 24 -> 1.0
    """
    target = _number("peak_to_average", peak_to_average, low=1.0)
    if target > hours:
        raise ValueError(f"peak_to_average cannot exceed hours={hours}, got {target!r}")
    angles = [2 * math.pi * i / hours for i in range(hours)]

    def shape(k: float) -> list[float]:
        # exp(k (cos - 1)) keeps the numbers <= 1 however large k grows.
        return [math.exp(k * (math.cos(a) - 1)) for a in angles]

    def ratio(k: float) -> float:
        w = shape(k)
        return max(w) / (sum(w) / hours)

    low, high = 0.0, 1.0
    while ratio(high) < target:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if ratio(mid) < target else (low, mid)
    w = shape((low + high) / 2)
    mean = sum(w) / hours
    return tuple(x / mean for x in w)


def autoscaled_gpu_hours(
    traffic: Traffic, tokens: TokenProfile, hosting: SelfHosting
) -> tuple[int, ...]:
    """GPUs in each hour of the day when replicas follow the traffic (`diurnal_profile` of
    the traffic's peak-to-average), never below `min_replicas`. Scale-up lag and cold starts
    are left out, so this is the best case autoscaling can reach."""
    profile = diurnal_profile(traffic.peak_to_average)
    plan = gpu_plan(traffic, tokens, hosting)
    per_replica, util = plan.gpus_per_replica, hosting.target_utilization
    avg_load = traffic.avg_qps * plan.gpu_seconds_per_request
    return tuple(
        per_replica * max(hosting.min_replicas, math.ceil(avg_load * w / (per_replica * util)))
        for w in profile
    )


# ------------------------------------------------------------------------------------------
# Storage


@dataclass(frozen=True, slots=True)
class VectorIndex:
    """A vector index: how many vectors, how wide, how stored (HNSW graph or flat)."""

    vectors: int
    dim: int
    encoding: Encoding = "float32"
    hnsw_m: int | None = 16  # None: a flat index, no graph
    replicas: int = 1

    def __post_init__(self) -> None:
        _count("vectors", self.vectors, low=1)
        _count("dim", self.dim, low=1)
        _count("replicas", self.replicas, low=1)

    @property
    def label(self) -> str:
        kind = "flat" if self.hnsw_m is None else f"HNSW M={self.hnsw_m}"
        copies = f", {self.replicas} replicas" if self.replicas > 1 else ""
        return f"{self.vectors:,} x {self.dim}-d {self.encoding}, {kind}{copies}"


def vector_index_bytes(index: VectorIndex) -> float:
    """RAM of the index (`llmprep.rag.index_math`), times its replicas.

    Example: 10M x 768-d float16 in HNSW M=16 -> (1,536 + 144.3) bytes x 10M = 16.8 GB
    """
    if index.hnsw_m is None:
        one = flat_footprint(index.vectors, index.dim, index.encoding)
    else:
        one = hnsw_footprint(index.vectors, index.dim, index.encoding, m=index.hnsw_m)
    return one.total * index.replicas


@dataclass(frozen=True, slots=True)
class LogPolicy:
    """What is kept of each request: its prompts and outputs as text, plus metadata."""

    retention_days: int = 30
    bytes_per_token: float = 4.0  # about 4 characters of English per token, UTF-8
    metadata_bytes: int = 1_000  # ids, timings, model, scores, trace ids
    sample_rate: float = 1.0  # share of requests whose full text is kept

    def __post_init__(self) -> None:
        _count("retention_days", self.retention_days)
        _number("bytes_per_token", self.bytes_per_token)
        _count("metadata_bytes", self.metadata_bytes)
        _fraction("sample_rate", self.sample_rate)


def log_bytes(traffic: Traffic, tokens: TokenProfile, policy: LogPolicy) -> float:
    """Bytes of logs held at any time: requests per day x retention x bytes per request,
    each call's full prompt and output as text for the sampled share, metadata for all.

    Example: 400,000 requests/day x 30 days x (3,300 tokens x 4 B + 1,000 B) = 170 GB
    """
    n_in, n_out = tokens.per_request
    text = (n_in + n_out) * policy.bytes_per_token * policy.sample_rate
    per_request = text + policy.metadata_bytes
    return traffic.requests_per_day * policy.retention_days * per_request


# ------------------------------------------------------------------------------------------
# Latency


type StageSource = Literal["assumed", "computed"]
type SLOMetric = Literal["ttft", "total"]


@dataclass(frozen=True, slots=True)
class Stage:
    """One step on a request's critical path."""

    name: str
    seconds: float
    source: StageSource = "assumed"

    def __post_init__(self) -> None:
        _number(f"seconds of stage {self.name!r}", self.seconds)


@dataclass(frozen=True, slots=True)
class LatencyBudget:
    """Stages in order; the last is the answer's decode, so TTFT is everything before it."""

    stages: tuple[Stage, ...]
    slo_s: float
    slo_metric: SLOMetric = "ttft"

    @property
    def total(self) -> float:
        return sum(s.seconds for s in self.stages)

    @property
    def ttft(self) -> float:
        return self.total - (self.stages[-1].seconds if self.stages else 0.0)

    @property
    def measured(self) -> float:
        """The number the SLO is about."""
        return self.ttft if self.slo_metric == "ttft" else self.total

    @property
    def within_slo(self) -> bool:
        return self.measured <= self.slo_s

    def to_markdown(self) -> str:
        rows = ["| Stage | Seconds | Source |", "|:--|--:|:--|"]
        rows += [f"| {s.name} | {s.seconds:.3f} | {s.source} |" for s in self.stages]
        what = "time to first token" if self.slo_metric == "ttft" else "end to end"
        verdict = "within" if self.within_slo else "over"
        rows.append(
            f"| **{what}** | **{self.measured:.2f}** | {verdict} the {self.slo_s:g} s SLO |"
        )
        return "\n".join(rows)


def llm_stages(tokens: TokenProfile, plan: GpuPlan) -> tuple[Stage, ...]:
    """The model's share of the critical path on the self-hosted plan: the calls before the
    answer (prefill and decode each), then the answer's prefill and its decode."""
    prefill, decode = plan.ttft_s, tokens.output_tokens * plan.tpot_s
    stages: list[Stage] = []
    if tokens.llm_calls > 1:
        n = tokens.llm_calls - 1
        stages.append(Stage(f"{n} LLM calls before the answer", n * (prefill + decode),
                            "computed"))  # fmt: skip
    stages.append(Stage(f"prefill of {tokens.input_tokens:,} tokens", prefill, "computed"))
    stages.append(Stage(f"decode of {tokens.output_tokens:,} tokens", decode, "computed"))
    return tuple(stages)


# ------------------------------------------------------------------------------------------
# The estimate


@dataclass(frozen=True, slots=True)
class ApiOption:
    model: str
    per_request: Decimal
    per_day: Decimal
    cache: CacheStatus  # anything but "cached": the whole input is charged at full price

    @property
    def cache_discount(self) -> bool:
        return self.cache == "cached"

    @property
    def per_month(self) -> Decimal:
        return self.per_day * DAYS_PER_MONTH


def usd(value: float | Decimal, *, markdown: bool = True) -> str:
    """Dollars for a table or inline text; `markdown` escapes the sign so that two amounts in
    one line are not read as TeX math; cents get four decimals, so a per-request price shows.
    Example: usd(1234.5) -> '\\$1,234'; usd(0.00645, markdown=False) -> '$0.0065'"""
    v = float(value)
    digits = 4 if abs(v) < 0.1 else 2 if abs(v) < 100 else 0
    text = f"${v:,.{digits}f}"
    return "\\" + text if markdown else text


def gb(n_bytes: float) -> str:
    """Decimal gigabytes (or terabytes above 1,000 GB), as storage is sold."""
    return f"{n_bytes / 1e12:,.1f} TB" if n_bytes >= 1e12 else f"{n_bytes / 1e9:,.1f} GB"


@dataclass(frozen=True, slots=True)
class Estimate:
    """Every back-of-envelope number of one design, printable as a Markdown table."""

    name: str
    traffic: Traffic
    tokens: TokenProfile
    api: tuple[ApiOption, ...]
    gpu: GpuPlan | None
    index: VectorIndex | None
    vector_bytes: float
    logs: LogPolicy
    log_bytes: float
    latency: LatencyBudget

    @property
    def tokens_per_second(self) -> tuple[float, float]:
        """(input, output) at the peak."""
        return tokens_per_second(self.traffic, self.tokens, peak=True)

    def api_option(self, model: str) -> ApiOption:
        for option in self.api:
            if option.model == model:
                return option
        raise ValueError(f"{model!r} is not priced in {self.name!r}: {[a.model for a in self.api]}")

    @property
    def cheapest_api(self) -> ApiOption:
        return min(self.api, key=lambda a: a.per_day)

    def rows(self) -> list[tuple[str, str]]:
        t, k = self.traffic, self.tokens
        n_in, n_out = self.tokens_per_second
        calls = f", {k.llm_calls} LLM calls each" if k.llm_calls > 1 else ""
        cache = f", {k.cached_input_share:.0%} of input cached" if k.cached_input_share else ""
        rows = [
            ("Requests per day", f"{t.requests_per_day:,.0f}"),
            ("QPS average / peak", f"{t.avg_qps:,.1f} / {t.peak_qps:,.1f}"),
            (
                "Tokens per call (in / out)",
                f"{k.input_tokens:,} / {k.output_tokens:,}{calls}{cache}",
            ),
            ("Tokens/s at peak (in / out)", f"{n_in:,.0f} / {n_out:,.0f}"),
        ]
        for a in sorted(self.api, key=lambda a: a.per_day):
            star = "" if a.cache in ("cached", "not assumed") else f" ({a.cache})"
            rows.append((f"API {a.model}{star}",
                         f"{usd(a.per_day)}/day, {usd(a.per_month)}/month"))  # fmt: skip
        if self.gpu is not None:
            g, h = self.gpu, self.gpu.hosting
            split = f" ({g.replicas} x {g.gpus_per_replica})" if g.gpus_per_replica > 1 else ""
            price = f"{usd(g.cost_per_day)}/day at {usd(h.gpu_hour_usd)}/GPU-hour"
            rows.append((f"Self-hosted {h.label}, batch {h.batch}",
                         f"{g.gpus} GPUs{split}, {price}"))  # fmt: skip
        if self.index is not None:
            rows.append(("Vector index in RAM", f"{gb(self.vector_bytes)} ({self.index.label})"))
        rows.append((f"Logs kept ({self.logs.retention_days} days)", gb(self.log_bytes)))
        b = self.latency
        what = "TTFT" if b.slo_metric == "ttft" else "end to end"
        rows.append((f"Latency ({what}, self-hosted)",
                     f"{b.measured:.2f} s against an SLO of {b.slo_s:g} s"))  # fmt: skip
        return rows

    def to_markdown(self) -> str:
        lines = ["| Quantity | Estimate |", "|:--|:--|"]
        lines += [f"| {q} | {v} |" for q, v in self.rows()]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def estimate(
    name: str,
    traffic: Traffic,
    tokens: TokenProfile,
    *,
    models: Sequence[str],
    hosting: SelfHosting | None = None,
    index: VectorIndex | None = None,
    logs: LogPolicy | None = None,
    stages: Sequence[Stage] = (),
    slo_s: float = 1.0,
    slo_metric: SLOMetric = "ttft",
    prices: Mapping[str, ModelPrice] = PRICES,
    cache_prices: Mapping[str, CachePricing] = CACHE_PRICES,
) -> Estimate:
    """All the numbers of one design. `stages` are the non-LLM steps on the critical path
    (retrieval, tools, network; assumptions); the LLM's own stages are computed from the
    self-hosted plan and appended. Without `hosting` the latency budget holds `stages` only.
    """
    if not models:
        raise ValueError(f"{name}: price at least one model, got {models!r}")
    api = tuple(
        ApiOption(
            m,
            api_cost_per_request(tokens, m, prices, cache_prices),
            api_cost_per_day(traffic, tokens, m, prices, cache_prices),
            cache_status(tokens, m, cache_prices),
        )
        for m in models
    )
    plan = gpu_plan(traffic, tokens, hosting) if hosting is not None else None
    path = tuple(stages) + (llm_stages(tokens, plan) if plan is not None else ())
    policy = logs if logs is not None else LogPolicy()
    return Estimate(
        name=name,
        traffic=traffic,
        tokens=tokens,
        api=api,
        gpu=plan,
        index=index,
        vector_bytes=vector_index_bytes(index) if index is not None else 0.0,
        logs=policy,
        log_bytes=log_bytes(traffic, tokens, policy),
        latency=LatencyBudget(path, _number("slo_s", slo_s), slo_metric),
    )
