"""Foundations: the code behind the chapter "How LLMs work".

Each module teaches one idea and runs offline:

- `minilm`: a real transformer encoder (all-MiniLM-L6-v2) written out in numpy.
- `sampling`: turning logits into tokens (temperature, top-k, top-p, min-p, penalties,
  greedy and beam search).
- `bpe`: a byte-level BPE tokenizer you can train in seconds.
- `tokenizer_comparison`: the same texts counted by three tokenizers.
- `shapes`, `params`, `kv_cache`: parameter, weight and KV-cache arithmetic on real model shapes.
- `scaling`: the Kaplan and Chinchilla scaling laws with their published constants.
- `tiny_lm`: a character-level language model with hand-written backprop.
"""
