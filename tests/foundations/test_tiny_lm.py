"""The tiny character-level language model: gradients, training, generation."""

from __future__ import annotations

import numpy as np
import pytest

from llmprep.foundations.tiny_lm import (
    TinyLM,
    cross_entropy,
    init_params,
    loss_and_grads,
    make_dataset,
    train,
)

TEXT = (
    "the cat sat on the mat. the dog sat on the log. "
    "a cat and a dog sat together on the mat and the log. "
) * 30


@pytest.fixture(scope="module")
def model() -> TinyLM:
    return train(TEXT, context=6, emb_dim=8, hidden=64, steps=600, batch_size=64, seed=0)


def test_make_dataset_worked_example() -> None:
    x, y = make_dataset(np.array([5, 6, 7]), context=2)
    np.testing.assert_array_equal(x, [[0, 0], [0, 5], [5, 6]])
    np.testing.assert_array_equal(y, [5, 6, 7])


def test_hand_written_gradients_match_numerical_gradients() -> None:
    rng = np.random.default_rng(0)
    vocab, context = 7, 3
    params = init_params(vocab, context, emb_dim=4, hidden=5, rng=rng, dtype=np.float64)
    params["W2"] = rng.standard_normal(params["W2"].shape)  # make every term matter
    params["b1"] = rng.standard_normal(params["b1"].shape)
    x = rng.integers(0, vocab, size=(6, context))
    x[0] = x[1]  # a repeated context: embedding gradients must accumulate
    y = rng.integers(1, vocab, size=6)
    _, grads = loss_and_grads(params, x, y)

    h = 1e-6
    for name, p in params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            original = p[idx]
            p[idx] = original + h
            plus, _ = loss_and_grads(params, x, y)
            p[idx] = original - h
            minus, _ = loss_and_grads(params, x, y)
            p[idx] = original
            numeric[idx] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_initial_loss_is_near_uniform_guessing() -> None:
    rng = np.random.default_rng(0)
    params = init_params(30, 4, emb_dim=8, hidden=32, rng=rng)
    x = rng.integers(0, 30, size=(500, 4))
    y = rng.integers(1, 30, size=500)
    loss, _ = loss_and_grads(params, x, y)
    assert loss == pytest.approx(np.log(30), abs=0.05)


def test_cross_entropy_of_a_confident_correct_prediction_is_near_zero() -> None:
    logits = np.array([[10.0, -10.0], [-10.0, 10.0]])
    assert cross_entropy(logits, np.array([0, 1])) < 1e-8
    assert cross_entropy(np.zeros((1, 4)), np.array([2])) == pytest.approx(np.log(4))


def test_training_lowers_train_and_held_out_loss(model: TinyLM) -> None:
    first, last = model.train_losses[0], model.train_losses[-50:].mean()
    assert first == pytest.approx(np.log(model.vocab_size), abs=0.1)  # uniform guessing
    assert last < 0.25 * first
    assert model.val_losses[-1] < model.val_losses[0]
    assert model.val_loss == model.val_losses[-1] < 1.0
    assert list(model.val_steps[[0, -1]]) == [0, 599]


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        (TEXT, {"val_fraction": 0.0}, "val_fraction"),
        (TEXT, {"val_fraction": 1.0}, "val_fraction"),
        (TEXT, {"steps": 0}, "steps must be >= 1"),
        (TEXT, {"eval_every": 0}, "eval_every must be >= 1"),
        (TEXT, {"context": 0}, "context must be >= 1"),
        ("abc\x00def", {}, "NUL"),
        ("a", {"val_fraction": 0.1}, "too short"),
    ],
)
def test_bad_training_input_is_rejected_clearly(
    text: str, options: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        train(text, **options)  # type: ignore[arg-type]


def test_training_is_deterministic_given_the_seed() -> None:
    kwargs = {"context": 4, "emb_dim": 4, "hidden": 16, "steps": 50, "batch_size": 16}
    a, b = train(TEXT, seed=3, **kwargs), train(TEXT, seed=3, **kwargs)
    np.testing.assert_array_equal(a.train_losses, b.train_losses)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    c = train(TEXT, seed=4, **kwargs)
    assert not np.array_equal(a.train_losses, c.train_losses)


def test_generation_is_deterministic_given_the_seed(model: TinyLM) -> None:
    def gen(seed: int) -> str:
        return model.generate("the ", 60, rng=np.random.default_rng(seed), temperature=1.0)

    assert gen(1) == gen(1)
    assert gen(1) != gen(2)
    assert gen(1).startswith("the ")
    assert len(gen(1)) == len("the ") + 60


def test_greedy_generation_continues_a_learned_pattern() -> None:
    cycle = train("0123456789" * 100, context=3, emb_dim=4, hidden=32, steps=300, seed=0)
    out = cycle.generate("345", 12, rng=np.random.default_rng(0), temperature=0)
    assert out == "345678901234567"


def test_higher_temperature_gives_more_varied_text(model: TinyLM) -> None:
    def distinct_words(t: float) -> int:
        text = model.generate("the ", 400, rng=np.random.default_rng(0), temperature=t)
        return len(set(text.split()))

    assert distinct_words(0.3) < distinct_words(2.0)


def test_logits_never_predict_padding_and_unknown_characters_raise(model: TinyLM) -> None:
    assert model.logits("th")[0] == -np.inf
    assert model.logits("")[1:].size == model.vocab_size - 1
    with pytest.raises(ValueError, match="not in the training text"):
        model.logits("Zebra")


def test_loss_on_seen_text_is_lower_than_on_shuffled_text(model: TinyLM) -> None:
    shuffled = "".join(np.random.default_rng(0).permutation(list(TEXT[:600])))
    assert model.loss_on(TEXT[:600]) < model.loss_on(shuffled) - 1.0
