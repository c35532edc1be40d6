"""Foundations: the code behind the chapter "How LLMs work".

Each module teaches one idea and runs offline:

- `minilm`: a real transformer encoder (all-MiniLM-L6-v2) written out in numpy.
- `sampling`: turning logits into tokens (temperature, top-k, top-p, min-p, penalties,
  greedy and beam search).
- `bpe`: a byte-level BPE tokenizer you can train in seconds.
- `tokenizer_comparison`: the same texts counted by three tokenizers.
- `model_shapes`, `params`, `kv_cache`: parameter, weight and KV-cache arithmetic on real model
  shapes, from Llama 3.1 to DeepSeek-V3 (MLA, MoE), gpt-oss (sliding windows) and Qwen3.
- `hardware`: accelerators (A100 to B200, MI300X) with sourced bandwidth and FLOP/s, machine
  balance and decode-speed bounds.
- `scaling`: the Kaplan and Chinchilla scaling laws with their published constants.
- `tiny_lm`: a character-level language model with hand-written backprop.
- `decoder`: a Llama-style decoder (RMSNorm, RoPE, grouped-query attention with a KV cache,
  SwiGLU) whose incremental decoding equals full recomputation, checked against Hugging Face.
- `flash_attention`: online softmax, tiled attention and split-KV decoding, equal to plain
  attention, with the IO counts that make FlashAttention fast.
- `moe`: mixture-of-experts routing (softmax and sigmoid top-k, shared experts, capacity,
  auxiliary-loss-free balancing) and the share of experts a batch touches.
- `rope_scaling`: RoPE frequencies and the context-extension schemes (PI, NTK, YaRN, Llama 3).
"""
