"""Training: the code behind the deep dive "Training and fine-tuning" (issue #15).

- `lora`: a LoRA linear layer (low-rank adapter): forward, gradients, merge, parameter count.
- `dpo`: the direct preference optimization loss, computed stably, with its gradient.
- `memory`: training memory per GPU: model states under ZeRO stages 0-3 / FSDP, tensor and
  pipeline parallelism and optimizer offload, and activations per layer (Korthikanti et al.).
- `rl`: the arithmetic of RL fine-tuning: KL estimators k1/k2/k3, KL-penalized per-token
  rewards, GAE, PPO's clipped objective, GRPO and Dr. GRPO advantages.
- `finetune`, `figures`: LoRA against full fine-tuning on TinyLM, and the chapter's figures.
"""
