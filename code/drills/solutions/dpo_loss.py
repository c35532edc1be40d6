"""Solution to the dpo-loss drill: `llmprep.training.dpo`."""

from __future__ import annotations

from llmprep.training.dpo import dpo_loss as dpo_loss
from llmprep.training.dpo import sequence_logprobs as sequence_logprobs
