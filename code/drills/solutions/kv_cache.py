"""Solution to the kv-cache drill: the cache and attention of the book's decoder
(`llmprep.foundations.decoder`), whose incremental decoding is tested against full
recomputation and against Hugging Face's Llama."""

from __future__ import annotations

from llmprep.foundations.decoder import KVCache as KVCache
from llmprep.foundations.decoder import gqa_attention as gqa_attention
