"""A tiny language model you can train in seconds: next-character prediction with an MLP.

The model (Bengio et al., 2003; Karpathy's makemore series) reads the previous `context`
characters, looks up a small learned vector for each, concatenates them, passes the result
through one tanh hidden layer and outputs one logit per character in the vocabulary:

    chars (k) -> embeddings (k x e) -> concat (k*e) -> tanh(W1 x + b1) -> W2 h + b2 -> logits

Training minimises cross-entropy (the negative log-probability of the true next character)
with minibatch Adam, and the gradients are written out by hand below, so nothing is hidden.
An LLM is this same loop with a transformer instead of an MLP, tokens instead of characters,
and ~10 orders of magnitude more compute.

The loss is in nats per character. Uniform guessing over V characters costs ln V (about 4.4
for 80 characters); anything lower means the model has learned something about the text.

Leaves out: batching of generation, weight decay, dropout, learning-rate warmup, and any
attention: the model sees exactly `context` characters and nothing before them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from llmprep.foundations.sampling import sample

type Array = NDArray[np.floating]
type Params = dict[str, Array]

PAD = "\x00"  # vocabulary entry 0: stands for "before the start of the text"


# -----------------------------------------------------------------------------
# data


def make_dataset(
    ids: NDArray[np.int64], context: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every position of the text becomes one example: the previous `context` ids -> this id.

    The text is left-padded with PAD (id 0) so the first characters have a full context.
    Example: ids [5, 6, 7], context 2 -> X [[0, 0], [0, 5], [5, 6]], Y [5, 6, 7]
    """
    padded = np.concatenate([np.zeros(context, dtype=np.int64), ids])
    windows = np.lib.stride_tricks.sliding_window_view(padded, context)[: len(ids)]
    return np.ascontiguousarray(windows), ids.copy()


# -----------------------------------------------------------------------------
# model: forward, loss and hand-written backward


def init_params(
    vocab_size: int,
    context: int,
    emb_dim: int,
    hidden: int,
    rng: np.random.Generator,
    dtype: type[np.floating] = np.float32,
) -> Params:
    """Random initial weights, scaled so activations neither explode nor vanish.

    W1 uses (5/3) / sqrt(fan_in), the standard gain for tanh; W2 starts small so the first
    predictions are close to uniform and the initial loss is close to ln(vocab_size).
    """
    fan_in = context * emb_dim
    return {
        "emb": rng.standard_normal((vocab_size, emb_dim)).astype(dtype),
        "W1": (rng.standard_normal((fan_in, hidden)) * (5 / 3) / np.sqrt(fan_in)).astype(dtype),
        "b1": np.zeros(hidden, dtype=dtype),
        "W2": (rng.standard_normal((hidden, vocab_size)) * 0.01).astype(dtype),
        "b2": np.zeros(vocab_size, dtype=dtype),
    }


def forward(params: Params, x: NDArray[np.int64]) -> tuple[Array, Array, Array]:
    """Logits for a batch of contexts x (batch, context); also returns the two activations
    the backward pass needs: the concatenated embeddings and the hidden layer."""
    emb = params["emb"][x].reshape(x.shape[0], -1)  # (batch, context * emb_dim)
    h = np.tanh(emb @ params["W1"] + params["b1"])  # (batch, hidden)
    logits = h @ params["W2"] + params["b2"]  # (batch, vocab)
    return logits, emb, h


def cross_entropy(logits: Array, y: NDArray[np.int64]) -> float:
    """Mean of -log softmax(logits)[true class], computed stably with log-sum-exp."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


def loss_and_grads(
    params: Params, x: NDArray[np.int64], y: NDArray[np.int64]
) -> tuple[float, Params]:
    """Cross-entropy loss and its gradient for every parameter, by the chain rule.

    Read it bottom-up against `forward`:
      dL/dlogits = (softmax(logits) - onehot(y)) / batch     (the famous "p - y")
      dL/dW2 = h^T dlogits,  dL/db2 = sum of dlogits over the batch
      dL/dh  = dlogits W2^T, and tanh' = 1 - tanh^2 gives dL/d(pre-activation)
      dL/dW1 = emb^T dpre,   dL/db1 = sum of dpre
      dL/demb = dpre W1^T, scattered back to the rows of the embedding table that were used
    """
    logits, emb, h = forward(params, x)
    batch = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = float(-np.log(probs[np.arange(batch), y]).mean())

    dlogits = probs
    dlogits[np.arange(batch), y] -= 1.0
    dlogits /= batch
    grads: Params = {"W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}
    dpre = (dlogits @ params["W2"].T) * (1.0 - h**2)
    grads["W1"] = emb.T @ dpre
    grads["b1"] = dpre.sum(axis=0)
    demb = (dpre @ params["W1"].T).reshape(*x.shape, -1)  # (batch, context, emb_dim)
    grads["emb"] = np.zeros_like(params["emb"])
    # subtle: the same character can appear many times in a batch; np.add.at accumulates
    # every occurrence, where grads["emb"][x] += demb would keep only the last one.
    np.add.at(grads["emb"], x, demb)
    return loss, grads


# -----------------------------------------------------------------------------
# the trained model


@dataclass(frozen=True, slots=True)
class TinyLM:
    """A trained character-level model, with its training history for plotting."""

    chars: str  # the vocabulary: chars[0] is PAD, then every character of the training text
    context: int
    params: Params
    train_losses: NDArray[np.float64]  # minibatch loss at every step
    val_steps: NDArray[np.int64]  # steps at which the held-out loss was measured
    val_losses: NDArray[np.float64]
    val_loss: float  # held-out loss of the final model (nats/char)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> NDArray[np.int64]:
        """Characters -> ids. Characters the model never saw raise a ValueError."""
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - index.keys())
        if unknown:
            raise ValueError(f"characters not in the training text: {unknown!r}")
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, ids: NDArray[np.int64] | list[int]) -> str:
        return "".join(self.chars[i] for i in ids)

    def logits(self, context: str) -> NDArray[np.float64]:
        """Scores for the character that follows `context` (only its last `self.context`
        characters matter; a shorter context is left-padded). PAD is never predicted."""
        ids = self.encode(context)[-self.context :]
        x = np.concatenate([np.zeros(self.context - len(ids), dtype=np.int64), ids])
        logits, _, _ = forward(self.params, x[None, :])
        out: NDArray[np.float64] = logits[0].astype(np.float64)
        out[0] = -np.inf  # PAD marks "before the text", never a next character
        return out

    def generate(
        self,
        prompt: str,
        n: int,
        *,
        rng: np.random.Generator,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
    ) -> str:
        """Append n sampled characters to `prompt`, one at a time (see sampling.sample).

        Temperature 0 is greedy and tends to loop ("the the the"); around 0.5-0.8 the text
        looks most like the training data; above 1 it turns to noise.
        """
        text = prompt
        for _ in range(n):
            next_id = sample(
                self.logits(text), rng, temperature=temperature, top_k=top_k, top_p=top_p
            )
            text += self.chars[next_id]
        return text

    def loss_on(self, text: str) -> float:
        """Mean cross-entropy (nats/char) of this model on `text`."""
        x, y = make_dataset(self.encode(text), self.context)
        return evaluate(self.params, x, y)


def evaluate(
    params: Params, x: NDArray[np.int64], y: NDArray[np.int64], chunk: int = 4096
) -> float:
    """Mean loss over a whole dataset, in chunks to bound memory."""
    total = 0.0
    for start in range(0, len(y), chunk):
        logits, _, _ = forward(params, x[start : start + chunk])
        total += cross_entropy(logits, y[start : start + chunk]) * len(y[start : start + chunk])
    return total / max(len(y), 1)


def train(
    text: str,
    *,
    context: int = 8,
    emb_dim: int = 24,
    hidden: int = 256,
    steps: int = 3000,
    batch_size: int = 128,
    lr: float = 3e-3,
    val_fraction: float = 0.1,
    eval_every: int = 250,
    seed: int = 0,
) -> TinyLM:
    """Train on `text`; the last `val_fraction` of it is held out to measure generalisation.

    Adam (Kingma & Ba, 2015) with a learning rate that decays linearly to 10% of `lr`.
    Everything random (initial weights, minibatches) comes from `seed`, so the same text and
    settings give the same model. On ~100 KB of text the defaults take a few seconds on one
    CPU core.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    for name, value in (("context", context), ("steps", steps), ("eval_every", eval_every)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if PAD in text:
        raise ValueError("the text must not contain NUL characters (used for padding)")
    chars = PAD + "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    split = int(len(ids) * (1.0 - val_fraction))
    x_train, y_train = make_dataset(ids[:split], context)
    x_val, y_val = make_dataset(ids[split:], context)
    if len(y_train) == 0 or len(y_val) == 0:
        raise ValueError("text too short to split into training and validation parts")

    rng = np.random.default_rng(seed)
    params = init_params(len(chars), context, emb_dim, hidden, rng)
    # Adam keeps a running mean (m) and a running mean of squares (v) of each gradient and
    # steps by m / sqrt(v): every parameter gets its own effective step size.
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    m = {k: np.zeros_like(p) for k, p in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}

    train_losses = np.zeros(steps)
    val_steps: list[int] = []
    val_losses: list[float] = []
    for step in range(steps):
        batch = rng.integers(0, len(y_train), size=batch_size)
        loss, grads = loss_and_grads(params, x_train[batch], y_train[batch])
        train_losses[step] = loss
        step_lr = lr * (1.0 - 0.9 * step / max(steps - 1, 1))
        t = step + 1
        for k, g in grads.items():
            m[k] = beta1 * m[k] + (1 - beta1) * g
            v[k] = beta2 * v[k] + (1 - beta2) * g * g
            m_hat = m[k] / (1 - beta1**t)  # bias correction: m and v start at zero
            v_hat = v[k] / (1 - beta2**t)
            params[k] = (params[k] - step_lr * m_hat / (np.sqrt(v_hat) + eps)).astype(
                params[k].dtype
            )
        if step % eval_every == 0 or step == steps - 1:
            val_steps.append(step)
            val_losses.append(evaluate(params, x_val, y_val))

    return TinyLM(
        chars=chars,
        context=context,
        params=params,
        train_losses=train_losses,
        val_steps=np.array(val_steps, dtype=np.int64),
        val_losses=np.array(val_losses),
        val_loss=val_losses[-1],
    )
