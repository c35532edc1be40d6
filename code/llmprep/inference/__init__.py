"""Inference: the code behind the deep dive "Inference optimization" (issue #15, in progress).

- `quantization`: absmax INT8 (and narrower) quantization, per tensor and per channel,
  dequantization, the error it costs, and an integer matmul.
"""
