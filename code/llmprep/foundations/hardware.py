"""Accelerators by the numbers that bound LLM serving: memory, bandwidth and dense FLOP/s.

Two ratios explain most serving behaviour:

- Machine balance = peak FLOP/s / peak bytes/s: how many operations a kernel must do per byte
  it reads before compute, not memory, is the limit. An H100 SXM does 989.5 dense bf16
  TFLOP/s against 3.35 TB/s, about 295 FLOPs per byte. Decoding one token at batch 1 does
  about 2 FLOPs per weight it reads (2 bytes in bf16), so it is memory-bound by two orders of
  magnitude; a prefill of n tokens does about n times more work per weight read, so prompts
  shorter than the balance are still memory-bound.
- Decode upper bound = bandwidth / bytes read per step. At batch 1 every step streams the
  active weights and the sequence's KV cache once: tokens/s <= bandwidth / those bytes.
  Llama-3.1-8B in bf16 on one H100 SXM: 3.35e12 / 15.0e9 bytes, about 223 tokens/s at most.

Every figure below is the vendor's, dense (no 2:4 structured sparsity: vendors' headline
numbers are often the sparse ones, exactly twice these), at the SXM/OAM board's full power,
checked on 2026-12-01; the sources are given per chip. HBM capacity is as the vendor labels it
("GB"), bandwidth in TB/s (10^12 bytes per second). A format the chip has no tensor-core
support for is None. Measured throughput is lower: the best bf16 matmul stas00/ml-engineering
measured (compute/accelerator/README.md, 2026-08) reached 80% of peak on H100 SXM, 78% on
B200 and 51% on MI300X, and achieved bandwidth also falls short of peak. These are ceilings,
not predictions.

Leaves out: interconnect (NVLink, Infinity Fabric, network), power, price, FP64 and TF32,
FP6, and parts not generally available as of late 2026 (Rubin, MI400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmprep.foundations.kv_cache import kv_cache_bytes_for_context
from llmprep.foundations.model_shapes import ModelShape
from llmprep.foundations.params import active_params

type Precision = Literal["bf16", "fp8", "fp4"]


@dataclass(frozen=True, slots=True)
class Accelerator:
    """Peak numbers of one accelerator (one GPU or OAM module), dense tensor-core FLOP/s."""

    name: str
    hbm_gb: float  # capacity as the vendor labels it
    hbm_tb_s: float  # peak HBM bandwidth, 10^12 bytes/s
    bf16_tflops: float  # dense (no sparsity)
    fp8_tflops: float | None  # dense; None: no FP8 tensor cores
    fp4_tflops: float | None = None  # dense; None: no FP4 tensor cores
    source: str = ""

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return self.hbm_tb_s * 1e12

    def flops_per_s(self, precision: Precision = "bf16") -> float:
        """Dense peak FLOP/s at a precision; raises if the chip has no such tensor cores."""
        tflops = {"bf16": self.bf16_tflops, "fp8": self.fp8_tflops, "fp4": self.fp4_tflops}[
            precision
        ]
        if tflops is None:
            raise ValueError(f"{self.name} has no {precision} tensor cores")
        return tflops * 1e12

    def machine_balance(self, precision: Precision = "bf16") -> float:
        """FLOPs per byte of HBM traffic at which compute and memory take equally long.

        Example: H100_SXM.machine_balance() -> 295.4; A100_80GB_SXM.machine_balance() -> 153.0
        """
        return self.flops_per_s(precision) / self.bandwidth_bytes_per_s


# NVIDIA A100 80GB SXM. Source: NVIDIA A100 datasheet,
# https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
# and https://www.nvidia.com/en-us/data-center/a100/ (read through copies of its table):
# 80GB HBM2e, 2,039 GB/s (SXM), BF16 Tensor Core 312 TFLOPS | 624 TFLOPS with sparsity.
# Ampere has no FP8 or FP4 tensor cores.
A100_80GB_SXM = Accelerator(
    name="A100 80GB SXM",
    hbm_gb=80,
    hbm_tb_s=2.039,
    bf16_tflops=312,
    fp8_tflops=None,
    source="https://www.nvidia.com/en-us/data-center/a100/ (datasheet r4)",
)

# NVIDIA H100 SXM. Source: https://www.nvidia.com/en-us/data-center/h100/ (the spec table,
# read through a distributor's copy at archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html
# and stas00/ml-engineering compute/accelerator/README.md, 2026-08): 80GB, 3.35TB/s,
# BFLOAT16 Tensor Core 1,979 TFLOPS* and FP8 Tensor Core 3,958 TFLOPS*, "* With sparsity";
# dense is half. No FP4.
H100_SXM = Accelerator(
    name="H100 SXM",
    hbm_gb=80,
    hbm_tb_s=3.35,
    bf16_tflops=1979 / 2,
    fp8_tflops=3958 / 2,
    source="https://www.nvidia.com/en-us/data-center/h100/",
)

# NVIDIA H200 SXM. Source: https://www.nvidia.com/en-us/data-center/h200/: 141GB HBM3e,
# 4.8TB/s; the same Hopper tensor cores as H100 SXM (BF16 1,979 and FP8 3,958 TFLOPS with
# sparsity), so the same dense compute. No FP4.
H200_SXM = Accelerator(
    name="H200 SXM",
    hbm_gb=141,
    hbm_tb_s=4.8,
    bf16_tflops=1979 / 2,
    fp8_tflops=3958 / 2,
    source="https://www.nvidia.com/en-us/data-center/h200/",
)

# NVIDIA B200 (HGX B200, up to 1,000 W). Source: the HGX technical-specifications table at
# https://www.nvidia.com/en-us/data-center/hgx/ (read through a copy of the table, 2026-12-01),
# per GPU: 180GB HBM3E, 7.7TB/s, FP4 Tensor Core 18 PFLOPS, FP8/FP6 9 PFLOPS, FP16/BF16
# 4.5 PFLOPS, NVIDIA's sparse figures; dense is half (BF16 2.25, FP8 4.5, FP4 9 PFLOPS, as in
# stas00/ml-engineering's dense table, which cites the DGX B200 datasheet,
# https://resources.nvidia.com/en-us-dgx-systems/dgx-b200-datasheet).
# subtle: that datasheet and most cloud documentation give 8 TB/s per GPU; 7.7 is the
# current HGX table's figure, used here because the decode bound should not flatter.
B200 = Accelerator(
    name="B200",
    hbm_gb=180,
    hbm_tb_s=7.7,
    bf16_tflops=4500 / 2,
    fp8_tflops=9000 / 2,
    fp4_tflops=18000 / 2,
    source="https://www.nvidia.com/en-us/data-center/hgx/ (HGX B200, per GPU)",
)

# AMD Instinct MI300X (OAM). Source: AMD's ROCm documentation, "AMD Instinct MI300 series
# microarchitecture" (github.com/ROCm/ROCm docs/conceptual/gpu-arch/mi300.md at commit
# e396b489, fetched 2026-12-01; https://rocm.docs.amd.com/en/latest/conceptual/gpu-arch/mi300.html):
# peak Matrix BF16 1307.4 TFLOPS, Matrix FP8 2614.9 TFLOPS (2048 and 4096 FLOPs/clock/CU x
# 304 CUs x 2.1 GHz: dense), "theoretical aggregated peak memory bandwidth ... 5.3 TB per
# second"; 192GB HBM3 (ROCm docs, inference-optimization/workload.rst). CDNA 3 has no FP4.
MI300X = Accelerator(
    name="MI300X",
    hbm_gb=192,
    hbm_tb_s=5.3,
    bf16_tflops=1307.4,
    fp8_tflops=2614.9,
    source="https://rocm.docs.amd.com/en/latest/conceptual/gpu-arch/mi300.html",
)

ACCELERATORS: tuple[Accelerator, ...] = (A100_80GB_SXM, H100_SXM, H200_SXM, MI300X, B200)


def decode_bytes_per_token(
    shape: ModelShape,
    *,
    weight_bits: float = 16,
    context: int = 0,
    kv_bytes_per_elem: float = 2,
) -> float:
    """Bytes one decode step of one sequence reads: the active weights (without the input
    embedding table, of which a token reads one row) plus its KV cache at `context` tokens.

    Example: decode_bytes_per_token(LLAMA_3_1_8B) / 1e9 -> 15.0 (GB, bf16, empty context)
    For an MoE this counts one token's experts, which is what batch 1 reads; a larger batch
    touches more experts (`moe.expected_fraction_touched`).
    """
    weights = active_params(shape, count_embedding=False) * weight_bits / 8
    cache = kv_cache_bytes_for_context(shape, seq_len=context, bytes_per_elem=kv_bytes_per_elem)
    return weights + cache


def decode_tokens_per_s_upper_bound(
    bytes_per_token: float, accelerator: Accelerator, *, n_devices: int = 1
) -> float:
    """Ceiling on batch-1 decode speed: aggregate bandwidth / bytes read per token.

    Split over n_devices (tensor parallelism) each device reads its share, so the ceiling
    scales with n_devices; communication, kernel launch and compute time are ignored, so real
    systems stay below it.

    Example: decode_tokens_per_s_upper_bound(decode_bytes_per_token(LLAMA_3_1_8B), H100_SXM)
             -> 223 (tokens/s)
    """
    if bytes_per_token <= 0 or n_devices < 1:
        raise ValueError("bytes_per_token must be > 0 and n_devices >= 1")
    return n_devices * accelerator.bandwidth_bytes_per_s / bytes_per_token


def decode_step_ms_lower_bound(
    bytes_per_token: float, accelerator: Accelerator, *, n_devices: int = 1
) -> float:
    """The same bound as a latency: the fastest a batch-1 decode step can be, in ms."""
    rate = decode_tokens_per_s_upper_bound(bytes_per_token, accelerator, n_devices=n_devices)
    return 1000.0 / rate
