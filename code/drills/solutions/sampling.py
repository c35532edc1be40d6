"""Solution to the sampling drill: the decoding code, `llmprep.foundations.sampling`."""

from __future__ import annotations

from llmprep.foundations.sampling import sample as sample
from llmprep.foundations.sampling import softmax as softmax
from llmprep.foundations.sampling import top_k_filter as top_k_filter
from llmprep.foundations.sampling import top_p_filter as top_p_filter
