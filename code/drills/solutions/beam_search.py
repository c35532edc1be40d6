"""Solution to the beam-search drill: search from `llmprep.foundations.sampling`."""

from __future__ import annotations

from llmprep.foundations.sampling import Beam as Beam
from llmprep.foundations.sampling import beam_search as beam_search
from llmprep.foundations.sampling import greedy_decode as greedy_decode
