"""LoRA vs full fine-tuning on the tiny model: identity at B = 0, gradients, merge, training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.foundations.tiny_lm import forward, loss_and_grads
from llmprep.training.finetune import (
    Adapters,
    Method,
    Params,
    RunSpec,
    Task,
    count_parameters,
    finetune,
    init_adapters,
    lora_grads_from_full,
    lora_layers,
    lora_loss_and_grads,
    make_task,
    merge,
    merge_max_abs_diff,
    pretrain,
    run_experiment,
    shared_vocabulary,
    unmerged_logits,
    update_spectrum,
)

PROSE = "the cat sat on the mat and the dog sat on the log. " * 40
CODE = "def f(x):\n    return [x * 2 for x in range(10)]\n" * 40
CONTEXT, HIDDEN = 4, 16


def small_setup(seed: int = 0) -> tuple[Params, Task, Task, int]:
    chars = shared_vocabulary(PROSE, CODE)
    original = make_task("prose", PROSE, chars, context=CONTEXT)
    new = make_task("code", CODE, chars, context=CONTEXT)
    base = pretrain(
        original, len(chars), context=CONTEXT, emb_dim=4, hidden=HIDDEN, steps=60, seed=seed
    )
    return base, original, new, len(chars)


BASE, ORIGINAL, NEW, VOCAB = small_setup()


def trained_adapters(rank: int, alpha: float, seed: int) -> Adapters:
    """Adapters with B != 0, as after some training steps."""
    rng = np.random.default_rng(seed)
    fresh = init_adapters(BASE, rank=rank, alpha=alpha, rng=rng)
    b = {k: rng.standard_normal(v.shape) * 0.1 for k, v in fresh.b.items()}
    return Adapters(fresh.a, b, alpha)


def test_lora_with_b_zero_is_the_base_model() -> None:
    adapters = init_adapters(BASE, rank=3, alpha=6.0, rng=np.random.default_rng(1))
    assert all(np.all(b == 0) for b in adapters.b.values())
    base_logits, _, _ = forward(BASE, NEW.x_val)
    np.testing.assert_array_equal(unmerged_logits(BASE, adapters, NEW.x_val), base_logits)
    for k, w in merge(BASE, adapters).items():
        np.testing.assert_array_equal(w, BASE[k])


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.floats(0.5, 32.0), st.integers(0, 1000))
def test_merged_weights_and_logits_equal_the_unmerged_model(
    rank: int, alpha: float, seed: int
) -> None:
    adapters = trained_adapters(rank, alpha, seed)
    merged = merge(BASE, adapters)
    for k in ("W1", "W2"):
        expected = BASE[k] + (alpha / rank) * (adapters.b[k] @ adapters.a[k]).T
        np.testing.assert_allclose(merged[k], expected, rtol=0, atol=1e-12)
    for k in ("emb", "b1", "b2"):
        np.testing.assert_array_equal(merged[k], BASE[k])
    assert merge_max_abs_diff(BASE, adapters, NEW.x_val) < 1e-10


def test_lora_gradients_match_finite_differences() -> None:
    adapters = trained_adapters(rank=2, alpha=4.0, seed=3)
    x, y = NEW.x_train[:32], NEW.y_train[:32]
    _, grads = lora_loss_and_grads(BASE, adapters, x, y)
    eps = 1e-6
    rng = np.random.default_rng(0)
    for key in ("A:W1", "B:W1", "A:W2", "B:W2"):
        which, matrix = key.split(":")
        source = adapters.a if which == "A" else adapters.b
        for _ in range(6):  # random entries of each matrix
            idx = tuple(int(rng.integers(0, n)) for n in source[matrix].shape)
            losses = []
            for delta in (eps, -eps):
                changed = {k: v.copy() for k, v in source.items()}
                changed[matrix][idx] += delta
                a, b = (changed, adapters.b) if which == "A" else (adapters.a, changed)
                value, _ = loss_and_grads(merge(BASE, Adapters(a, b, adapters.alpha)), x, y)
                losses.append(value)
            numeric = (losses[0] - losses[1]) / (2 * eps)
            assert grads[key][idx] == pytest.approx(numeric, rel=1e-4, abs=1e-8)


def test_gradients_from_full_equal_the_bottleneck_gradients() -> None:
    # The derivation from the full gradient agrees with LoRALinear.gradients (x, dL/dh).
    adapters = trained_adapters(rank=3, alpha=3.0, seed=4)
    x, y = NEW.x_train[:16], NEW.y_train[:16]
    merged = merge(BASE, adapters)
    _, full = loss_and_grads(merged, x, y)
    logits, _, h = forward(merged, x)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    dlogits = probs.copy()
    dlogits[np.arange(len(y)), y] -= 1.0
    dlogits /= len(y)
    layer2 = lora_layers(BASE, adapters)["W2"]
    ga, gb = lora_grads_from_full(full["W2"], adapters.a["W2"], adapters.b["W2"], 1.0)
    ref_a, ref_b = layer2.gradients(h, dlogits)
    np.testing.assert_allclose(ga, ref_a, atol=1e-12)
    np.testing.assert_allclose(gb, ref_b, atol=1e-12)


def test_at_init_only_b_gets_a_gradient() -> None:
    adapters = init_adapters(BASE, rank=2, alpha=2.0, rng=np.random.default_rng(5))
    _, grads = lora_loss_and_grads(BASE, adapters, NEW.x_train[:64], NEW.y_train[:64])
    for k in ("W1", "W2"):
        assert np.all(grads[f"A:{k}"] == 0)
        assert np.abs(grads[f"B:{k}"]).max() > 0


def test_lora_trains_far_fewer_parameters() -> None:
    lora = finetune(BASE, NEW, ORIGINAL, method="lora", rank=2, steps=5, eval_every=5)
    full = finetune(BASE, NEW, ORIGINAL, method="full", steps=5, eval_every=5)
    fan_in = BASE["W1"].shape[0]
    assert lora.trainable_parameters == 2 * (fan_in + HIDDEN) + 2 * (HIDDEN + VOCAB)
    assert full.trainable_parameters == count_parameters(BASE)
    assert lora.trainable_parameters < full.trainable_parameters / 3


@pytest.mark.parametrize("method", ["full", "lora"])
def test_tuning_lowers_the_new_text_loss_and_leaves_the_base_alone(method: Method) -> None:
    before = {k: v.copy() for k, v in BASE.items()}
    run = finetune(
        BASE,
        NEW,
        ORIGINAL,
        method=method,
        rank=4,
        lr=1e-2,
        steps=80,
        eval_every=20,
    )
    assert run.final_new_loss < run.new_losses[0] - 0.3
    assert list(run.steps) == [0, 20, 40, 60, 80]
    assert run.forgetting == pytest.approx(run.original_losses[-1] - run.original_losses[0])
    for k, v in before.items():
        np.testing.assert_array_equal(BASE[k], v)
    if method == "lora":
        assert run.adapters is not None
        np.testing.assert_allclose(run.params["W1"], merge(BASE, run.adapters)["W1"])
        np.testing.assert_array_equal(run.params["emb"], BASE["emb"])


def test_runs_are_deterministic() -> None:
    specs = [RunSpec("full", lr=3e-3), RunSpec("lora", rank=2, alpha=4.0, lr=3e-3)]
    one, two = (
        run_experiment(
            PROSE,
            CODE,
            specs,
            context=CONTEXT,
            hidden=HIDDEN,
            pretrain_steps=20,
            finetune_steps=10,
            eval_every=5,
        )
        for _ in range(2)
    )
    for a, b in zip(one.runs, two.runs, strict=True):
        np.testing.assert_array_equal(a.new_losses, b.new_losses)
        np.testing.assert_array_equal(a.original_losses, b.original_losses)
    assert one.full[0].label == "full fine-tuning"
    assert one.find("lora", rank=2).alpha == 4.0
    assert len(one.lora_runs) == 1
    with pytest.raises(ValueError, match="0 runs match"):
        one.find("lora", rank=3)


def test_update_spectrum_of_a_rank_one_change() -> None:
    tuned = {k: v.copy() for k, v in BASE.items()}
    u, v = np.ones((BASE["W1"].shape[0], 1)), np.arange(HIDDEN, dtype=float)[None, :]
    tuned["W1"] = tuned["W1"] + u @ v
    share = update_spectrum(BASE, tuned, "W1")
    assert share[0] == pytest.approx(1.0)
    assert np.all(np.diff(share) >= -1e-12)


def test_bad_input_is_rejected_with_the_value() -> None:
    chars = shared_vocabulary(PROSE)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        make_task("code", CODE, chars)
    with pytest.raises(ValueError, match="method"):
        finetune(BASE, NEW, ORIGINAL, method="prefix", steps=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rank"):
        init_adapters(BASE, rank=0, alpha=1.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="alpha"):
        init_adapters(BASE, rank=1, alpha=0.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="too short"):
        make_task("tiny", "a", shared_vocabulary("a"))
    with pytest.raises(ValueError, match="specs"):
        run_experiment(PROSE, CODE, [])
    with pytest.raises(ValueError, match="'W9'"):
        update_spectrum(BASE, BASE, "W9")
    with pytest.raises(ValueError, match="NUL"):
        shared_vocabulary("a\x00b")
