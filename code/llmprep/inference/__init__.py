"""Inference: the code behind the deep dive "Inference optimization" (issue #15).

- `quantization`: absmax (symmetric) and min-max (asymmetric) integer quantization per tensor,
  per channel and per group, dequantization, effective bits per weight, the error it costs,
  an integer matmul, and SmoothQuant's smoothing factors with the W8A8 error they give.
- `speculative`: speculative sampling (draft, verify, residual), exact by construction, with
  a TinyLM adapter, call counts and the expected-speed-up formulas.
- `serving`: a seeded discrete-event serving simulator: Poisson arrivals, a roofline step
  time, static against continuous batching, chunked prefill, a KV-memory cap; TTFT, TPOT,
  throughput and goodput.
- `minilm_quant`: every linear weight of the real MiniLM encoder quantized, measured on the
  embeddings (cosine, rank correlation, nearest neighbors), and its activation outliers.
- `figures`: number formats computed from their bit layouts, and the chapter's experiments
  and figures (MiniLM, SmoothQuant, speculative decoding with two TinyLMs, serving sweeps).
"""
