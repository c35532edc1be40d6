"""Tests for llmprep.inference (the inference deep dive: quantization)."""
