"""Training: the code behind the deep dive "Training and fine-tuning" (issue #15, in progress).

- `lora`: a LoRA linear layer (low-rank adapter): forward, gradients, merge, parameter count.
- `dpo`: the direct preference optimization loss, computed stably, with its gradient.
"""
