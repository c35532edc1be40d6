"""Solution to drill rrf: `llmprep.rag.fusion.reciprocal_rank_fusion`."""

from __future__ import annotations

from llmprep.rag.fusion import RRF_K as RRF_K
from llmprep.rag.fusion import reciprocal_rank_fusion as reciprocal_rank_fusion

__all__ = ["RRF_K", "reciprocal_rank_fusion"]
