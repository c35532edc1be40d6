"""GPU and serving arithmetic for self-hosting: what one request costs in GPU time, and when
self-hosting beats an API.

The chain, each step a function here on top of the foundations calculators (parameters,
KV cache, the accelerator table):

- `prefill_flops`: 2 FLOPs per active weight per prompt token plus causal attention; prefill
  is compute-bound, so its time is FLOPs over the chip's peak times an MFU.
- `decode_step_seconds`: one decode step is memory-bound: the weights once plus every
  sequence's KV cache, over the achieved bandwidth.
- `gpu_seconds_per_request`: a request's prefill plus its 1/batch share of its decode steps
  (continuous batching).
- `self_hosted_cost_per_day` and `break_even_requests_per_day`: GPUs billed around the
  clock, rounded up, with a floor of `min_gpus`, against an API's per-request price.

Moved here from `llmprep.production.figures.guide` (which re-exports the names), so that the
interview calculator and the deep dives reuse one tested copy.

Leaves out: queueing inside the server (prefill and decode of different requests interfere
under continuous batching), tensor parallelism across GPUs, MoE expert touch rates at large
batch, and real GPU prices: every price here is a parameter the caller names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmprep.foundations.hardware import Accelerator, decode_bytes_per_token
from llmprep.foundations.kv_cache import kv_cache_bytes_for_context
from llmprep.foundations.model_shapes import ModelShape
from llmprep.foundations.params import active_params


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


@dataclass(frozen=True, slots=True)
class Workload:
    """Tokens of a typical request, and of the router's classification call."""

    input_tokens: int
    output_tokens: int
    router_output_tokens: int = 5  # the router reads the prompt and writes a label


def prefill_flops(shape: ModelShape, prompt_tokens: int) -> float:
    """FLOPs to prefill a prompt: 2 per active weight per token, plus causal attention
    (QK^T and AV, 2 n^2 d_attn per layer over the lower triangle).

    Example: LLAMA_3_1_8B, 2,000 tokens -> 2 x 7.5e9 x 2000 + 2 x 32 x 2000^2 x 4096 = 3.1e13
    The attention term assumes full attention with n_heads x head_dim per layer, so it
    overcounts sliding-window layers and does not model MLA's latent dimensions.
    """
    if prompt_tokens < 0:
        raise ValueError(f"prompt_tokens must be >= 0, got {prompt_tokens}")
    weights = 2.0 * active_params(shape, count_embedding=False) * prompt_tokens
    d_attn = shape.n_heads * shape.head_dim
    attention = 2.0 * shape.n_layers * prompt_tokens**2 * d_attn
    return weights + attention


def decode_step_seconds(
    shape: ModelShape,
    accel: Accelerator,
    *,
    batch: int,
    context: int,
    weight_bits: float = 16,
    bandwidth_efficiency: float = 0.7,
) -> float:
    """Time of one decode step for `batch` sequences of `context` tokens, memory-bound: the
    weights once plus every sequence's KV cache, over the achieved bandwidth.

    Each sequence gets one token per step, so one stream runs at 1 / step tokens/s and the
    GPU at batch / step: batching multiplies throughput until the KV reads dominate.
    For a mixture-of-experts model the weights term counts one token's experts, which is what
    batch 1 reads; a larger batch touches more experts, so this underestimates its step.
    """
    if batch < 1 or context < 0:
        raise ValueError(f"batch must be >= 1 and context >= 0, got {batch}, {context}")
    _check_fraction("bandwidth_efficiency", bandwidth_efficiency)
    weights = decode_bytes_per_token(shape, weight_bits=weight_bits, context=0)
    kv = kv_cache_bytes_for_context(shape, seq_len=context) * batch
    return (weights + kv) / (accel.bandwidth_bytes_per_s * bandwidth_efficiency)


def gpu_seconds_per_request(
    shape: ModelShape,
    accel: Accelerator,
    work: Workload,
    *,
    batch: int,
    weight_bits: float = 16,
    mfu: float = 0.5,
    bandwidth_efficiency: float = 0.7,
) -> float:
    """GPU time one request occupies under continuous batching: its prefill at `mfu` of the
    chip's bf16 peak, plus its share (1 / batch) of every decode step it takes part in, at the
    mean context of its answer."""
    _check_fraction("mfu", mfu)
    prefill = prefill_flops(shape, work.input_tokens) / (accel.flops_per_s("bf16") * mfu)
    context = work.input_tokens + work.output_tokens // 2
    step = decode_step_seconds(
        shape, accel, batch=batch, context=context, weight_bits=weight_bits,
        bandwidth_efficiency=bandwidth_efficiency,
    )  # fmt: skip
    return prefill + work.output_tokens * step / batch


def self_hosted_cost_per_day(
    requests_per_day: float,
    *,
    requests_per_gpu_day: float,
    gpu_hour_usd: float,
    min_gpus: int = 2,
) -> float:
    """USD per day for enough GPUs to serve the traffic (rounded up, at least `min_gpus` so
    one can fail), each billed 24 hours whether busy or not."""
    if requests_per_gpu_day <= 0 or gpu_hour_usd < 0:
        raise ValueError(
            f"requests_per_gpu_day must be > 0 and gpu_hour_usd >= 0, "
            f"got {requests_per_gpu_day}, {gpu_hour_usd}"
        )
    gpus = max(min_gpus, math.ceil(requests_per_day / requests_per_gpu_day))
    return gpus * 24 * gpu_hour_usd


def break_even_requests_per_day(
    api_usd_per_request: float,
    *,
    requests_per_gpu_day: float,
    gpu_hour_usd: float,
    min_gpus: int = 2,
) -> float | None:
    """Smallest daily volume at which self-hosting costs no more than the API, or None if the
    API is cheaper at every volume (a GPU-day serves less than it costs)."""
    if api_usd_per_request <= 0:
        raise ValueError(f"api_usd_per_request must be > 0, got {api_usd_per_request}")
    gpu_day = 24 * gpu_hour_usd
    if gpu_day / requests_per_gpu_day >= api_usd_per_request:
        return None  # even a fully busy GPU serves each request dearer than the API
    # The bill is flat at min_gpus GPU-days until their capacity is used up, and a full GPU
    # beats the API, so the API line crosses the flat part: at min_gpus * gpu_day / price.
    # subtle: just past each later step the self-hosted bill can poke above the API line.
    return min_gpus * gpu_day / api_usd_per_request
