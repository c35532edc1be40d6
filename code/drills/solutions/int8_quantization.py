"""Solution to the int8-quantization drill: `llmprep.inference.quantization`."""

from __future__ import annotations

from llmprep.inference.quantization import dequantize as dequantize
from llmprep.inference.quantization import int8_matmul as int8_matmul
from llmprep.inference.quantization import quantize_absmax as quantize_absmax
