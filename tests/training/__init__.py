"""Tests for llmprep.training (the training deep dive: LoRA, DPO)."""
