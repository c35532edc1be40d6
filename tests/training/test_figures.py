"""Training deep-dive figures: hand-checked counts, the ZeRO paper's numbers, tabular DPO."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from llmprep.foundations.model_shapes import DEEPSEEK_V3, LLAMA_3_1_8B, LLAMA_3_1_70B
from llmprep.training import figures as tf
from llmprep.training.finetune import RunSpec, run_experiment

PROSE = "the cat sat on the mat and the dog sat on the log. " * 30
CODE = "def f(x):\n    return [x * 2 for x in range(10)]\n" * 30


def test_lora_parameter_counts_by_hand() -> None:
    # q (4096 -> 4096) and v (4096 -> 1024) in each of 32 blocks, rank 16
    assert tf.lora_trainable_parameters(LLAMA_3_1_8B, 16, "q,v") == 32 * 16 * (8192 + 5120)
    attention = 32 * 16 * (8192 + 5120 + 5120 + 8192)
    assert tf.lora_trainable_parameters(LLAMA_3_1_8B, 16, "attention") == attention
    mlp = 32 * 16 * 3 * (4096 + 14336)
    assert tf.lora_trainable_parameters(LLAMA_3_1_8B, 16, "all linear") == attention + mlp
    # linear in the rank
    r1 = tf.lora_trainable_parameters(LLAMA_3_1_70B, 1, "all linear")
    assert tf.lora_trainable_parameters(LLAMA_3_1_70B, 64, "all linear") == 64 * r1


def test_lora_counts_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="rank"):
        tf.lora_trainable_parameters(LLAMA_3_1_8B, 0, "q,v")
    with pytest.raises(ValueError, match="target"):
        tf.lora_trainable_parameters(LLAMA_3_1_8B, 8, "mlp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mixture of experts"):
        tf.lora_trainable_parameters(DEEPSEEK_V3, 8, "q,v")


def test_zero_rows_reproduce_the_paper() -> None:
    # Rajbhandari et al. 2020, Fig. 1: 7.5B parameters, 64 GPUs, K = 12
    rows = dict(tf.zero_table_rows(7.5e9, 64))
    assert rows["DP"] == pytest.approx(120.0)
    assert rows["ZeRO-1"] == pytest.approx(31.4, abs=0.01)
    assert rows["ZeRO-2"] == pytest.approx(16.6, abs=0.05)
    assert rows["ZeRO-3 / FSDP"] == pytest.approx(1.875)


def test_activation_gb_is_the_korthikanti_formula() -> None:
    s, h, a, layers = 2048, 4096, 32, 32
    none = tf.activation_gb(LLAMA_3_1_8B, s, tf.ActivationCase("none", "none"))
    assert none == pytest.approx(layers * s * h * (34 + 5 * a * s / h) / 1e9)
    selective = tf.activation_gb(LLAMA_3_1_8B, s, tf.ActivationCase("sel", "selective"))
    assert selective == pytest.approx(layers * s * h * 34 / 1e9)
    full = tf.activation_gb(LLAMA_3_1_8B, s, tf.ActivationCase("full", "full"))
    assert full == pytest.approx(layers * 2 * s * h / 1e9)
    sp = tf.activation_gb(LLAMA_3_1_8B, s, tf.ActivationCase("sp", "selective", 8, True))
    assert sp == pytest.approx(selective / 8)


def test_tabular_dpo_grows_margins_and_can_lower_a_chosen_response() -> None:
    run = tf.tabular_dpo([(0, 1), (1, 2)], 4, beta=0.1, lr=1.0, steps=200)
    assert run.losses[0] == pytest.approx(math.log(2))
    assert np.all(np.diff(run.losses) < 0)
    margins = run.margins()
    np.testing.assert_allclose(margins[0], 0.0)
    assert np.all(np.diff(margins, axis=0) > 0)
    np.testing.assert_allclose(np.exp(run.logps).sum(axis=1), 1.0)
    # response 1 is chosen in the second pair, yet its probability falls
    assert run.logps[-1, 1] < run.logps[0, 1] - 1.0
    assert run.logps[-1, 0] > run.logps[0, 0]
    # by symmetry a response in no pair ends where response 1 does
    np.testing.assert_allclose(run.logps[:, 3], run.logps[:, 1], atol=1e-9)


def test_tabular_dpo_rejects_bad_pairs() -> None:
    with pytest.raises(ValueError, match="bad pair"):
        tf.tabular_dpo([(0, 0)], 3)
    with pytest.raises(ValueError, match="bad pair"):
        tf.tabular_dpo([(0, 5)], 3)
    with pytest.raises(ValueError, match="n_responses"):
        tf.tabular_dpo([(0, 1)], 1)
    with pytest.raises(ValueError, match="pairs"):
        tf.tabular_dpo([], 3)


def test_figures_and_table_draw() -> None:
    specs = [RunSpec("full", lr=3e-3), RunSpec("lora", rank=2, alpha=4.0, lr=3e-3)]
    exp = run_experiment(
        PROSE, CODE, specs, context=4, hidden=16, pretrain_steps=20, finetune_steps=10,
        eval_every=5, original_name="prose", new_name="code",
    )  # fmt: skip
    curves = tf.lora_curves_figure(exp, exp.runs)
    assert isinstance(curves, Figure)
    assert len(curves.axes) == 2
    assert len(tf.learn_forget_figure(exp).axes) == 1
    table = tf.lora_runs_table(exp)
    assert table.count("\n") == 4  # header, rule, base row, two runs
    assert "| LoRA r=2, alpha=4 |" in table
    assert len(tf.lora_rank_figure(LLAMA_3_1_8B, [1, 8, 64]).axes) == 1
    zero = tf.zero_memory_figure(
        {"8B": 8e9}, gpus=8, gpu_bytes=80e9, gpu_label="80 GB"
    )  # fmt: skip
    assert len(zero.axes) == 1
    cases = [tf.ActivationCase("none", "none"), tf.ActivationCase("full", "full")]
    act = tf.activation_figure(LLAMA_3_1_8B, [2048, 4096], cases, gpu_bytes=80e9, gpu_label="x")
    assert len(act.axes[0].get_lines()) == 3  # two cases and the capacity line
    run = tf.tabular_dpo([(0, 1)], 3, steps=5)
    assert len(tf.dpo_figure(run, labels=["a", "b", "c"]).axes) == 2
    with pytest.raises(ValueError, match="labels"):
        tf.dpo_figure(run, labels=["a"])
    with pytest.raises(ValueError, match="runs"):
        tf.lora_curves_figure(exp, [])
    with pytest.raises(ValueError, match="models"):
        tf.zero_memory_figure({}, gpus=8, gpu_bytes=80e9, gpu_label="x")
