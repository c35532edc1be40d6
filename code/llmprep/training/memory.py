"""Training memory per GPU: model states (ZeRO / FSDP) and activations (Megatron).

Training a model of Psi parameters with Adam in mixed precision keeps, per parameter,
2 bytes of bf16 weights, 2 bytes of bf16 gradients and K = 12 bytes of optimizer state (an
fp32 master copy, Adam's first moment m and second moment v, 4 bytes each): 16 Psi bytes of
*model states* before a single activation is stored (Rajbhandari et al. 2020, "ZeRO",
arXiv:1910.02054, Sec. 3.1). Plain data parallelism copies all of it onto every GPU.

ZeRO-DP shards those states over the N_d data-parallel GPUs, in three cumulative stages
(Sec. 5; Fig. 1 for Psi = 7.5B, N_d = 64, K = 12):

    stage 0 (plain DP)          (2 + 2 + K) Psi            = 120 GB
    stage 1 (P_os, optimizer)   2 Psi + 2 Psi + K Psi / N_d = 31.4 GB
    stage 2 (P_os+g, + grads)   2 Psi + (2 + K) Psi / N_d   = 16.6 GB
    stage 3 (P_os+g+p, + params) (2 + 2 + K) Psi / N_d      = 1.875 GB (the figure prints 1.9)

PyTorch FSDP's FULL_SHARD strategy shards the same three states as stage 3, and
SHARD_GRAD_OP the two of stage 2 (Zhao et al. 2023), so this arithmetic covers FSDP too;
what differs is the implementation (flat-parameter units, prefetching, which dtype each
shard is kept in), so measured memory can split differently between the three fields.
Tensor (t-way) and pipeline (p-way) parallelism split the model itself, so each GPU holds
Psi / (t p) parameters before ZeRO shards them.

ZeRO-Offload (Ren et al. 2021, arXiv:2101.06840; `offload_optimizer`) keeps the fp32
optimizer states *and the gradients* in CPU memory and runs the optimizer step there:
gradients stream to the CPU during the backward pass, updated bf16 weights come back. The
GPU keeps only the bf16 weights (2 Psi, or 2 Psi / N_d with ZeRO-3), plus bucket-sized
gradient buffers this module leaves out; the CPU holds the 16-bit gradients and the fp32
states, 2 + 12 = 14 bytes per parameter (`offloaded_cpu_bytes`). DeepSpeed's
`offload_optimizer` setting does the same for ZeRO stages 1-3.

*Activations* are what the forward pass keeps for the backward pass. Korthikanti et al.
2022 ("Reducing Activation Recomputation in Large Transformer Models", arXiv:2205.05198;
MLSys 2023) count them per transformer layer, in bytes, with 16-bit activations, for
sequence length s, micro-batch b, hidden size h, a heads and t-way tensor parallelism:

    no parallelism                       sbh (34 + 5as/h)            Sec. 4.1, Eq. 1
    tensor parallel                      sbh (10 + 24/t + 5as/(ht))  Sec. 4.2.1, Eq. 2
    tensor + sequence parallel           sbh/t (34 + 5as/h)          Sec. 4.2.2
    selective recompute (+ sequence par.) sbh 34/t                   Sec. 5
    selective recompute, tensor par. only sbh (10 + 24/t)            Table 2
    full recompute (store layer input)   2 sbh                       Sec. 5

Table 2 of the paper lists these per-layer forms side by side. The 5as/h term is the
attention score matrices (softmax output, its dropout mask, the dropout output): quadratic
in s, and the part selective recomputation throws away and recomputes. The 10 in Eq. 2 is
the layer norms' and dropouts' inputs that plain tensor parallelism replicates on every
GPU; sequence parallelism splits them along the sequence too. With p pipeline stages and
the 1F1B schedule the first stage holds L/p layers for p micro-batches in flight, which is
L layers' worth of activations (Sec. 4.2.3; the total Sec. 5 calls Equation 5), so
`training_memory` multiplies the per-layer figure by all L layers whatever p is.

Leaves out: the embedding, final norm and output-layer activations (Sec. 4.3: about 0.01%
for their 22B model), FlashAttention (which never stores the s x s scores, so the 5as/h
term disappears without recomputation), the interleaved pipeline schedule's extra
1 + (p - 1)/(pm) factor, temporary buffers (including ZeRO-Offload's gradient
buckets), allocator fragmentation, and ZeRO-R's partitioned activation checkpoints. The CPU
memory offloading needs (2 + 12 bytes per parameter) is `offloaded_cpu_bytes`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace
from typing import Literal

type ZeroStage = Literal[0, 1, 2, 3]  # 3 ~ FSDP FULL_SHARD, 2 ~ SHARD_GRAD_OP
type Recompute = Literal["none", "selective", "full"]

_ZERO_STAGES = (0, 1, 2, 3)
_RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True, slots=True)
class TrainingSetup:
    """How a model is trained: its size, the parallelism, and bytes per parameter.

    `gpus` is the data-parallel degree N_d, which is also the ZeRO sharding degree; the
    whole job uses gpus x tensor_parallel x pipeline_parallel GPUs (`world_size`).
    """

    params: float  # parameter count Psi
    gpus: int = 1  # data-parallel degree N_d (the ZeRO sharding degree)
    zero: ZeroStage = 0
    weight_bytes: float = 2  # bf16 weights
    grad_bytes: float = 2  # bf16 gradients
    optimizer_bytes_per_param: float = 12  # Adam, mixed precision: fp32 master + m + v (K)
    offload_optimizer: bool = False  # ZeRO-Offload: optimizer states, gradients, step on CPU
    tensor_parallel: int = 1
    pipeline_parallel: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.params, bool) or not isinstance(self.params, numbers.Real):
            raise TypeError(f"params must be a number, got {self.params!r}")
        if not self.params > 0:
            raise ValueError(f"params must be > 0, got {self.params!r}")
        for name in ("gpus", "tensor_parallel", "pipeline_parallel"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {value!r}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value!r}")
        if isinstance(self.zero, bool) or self.zero not in _ZERO_STAGES:
            raise ValueError(f"zero must be one of {_ZERO_STAGES}, got {self.zero!r}")
        if not self.weight_bytes > 0:
            raise ValueError(f"weight_bytes must be > 0, got {self.weight_bytes!r}")
        for name in ("grad_bytes", "optimizer_bytes_per_param"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def model_parallel(self) -> int:
        """How many ways the model itself is split (tensor x pipeline)."""
        return self.tensor_parallel * self.pipeline_parallel

    @property
    def world_size(self) -> int:
        """GPUs in the whole job: data x tensor x pipeline parallel."""
        return self.gpus * self.model_parallel


@dataclass(frozen=True, slots=True)
class MemoryBreakdown:
    """Bytes per GPU, by what they hold."""

    weights: float
    gradients: float
    optimizer: float
    activations: float

    @property
    def model_states(self) -> float:
        """Weights + gradients + optimizer states: what ZeRO shards."""
        return self.weights + self.gradients + self.optimizer

    @property
    def total(self) -> float:
        return self.model_states + self.activations


def model_states_per_gpu(setup: TrainingSetup) -> MemoryBreakdown:
    """Weights, gradients and optimizer states one GPU holds (activations = 0 here).

    Each GPU first keeps Psi / (t p) parameters (its tensor- and pipeline-parallel share);
    ZeRO stage 1 then divides the optimizer states by N_d, stage 2 also the gradients,
    stage 3 also the weights. With `offload_optimizer` the optimizer states and gradients
    live in CPU memory (0 here) and only the weights stay.

    Example: model_states_per_gpu(TrainingSetup(7.5e9, gpus=64, zero=1)).total / 1e9
             -> 31.40625 (GB; ZeRO Fig. 1 prints 31.4)
    """
    share = setup.params / setup.model_parallel
    n_d = setup.gpus
    weights = setup.weight_bytes * share / (n_d if setup.zero >= 3 else 1)
    gradients = setup.grad_bytes * share / (n_d if setup.zero >= 2 else 1)
    optimizer = setup.optimizer_bytes_per_param * share / (n_d if setup.zero >= 1 else 1)
    if setup.offload_optimizer:
        # ZeRO-Offload: gradients go to the CPU as they are produced, Adam runs there
        gradients, optimizer = 0.0, 0.0
    return MemoryBreakdown(weights, gradients, optimizer, activations=0.0)


def offloaded_cpu_bytes(setup: TrainingSetup) -> float:
    """CPU memory ZeRO-Offload uses for one GPU's share: its gradients and optimizer states.

    Exactly what `model_states_per_gpu` would have kept on the GPU for those two fields, so
    the ZeRO stage's partitioning carries over (Ren et al. 2021, Sec. 4.2: each
    data-parallel process offloads its own partition). 0 without `offload_optimizer`.
    With Adam in mixed precision that is 2 (bf16 gradients) + 12 (fp32 master weights, m
    and v) = 14 bytes per parameter on the CPU, against 2 left on the GPU.

    Example: offloaded_cpu_bytes(TrainingSetup(7e9, offload_optimizer=True)) / 1e9 -> 98.0
    """
    if not setup.offload_optimizer:
        return 0.0
    on_gpu = model_states_per_gpu(replace(setup, offload_optimizer=False))
    return on_gpu.gradients + on_gpu.optimizer


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")


def activation_bytes_per_layer(
    *,
    seq: int,
    batch: int,
    hidden: int,
    heads: int,
    tensor_parallel: int = 1,
    sequence_parallel: bool = False,
    recompute: Recompute = "none",
) -> float:
    """Bytes of activations one transformer layer keeps for the backward pass, per GPU.

    Korthikanti et al. 2022 (16-bit activations; see the module docstring for which
    equation each branch is). `batch` is the micro-batch. Sequence parallelism only
    changes anything when tensor_parallel > 1.

    Example: seq 2048, batch 1, hidden 4096, 32 heads, no parallelism:
             2048 * 4096 * (34 + 5 * 32 * 2048 / 4096) = 2048 * 4096 * 114 bytes = 0.956 GB
    """
    for name, value in (
        ("seq", seq),
        ("batch", batch),
        ("hidden", hidden),
        ("heads", heads),
        ("tensor_parallel", tensor_parallel),
    ):
        _check_count(name, value)
    if recompute not in _RECOMPUTE:
        raise ValueError(f"recompute must be one of {_RECOMPUTE}, got {recompute!r}")
    s, b, h, a, t = float(seq), float(batch), float(hidden), float(heads), float(tensor_parallel)
    sbh = s * b * h
    if recompute == "full":
        return 2.0 * sbh  # only each layer's input survives the forward pass
    attention_scores = 5.0 * a * s / h if recompute == "none" else 0.0
    if sequence_parallel:
        return sbh / t * (34.0 + attention_scores)
    return sbh * (10.0 + 24.0 / t + attention_scores / t)


def training_memory(
    setup: TrainingSetup,
    *,
    layers: int,
    seq: int,
    batch: int,
    hidden: int,
    heads: int,
    sequence_parallel: bool = False,
    recompute: Recompute = "none",
) -> MemoryBreakdown:
    """Model states plus the activations of all `layers` layers, per GPU.

    With pipeline parallelism this is the first stage, the fullest one: under 1F1B it keeps
    L/p layers for p micro-batches, L layers' worth (Korthikanti et al., Sec. 4.2.3).

    Example: 7B-like (32 layers, hidden 4096, 32 heads), seq 4096, micro-batch 1, one GPU,
    no recomputation: 16 bytes x 7e9 = 112 GB of states plus 32 x 4096 x 4096 x 194 bytes
    = 104 GB of activations.
    """
    _check_count("layers", layers)
    per_layer = activation_bytes_per_layer(
        seq=seq,
        batch=batch,
        hidden=hidden,
        heads=heads,
        tensor_parallel=setup.tensor_parallel,
        sequence_parallel=sequence_parallel,
        recompute=recompute,
    )
    states = model_states_per_gpu(setup)
    return replace(states, activations=per_layer * layers)


def max_params_that_fit(gpu_bytes: float, setup: TrainingSetup, *, reserved: float = 0.0) -> float:
    """The largest parameter count whose model states fit in `gpu_bytes` per GPU.

    `setup.params` is ignored (every other field counts); `reserved` is memory kept back
    for activations, buffers and fragmentation. Model states grow linearly in Psi, so this
    is (gpu_bytes - reserved) / (bytes per parameter per GPU).

    Example: 80 GB, plain data parallelism, 16 bytes/param -> 5e9 parameters; the same GPU
    with ZeRO-3 over 64 GPUs -> 320e9.
    """
    if not gpu_bytes > 0:
        raise ValueError(f"gpu_bytes must be > 0, got {gpu_bytes!r}")
    if not 0 <= reserved < gpu_bytes:
        raise ValueError(f"reserved must be in [0, gpu_bytes), got {reserved!r}")
    per_param = model_states_per_gpu(replace(setup, params=1.0)).total
    return (gpu_bytes - reserved) / per_param
