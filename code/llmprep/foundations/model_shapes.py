"""Real model shapes: the handful of numbers from a config.json that size everything else.

Parameter counts, weight memory, KV-cache memory and FLOPs all follow from these fields.
Each shape below was checked (November 2026) against the model's published configuration;
the source is recorded next to it. Field names map to Hugging Face config.json keys:

    n_layers    num_hidden_layers      n_kv_heads  num_key_value_heads
    d_model     hidden_size            head_dim    head_dim (or hidden_size / heads)
    n_heads     num_attention_heads    d_ff        intermediate_size
    vocab_size  vocab_size             tied_embeddings  tie_word_embeddings

All four are decoder-only Llama-style models: RMSNorm, rotary positions (no learned
position table), a SwiGLU feed-forward with three matrices, and grouped-query attention.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelShape:
    """The architecture numbers of a decoder-only transformer."""

    name: str
    n_layers: int
    d_model: int
    n_heads: int  # query heads
    n_kv_heads: int  # key/value heads: = n_heads is MHA, 1 is MQA, in between is GQA
    head_dim: int
    d_ff: int  # width of the feed-forward hidden layer
    vocab_size: int
    tied_embeddings: bool = False  # output head reuses the input embedding matrix
    qkv_bias: bool = False  # Qwen2 adds biases to the q, k and v projections
    published_params: float | None = None  # as stated by the model's publisher
    source: str = ""

    @property
    def q_dim(self) -> int:
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.n_kv_heads * self.head_dim

    @property
    def group_size(self) -> int:
        """Query heads sharing one key/value head (1 for MHA)."""
        return self.n_heads // self.n_kv_heads


# Sources: Meta's llama-models repo, models/sku_list.py (dim, n_layers, n_heads, n_kv_heads,
# vocab_size, ffn_dim_multiplier 1.3, multiple_of 1024) and models/llama3/model.py (the FFN
# width rule, giving 14336; see params.llama_ffn_dim), cross-checked with Hugging Face copies of
# meta-llama/Llama-3.1-8B config.json (hidden_size 4096, intermediate_size 14336,
# num_hidden_layers 32, num_attention_heads 32, num_key_value_heads 8, head_dim 128,
# vocab_size 128256, tie_word_embeddings false). "8.03B params" on the model page.
LLAMA_3_1_8B = ModelShape(
    name="Llama-3.1-8B",
    n_layers=32,
    d_model=4096,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    d_ff=14336,
    vocab_size=128256,
    published_params=8.03e9,
    source="meta-llama/llama-models sku_list.py; meta-llama/Llama-3.1-8B config.json",
)

# Same sources as 8B: dim 8192, 80 layers, 64 heads, 8 KV heads, multiple_of 4096 -> 28672;
# config.json copies of meta-llama/Meta-Llama-3.1-70B(-Instruct) agree. Hugging Face lists
# the Llama 3.x 70B checkpoints (same architecture) as "70.6B params".
LLAMA_3_1_70B = ModelShape(
    name="Llama-3.1-70B",
    n_layers=80,
    d_model=8192,
    n_heads=64,
    n_kv_heads=8,
    head_dim=128,
    d_ff=28672,
    vocab_size=128256,
    published_params=70.6e9,
    source="meta-llama/llama-models sku_list.py; meta-llama/Llama-3.1-70B config.json",
)

# transformers' MistralConfig defaults, documented as Mistral-7B-v0.1 (transformers 5.24,
# configuration_mistral.py), and copies of mistralai/Mistral-7B-v0.1 config.json:
# 4096 / 14336 / 32 layers / 32 heads / 8 KV heads / vocab 32000, untied. The published
# figure is "7.3B" (Mistral's announcement); the exact count from this shape is 7.24B.
MISTRAL_7B = ModelShape(
    name="Mistral-7B-v0.1",
    n_layers=32,
    d_model=4096,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    d_ff=14336,
    vocab_size=32000,
    published_params=7.3e9,
    source="mistralai/Mistral-7B-v0.1 config.json; transformers MistralConfig defaults",
)

# Copies of Qwen/Qwen2.5-7B config.json (and -Instruct): hidden_size 3584, intermediate_size
# 18944, 28 layers, 28 heads, 4 KV heads, vocab_size 152064, tie_word_embeddings false;
# Qwen2 attention has q/k/v biases (transformers modeling_qwen2.py: bias=True).
# Qwen's model card: 7.61B parameters, 6.53B non-embedding.
QWEN2_5_7B = ModelShape(
    name="Qwen2.5-7B",
    n_layers=28,
    d_model=3584,
    n_heads=28,
    n_kv_heads=4,
    head_dim=128,
    d_ff=18944,
    vocab_size=152064,
    qkv_bias=True,
    published_params=7.61e9,
    source="Qwen/Qwen2.5-7B config.json; transformers Qwen2Attention",
)

MODEL_SHAPES: tuple[ModelShape, ...] = (LLAMA_3_1_8B, MISTRAL_7B, QWEN2_5_7B, LLAMA_3_1_70B)
