"""Solution to the lora drill: the book's LoRA layer (`llmprep.training.lora`)."""

from __future__ import annotations

from llmprep.training.lora import LoRALinear as LoRALinear
