"""Solution to drill agent-loop: `llmprep.agents.loop.run` with its `Budget` and `Run`.

The library's loop does more than the drill asks (token and cost budgets, compaction,
a default system prompt); with `system=None` and a `Budget` of steps only, it is the
drill.
"""

from __future__ import annotations

from llmprep.agents.loop import DEFAULT_BUDGET as DEFAULT_BUDGET
from llmprep.agents.loop import Budget as Budget
from llmprep.agents.loop import Run as Run
from llmprep.agents.loop import StopReason as StopReason
from llmprep.agents.loop import run as run
from llmprep.agents.registry import ToolExecutor as ToolExecutor

__all__ = ["DEFAULT_BUDGET", "Budget", "Run", "StopReason", "ToolExecutor", "run"]
