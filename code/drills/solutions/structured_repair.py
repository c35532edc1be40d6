"""Solution to drill structured-repair: `llmprep.prompting.structured.with_repair`."""

from __future__ import annotations

from llmprep.prompting.structured import Attempt as Attempt
from llmprep.prompting.structured import Structured as Structured
from llmprep.prompting.structured import StructuredOutputError as StructuredOutputError
from llmprep.prompting.structured import Validator as Validator
from llmprep.prompting.structured import with_repair as with_repair

__all__ = ["Attempt", "Structured", "StructuredOutputError", "Validator", "with_repair"]
