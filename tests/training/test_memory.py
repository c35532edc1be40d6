"""Training memory: the ZeRO paper's Figure 1, Korthikanti et al.'s activation formulas by
hand, and invariants (more GPUs or a higher ZeRO stage never fits fewer parameters)."""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.training.memory import (
    MemoryBreakdown,
    TrainingSetup,
    ZeroStage,
    activation_bytes_per_layer,
    max_params_that_fit,
    model_states_per_gpu,
    offloaded_cpu_bytes,
    training_memory,
)

GB = 1e9


@pytest.mark.parametrize(
    ("zero", "expected_gb", "printed"),
    [
        (0, 120.0, "120"),  # (2 + 2 + 12) x 7.5B
        (1, 31.40625, "31.4"),  # 4 x 7.5B + 12 x 7.5B / 64
        (2, 16.640625, "16.6"),  # 2 x 7.5B + 14 x 7.5B / 64
        (3, 1.875, "1.9"),  # 16 x 7.5B / 64; the figure prints 1.9 GB
    ],
)
def test_zero_paper_figure_1(zero: ZeroStage, expected_gb: float, printed: str) -> None:
    memory = model_states_per_gpu(TrainingSetup(7.5e9, gpus=64, zero=zero))
    assert memory.total / GB == pytest.approx(expected_gb)
    assert f"{memory.total / GB:.{len(printed.partition('.')[2])}f}" == printed
    assert memory.activations == 0.0


def test_zero_stages_shard_one_more_state_each() -> None:
    base = model_states_per_gpu(TrainingSetup(8e9, gpus=8))
    assert (base.weights, base.gradients, base.optimizer) == (16e9, 16e9, 96e9)
    z1 = model_states_per_gpu(TrainingSetup(8e9, gpus=8, zero=1))
    assert (z1.weights, z1.gradients, z1.optimizer) == (16e9, 16e9, 12e9)
    z2 = model_states_per_gpu(TrainingSetup(8e9, gpus=8, zero=2))
    assert (z2.weights, z2.gradients, z2.optimizer) == (16e9, 2e9, 12e9)
    z3 = model_states_per_gpu(TrainingSetup(8e9, gpus=8, zero=3))
    assert (z3.weights, z3.gradients, z3.optimizer) == (2e9, 2e9, 12e9)


def test_model_parallelism_splits_before_zero_and_offload_frees_optimizer() -> None:
    setup = TrainingSetup(70e9, gpus=4, zero=1, tensor_parallel=8, pipeline_parallel=2)
    memory = model_states_per_gpu(setup)
    share = 70e9 / 16
    assert memory.weights == pytest.approx(2 * share)
    assert memory.optimizer == pytest.approx(12 * share / 4)
    assert setup.world_size == 64
    # ZeRO-Offload: optimizer states and gradients live in CPU memory, bf16 weights stay
    offloaded = model_states_per_gpu(TrainingSetup(7e9, offload_optimizer=True))
    assert (offloaded.optimizer, offloaded.gradients) == (0.0, 0.0)
    assert offloaded.total == pytest.approx(14e9)
    sharded = model_states_per_gpu(TrainingSetup(7e9, gpus=8, zero=3, offload_optimizer=True))
    assert sharded.total == pytest.approx(14e9 / 8)


def test_activation_formulas_by_hand() -> None:
    s, b, h, a = 2048, 4, 8192, 64
    sbh = s * b * h
    attn = 5 * a * s / h  # 80
    layer = partial(activation_bytes_per_layer, seq=s, batch=b, hidden=h, heads=a)
    assert layer() == pytest.approx(sbh * (34 + attn))
    assert layer() == pytest.approx(sbh * 114)
    # tensor parallel 8: sbh (10 + 24/8 + 80/8) = 23 sbh
    assert layer(tensor_parallel=8) == pytest.approx(23 * sbh)
    # + sequence parallel: sbh/8 (34 + 80) = 14.25 sbh
    tp_sp = layer(tensor_parallel=8, sequence_parallel=True)
    assert tp_sp == pytest.approx(14.25 * sbh)
    # selective recompute: the 5as/h term goes; 34/8 with SP, 10 + 24/8 without
    sel_sp = layer(tensor_parallel=8, sequence_parallel=True, recompute="selective")
    assert sel_sp == pytest.approx(4.25 * sbh)
    sel = layer(tensor_parallel=8, recompute="selective")
    assert sel == pytest.approx(13 * sbh)
    # full recompute keeps each layer's input in 16 bits: 2 sbh
    assert layer(tensor_parallel=8, recompute="full") == 2 * sbh


def test_sequence_parallel_is_a_no_op_without_tensor_parallel() -> None:
    layer = partial(activation_bytes_per_layer, seq=1024, batch=2, hidden=2048, heads=16)
    assert layer(sequence_parallel=True) == pytest.approx(layer())


def test_training_memory_counts_every_layer_even_with_pipeline_stages() -> None:
    memory = partial(training_memory, layers=32, seq=4096, batch=1, hidden=4096, heads=32)
    one = memory(TrainingSetup(7e9))
    assert one.weights + one.gradients + one.optimizer == pytest.approx(112e9)
    assert one.activations == pytest.approx(32 * 4096 * 4096 * 194)
    assert one.total == pytest.approx(one.model_states + one.activations)
    staged = memory(TrainingSetup(7e9, pipeline_parallel=4))
    assert staged.activations == one.activations  # first stage: L/p layers x p micro-batches
    assert staged.model_states == pytest.approx(one.model_states / 4)


def test_max_params_that_fit_by_hand() -> None:
    assert max_params_that_fit(80e9, TrainingSetup(1.0)) == pytest.approx(5e9)
    assert max_params_that_fit(80e9, TrainingSetup(1.0, gpus=64, zero=3)) == pytest.approx(320e9)
    fits = max_params_that_fit(80e9, TrainingSetup(1.0), reserved=16e9)
    assert fits == pytest.approx(4e9)
    # the answer really fits, and a little more does not
    setup = TrainingSetup(1.0, gpus=8, zero=2, tensor_parallel=2)
    n = max_params_that_fit(80e9, setup)
    assert model_states_per_gpu(TrainingSetup(n, gpus=8, zero=2, tensor_parallel=2)).total <= (
        80e9 * (1 + 1e-12)
    )
    bigger = TrainingSetup(n * 1.01, gpus=8, zero=2, tensor_parallel=2)
    assert model_states_per_gpu(bigger).total > 80e9


stages = st.sampled_from([0, 1, 2, 3])


@given(
    gpus=st.integers(1, 512),
    more=st.integers(0, 512),
    zero=stages,
    tp=st.sampled_from([1, 2, 4, 8]),
    offload=st.booleans(),
)
def test_more_gpus_never_fit_fewer_params(
    gpus: int, more: int, zero: ZeroStage, tp: int, offload: bool
) -> None:
    def fit(n: int) -> float:
        setup = TrainingSetup(1.0, gpus=n, zero=zero, tensor_parallel=tp, offload_optimizer=offload)
        return max_params_that_fit(80e9, setup)

    assert fit(gpus + more) >= fit(gpus) * (1 - 1e-12)


@given(gpus=st.integers(1, 512), low=stages, high=stages, offload=st.booleans())
def test_higher_zero_stage_never_fits_fewer_params(
    gpus: int, low: ZeroStage, high: ZeroStage, offload: bool
) -> None:
    low, high = min(low, high), max(low, high)

    def fit(zero: ZeroStage) -> float:
        return max_params_that_fit(
            80e9, TrainingSetup(1.0, gpus=gpus, zero=zero, offload_optimizer=offload)
        )

    assert fit(high) >= fit(low) * (1 - 1e-12)


def test_breakdown_total() -> None:
    m = MemoryBreakdown(weights=1.0, gradients=2.0, optimizer=3.0, activations=4.0)
    assert (m.model_states, m.total) == (6.0, 10.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"params": 0.0}, ValueError, "params"),
        ({"params": 1.0, "gpus": 0}, ValueError, "gpus"),
        ({"params": 1.0, "gpus": 2.5}, TypeError, "gpus"),
        ({"params": 1.0, "zero": 4}, ValueError, "zero"),
        ({"params": 1.0, "tensor_parallel": 0}, ValueError, "tensor_parallel"),
        ({"params": 1.0, "weight_bytes": 0}, ValueError, "weight_bytes"),
        ({"params": 1.0, "grad_bytes": -1}, ValueError, "grad_bytes"),
        ({"params": "7e9"}, TypeError, "params"),
        ({"params": 1.0, "zero": True}, ValueError, "zero"),
    ],
)
def test_bad_setups_are_rejected(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        TrainingSetup(**kwargs)  # type: ignore[arg-type]


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="seq"):
        activation_bytes_per_layer(seq=0, batch=1, hidden=8, heads=1)
    with pytest.raises(ValueError, match="recompute"):
        activation_bytes_per_layer(seq=1, batch=1, hidden=8, heads=1, recompute="some")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seq"):
        activation_bytes_per_layer(seq=2.5, batch=1, hidden=8, heads=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tensor_parallel"):
        activation_bytes_per_layer(seq=1, batch=1, hidden=8, heads=1, tensor_parallel=0)
    with pytest.raises(ValueError, match="layers"):
        training_memory(TrainingSetup(1.0), layers=0, seq=1, batch=1, hidden=8, heads=1)
    with pytest.raises(ValueError, match="reserved"):
        max_params_that_fit(10.0, TrainingSetup(1.0), reserved=10.0)
    with pytest.raises(ValueError, match="gpu_bytes"):
        max_params_that_fit(0.0, TrainingSetup(1.0))


def test_offload_moves_gradients_and_optimizer_to_the_cpu() -> None:
    # ZeRO-Offload (Ren et al. 2021): fp16 params stay on the GPU (2 bytes/param); fp16
    # gradients and fp32 master + m + v go to the CPU (2 + 12 = 14 bytes/param)
    setup = TrainingSetup(7e9, offload_optimizer=True)
    assert offloaded_cpu_bytes(setup) == pytest.approx(14 * 7e9)
    assert model_states_per_gpu(setup).total + offloaded_cpu_bytes(setup) == pytest.approx(16 * 7e9)
    assert offloaded_cpu_bytes(TrainingSetup(7e9)) == 0.0
    # with ZeRO-2 over 8 GPUs each process offloads its own partition
    sharded = TrainingSetup(7e9, gpus=8, zero=2, offload_optimizer=True)
    assert offloaded_cpu_bytes(sharded) == pytest.approx(14 * 7e9 / 8)
    assert model_states_per_gpu(sharded).total == pytest.approx(2 * 7e9)
    # nothing is lost or double-counted, whatever the stage
    for zero in (0, 1, 2, 3):
        plain = model_states_per_gpu(TrainingSetup(7e9, gpus=8, zero=zero))
        off = TrainingSetup(7e9, gpus=8, zero=zero, offload_optimizer=True)
        assert model_states_per_gpu(off).total + offloaded_cpu_bytes(off) == pytest.approx(
            plain.total
        )
