"""A serving simulator: requests arrive, a scheduler batches them, a roofline times each step.

An LLM server runs in *steps* (iterations): each step feeds the model one new token for
every sequence that is decoding and some prompt tokens for sequences being prefilled, and
every decoding sequence gets one output token back. This module simulates that loop in
virtual time (no sleeping, seeded, deterministic), so scheduling policies can be compared
on thousands of requests in about a second.

Step time is a roofline (`StepCostModel`): a step takes the longer of its compute time
(2 FLOPs per active weight per token, plus causal attention, at a fraction `mfu` of the
chip's peak) and its memory time (the weights once plus the KV cache every sequence reads,
at a fraction of the peak bandwidth), plus a fixed overhead. Decode steps are memory-bound
(a batch of 64 reads the weights once, not 64 times: that is why batching pays); a long
prefill is compute-bound. `StepCostModel.from_shape` takes its numbers from the foundations
calculators (`foundations.hardware`, `foundations.kv_cache`); its prefill FLOPs equal
`production.capacity.prefill_flops` and its batch-1 decode step `decode_step_seconds`.

Policies (`ServerConfig`):

- "static": take up to `max_batch` waiting requests, prefill them, decode until the last of
  them finishes, only then take the next batch. (Generous: a finished sequence costs
  nothing, but its slot stays empty until the batch ends.)
- "continuous": iteration-level scheduling (Orca, Yu et al. 2022): before every step, admit
  waiting requests while a slot and KV memory are free; finished requests leave at once.
  Without chunked prefill a newly admitted prompt is prefilled whole, in the same step as
  everyone else's decode token, so that step is long and every running stream stalls.
- chunked prefill (continuous only; Sarathi-Serve, Agrawal et al. 2024): each step takes
  all decode tokens first (they are never deferred), then fills what is left of
  `token_budget` with prompt chunks in arrival order. A step carries at most
  max(token_budget, decoding sequences) tokens, and that is never more than
  `token_budget`: a prompt starts decoding only after a step spent at least one budget
  token on it, so at most `token_budget` sequences decode at once (subtle: a `max_batch`
  above `token_budget` is never reached; vLLM refuses that setting for the same reason).

A KV-memory cap (`kv_capacity_tokens`) bounds admission: a request reserves its prompt plus
its whole answer when admitted, as if the server knew each answer's length.

Metrics per request (`SimResult`): TTFT (arrival to first token, which the step that
finishes the prompt produces), TPOT (the mean gap between later tokens: (finish - first) /
(output - 1)) and end-to-end latency. `goodput` counts completed requests per second that
meet both a TTFT and a TPOT objective; the DistServe authors (Zhong et al. 2024) summarize a
system by the highest request rate at which a target share (such as 90%) of requests meets
both, and `slo_attainment` gives that share.

Leaves out: paged allocation, preemption and swapping when memory runs out (vLLM), prefix
caching, speculative decoding, tensor parallelism and network time, disaggregated prefill
and decode, sliding-window and latent-attention caches (KV grows linearly here), tokenizer
and sampling time, and any noise in step times. For a mixture-of-experts shape
`weight_bytes` counts the experts one token activates (`decode_bytes_per_token`), which is
what batch 1 reads; a batched step touches more experts, so its time is underestimated.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from llmprep.foundations.hardware import Accelerator, decode_bytes_per_token
from llmprep.foundations.kv_cache import kv_bytes_per_token
from llmprep.foundations.model_shapes import ModelShape
from llmprep.foundations.params import active_params

type F64 = NDArray[np.float64]
type I64 = NDArray[np.int64]
type Policy = Literal["static", "continuous"]
type LengthSampler = Callable[[np.random.Generator, int], I64]

# -----------------------------------------------------------------------------
# requests


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    arrival: float  # seconds
    prompt_tokens: int
    output_tokens: int


def fixed(n: int) -> LengthSampler:
    """Every request has exactly n tokens."""
    _check_positive("length", n)
    return lambda rng, size: np.full(size, n, dtype=np.int64)


def uniform(low: int, high: int) -> LengthSampler:
    """Lengths uniform on the integers low..high (both included)."""
    _check_positive("low", low)
    _check_positive("high", high)
    if high < low:
        raise ValueError(f"high must be >= low, got low={low}, high={high}")
    return lambda rng, size: rng.integers(low, high + 1, size=size).astype(np.int64)


def lognormal(
    median: float, sigma: float, *, low: int = 1, high: int | None = None
) -> LengthSampler:
    """Right-skewed lengths, as real prompts and answers are: exp(N(log median, sigma)),
    rounded and clipped to [low, high]."""
    if median <= 0 or sigma < 0:
        raise ValueError(f"median must be > 0 and sigma >= 0, got {median}, {sigma}")
    _check_positive("low", low)
    if high is not None:
        _check_positive("high", high)
        if high < low:
            raise ValueError(f"high must be >= low, got low={low}, high={high}")

    def draw(rng: np.random.Generator, size: int) -> I64:
        x = np.rint(np.exp(rng.normal(np.log(median), sigma, size=size)))
        return np.clip(x, low, high if high is not None else None).astype(np.int64)

    return draw


def poisson_requests(
    n: int,
    rate: float,
    *,
    prompt: LengthSampler,
    output: LengthSampler,
    seed: int = 0,
) -> list[Request]:
    """n requests arriving as a Poisson process of `rate` per second (exponential gaps),
    the first at t = 0, with prompt and output lengths drawn from the samplers.

    Example: poisson_requests(3, 2.0, prompt=fixed(100), output=fixed(50)) -> three requests
    about half a second apart on average.
    """
    _check_positive("n", n)
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate!r}")
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / rate, size=n)
    gaps[0] = 0.0
    arrivals = np.cumsum(gaps)
    prompts, outputs = prompt(rng, n), output(rng, n)
    return [Request(i, float(arrivals[i]), int(prompts[i]), int(outputs[i])) for i in range(n)]


def _check_integer(name: str, value: int) -> None:
    """Token counts, batch sizes and budgets are whole numbers: 2.5 tokens is a bug."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")


def _check_positive(name: str, value: int) -> None:
    _check_integer(name, value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")


# -----------------------------------------------------------------------------
# step time


@dataclass(frozen=True, slots=True)
class StepCostModel:
    """A roofline for one engine step (all quantities achieved, not peak).

    Compute: flops_per_token x tokens + attn_flops_coeff x sum((s + c)^2 - s^2) over the
    chunks (s tokens already cached, c new; a decode token is c = 1 on its context).
    Memory: weight_bytes + kv_bytes_per_token x sum(s + c). The step takes
    overhead_s + max(compute / flops_per_s, memory / bytes_per_s).
    """

    weight_bytes: float  # read once per step
    kv_bytes_per_token: float
    flops_per_token: float  # 2 x active weights
    attn_flops_coeff: float  # 2 x layers x heads x head_dim
    flops_per_s: float  # peak x MFU
    bytes_per_s: float  # peak bandwidth x efficiency
    overhead_s: float = 0.0  # per step: scheduling, kernel launches, sampling

    @classmethod
    def from_shape(
        cls,
        shape: ModelShape,
        accel: Accelerator,
        *,
        weight_bits: float = 16,
        kv_bytes_per_elem: float = 2,
        mfu: float = 0.5,
        bandwidth_efficiency: float = 0.7,
        overhead_s: float = 0.0,
    ) -> StepCostModel:
        """The roofline of a model on one accelerator, from the foundations calculators.

        Example: StepCostModel.from_shape(LLAMA_3_1_8B, H100_SXM) decodes one short
        sequence in about 15.0e9 / (3.35e12 x 0.7) = 6.4 ms.
        """
        for name, x in (("mfu", mfu), ("bandwidth_efficiency", bandwidth_efficiency)):
            if not 0.0 < x <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {x!r}")
        return cls(
            weight_bytes=decode_bytes_per_token(shape, weight_bits=weight_bits, context=0),
            kv_bytes_per_token=kv_bytes_per_token(shape, kv_bytes_per_elem),
            flops_per_token=2.0 * active_params(shape, count_embedding=False),
            attn_flops_coeff=2.0 * shape.n_layers * shape.n_heads * shape.head_dim,
            flops_per_s=accel.flops_per_s("bf16") * mfu,
            bytes_per_s=accel.bandwidth_bytes_per_s * bandwidth_efficiency,
            overhead_s=overhead_s,
        )

    def _time(self, tokens: int, attn_sq: int, kv_tokens: int) -> float:
        compute = (self.flops_per_token * tokens + self.attn_flops_coeff * attn_sq) / (
            self.flops_per_s
        )
        memory = (self.weight_bytes + self.kv_bytes_per_token * kv_tokens) / self.bytes_per_s
        return self.overhead_s + max(compute, memory)

    def step_seconds(
        self,
        decode_contexts: Sequence[int] = (),
        prefill_chunks: Sequence[tuple[int, int]] = (),
    ) -> float:
        """Time of one step that decodes one token for each context in `decode_contexts`
        (tokens already cached) and prefills each (already_prefilled, chunk) pair.

        Example: one decode at context 0, nothing else -> overhead + (weight_bytes +
        kv_bytes_per_token) / bytes_per_s, about overhead + weight_bytes / bytes_per_s
        (the decode token's own KV entry is read too)
        """
        chunks = [(s, 1) for s in decode_contexts] + list(prefill_chunks)
        if any(s < 0 or c < 1 for s, c in chunks):
            raise ValueError(f"contexts must be >= 0 and chunks >= 1, got {chunks!r}")
        tokens = sum(c for _, c in chunks)
        attn_sq = sum((s + c) ** 2 - s**2 for s, c in chunks)
        kv_tokens = sum(s + c for s, c in chunks)
        return self._time(tokens, attn_sq, kv_tokens)


# -----------------------------------------------------------------------------
# the simulator


@dataclass(frozen=True, slots=True)
class ServerConfig:
    policy: Policy = "continuous"
    max_batch: int = 64  # sequences in flight at once
    chunked_prefill: bool = False  # continuous only
    token_budget: int = 512  # tokens per step with chunked prefill
    kv_capacity_tokens: int | None = None  # KV cache size in tokens; None: unlimited

    def __post_init__(self) -> None:
        if self.policy not in ("static", "continuous"):
            raise ValueError(f"policy must be 'static' or 'continuous', got {self.policy!r}")
        _check_positive("max_batch", self.max_batch)
        _check_positive("token_budget", self.token_budget)
        if self.chunked_prefill and self.policy == "static":
            raise ValueError("chunked_prefill needs policy='continuous'")
        if self.kv_capacity_tokens is not None:
            _check_positive("kv_capacity_tokens", self.kv_capacity_tokens)


@dataclass(frozen=True, slots=True)
class SimResult:
    """What happened to every request, and a log of every step."""

    requests: tuple[Request, ...]
    first_token: F64  # absolute time of each request's first output token
    finish: F64  # absolute time of its last output token
    step_end: F64  # when each step ended
    step_decodes: I64  # decode tokens in each step
    step_prefill_tokens: I64  # prompt tokens in each step

    @property
    def arrival(self) -> F64:
        return np.array([r.arrival for r in self.requests])

    @property
    def output_tokens(self) -> I64:
        return np.array([r.output_tokens for r in self.requests], dtype=np.int64)

    @property
    def ttft(self) -> F64:
        """Time to first token, seconds: queueing plus prefill."""
        out: F64 = self.first_token - self.arrival
        return out

    @property
    def tpot(self) -> F64:
        """Time per output token after the first, seconds (nan for one-token answers)."""
        gaps = self.output_tokens - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            out: F64 = np.where(gaps > 0, (self.finish - self.first_token) / gaps, np.nan)
        return out

    @property
    def e2e(self) -> F64:
        """End-to-end latency, arrival to last token, seconds."""
        out: F64 = self.finish - self.arrival
        return out

    @property
    def duration(self) -> float:
        """From the first arrival to the last finish, seconds."""
        return float(self.finish.max() - self.arrival.min())


def simulate(
    requests: Sequence[Request], cost: StepCostModel, config: ServerConfig = ServerConfig()
) -> SimResult:
    """Run the requests through the server in virtual time and record what happened.

    Deterministic: the same requests, cost model and config give the same result.
    """
    if not requests:
        raise ValueError("requests is empty")
    reqs = tuple(sorted(requests, key=lambda r: (r.arrival, r.id)))
    n = len(reqs)
    arrival = [r.arrival for r in reqs]
    prompt = [r.prompt_tokens for r in reqs]
    out_len = [r.output_tokens for r in reqs]
    for r in reqs:
        _check_integer(f"request {r.id} prompt_tokens", r.prompt_tokens)
        _check_integer(f"request {r.id} output_tokens", r.output_tokens)
        if r.prompt_tokens < 1 or r.output_tokens < 1 or r.arrival < 0:
            raise ValueError(f"request {r.id} needs prompt and output >= 1, arrival >= 0: {r}")
        cap = config.kv_capacity_tokens
        if cap is not None and r.prompt_tokens + r.output_tokens > cap:
            raise ValueError(
                f"request {r.id} needs {r.prompt_tokens + r.output_tokens} KV tokens, "
                f"more than kv_capacity_tokens={cap}"
            )
    prefilled = [0] * n
    generated = [0] * n
    first = [0.0] * n
    finish = [0.0] * n
    step_end: list[float] = []
    step_decodes: list[int] = []
    step_prefill: list[int] = []

    continuous = config.policy == "continuous"
    cap = config.kv_capacity_tokens
    waiting: deque[int] = deque()
    running: list[int] = []
    reserved = 0
    nxt = 0
    done = 0
    t = 0.0
    while done < n:
        while nxt < n and arrival[nxt] <= t:
            waiting.append(nxt)
            nxt += 1
        if not running and not waiting:
            t = arrival[nxt]
            continue
        if continuous or not running:
            while waiting and len(running) < config.max_batch:
                need = prompt[waiting[0]] + out_len[waiting[0]]
                if cap is not None and reserved + need > cap:
                    break  # first come, first served: nobody jumps the queue
                running.append(waiting.popleft())
                reserved += need

        decode = [j for j in running if prefilled[j] == prompt[j] and generated[j] < out_len[j]]
        budget = config.token_budget - len(decode) if config.chunked_prefill else None
        chunks: list[tuple[int, int]] = []
        for j in running:
            left = prompt[j] - prefilled[j]
            if left == 0:
                continue
            if budget is not None:
                if budget <= 0:
                    break
                left = min(left, budget)
                budget -= left
            chunks.append((j, left))

        tokens = len(decode)
        attn_sq = 0
        kv_tokens = 0
        for j in decode:
            ctx = prompt[j] + generated[j]  # cached tokens after this step
            attn_sq += 2 * ctx - 1
            kv_tokens += ctx
        for j, c in chunks:
            s = prefilled[j]
            tokens += c
            attn_sq += (s + c) ** 2 - s * s
            kv_tokens += s + c
        t += cost._time(tokens, attn_sq, kv_tokens)
        step_end.append(t)
        step_decodes.append(len(decode))
        step_prefill.append(tokens - len(decode))

        finished: list[int] = []
        for j in decode:
            generated[j] += 1
            if generated[j] == out_len[j]:
                finish[j] = t
                finished.append(j)
        for j, c in chunks:
            prefilled[j] += c
            if prefilled[j] == prompt[j]:
                generated[j] = 1  # the step that ends the prompt samples the first token
                first[j] = t
                if out_len[j] == 1:
                    finish[j] = t
                    finished.append(j)
        done += len(finished)
        if continuous:
            if finished:
                gone = set(finished)
                running = [j for j in running if j not in gone]
                reserved -= sum(prompt[j] + out_len[j] for j in finished)
        elif all(generated[j] == out_len[j] for j in running):
            running = []  # the whole static batch is done: free its slots
            reserved = 0

    return SimResult(
        requests=reqs,
        first_token=np.array(first),
        finish=np.array(finish),
        step_end=np.array(step_end),
        step_decodes=np.array(step_decodes, dtype=np.int64),
        step_prefill_tokens=np.array(step_prefill, dtype=np.int64),
    )


# -----------------------------------------------------------------------------
# metrics


def percentiles(
    values: Sequence[float] | F64, qs: Sequence[float] = (50, 90, 99)
) -> dict[float, float]:
    """Percentiles of a latency array, ignoring nan (one-token answers have no TPOT).

    Example: percentiles(result.ttft) -> {50: ..., 90: ..., 99: ...}
    """
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise ValueError("no values to take percentiles of")
    return {q: float(np.percentile(arr, q)) for q in qs}


def throughput(result: SimResult) -> float:
    """Output tokens per second over the run (first arrival to last finish)."""
    return float(result.output_tokens.sum()) / result.duration


def request_throughput(result: SimResult) -> float:
    """Completed requests per second over the run."""
    return len(result.requests) / result.duration


def _meets(result: SimResult, ttft_slo: float, tpot_slo: float) -> NDArray[np.bool_]:
    if ttft_slo <= 0 or tpot_slo <= 0:
        raise ValueError(f"SLOs must be > 0, got ttft_slo={ttft_slo}, tpot_slo={tpot_slo}")
    tpot = result.tpot
    ok: NDArray[np.bool_] = (result.ttft <= ttft_slo) & (np.isnan(tpot) | (tpot <= tpot_slo))
    return ok


def slo_attainment(result: SimResult, *, ttft_slo: float, tpot_slo: float) -> float:
    """Share of requests that meet both the TTFT and the TPOT objective (seconds)."""
    return float(_meets(result, ttft_slo, tpot_slo).mean())


def goodput(result: SimResult, *, ttft_slo: float, tpot_slo: float) -> float:
    """Requests per second that completed within both objectives: never more than
    `request_throughput`, and equal to it only when every request meets its SLOs."""
    return float(_meets(result, ttft_slo, tpot_slo).sum()) / result.duration
