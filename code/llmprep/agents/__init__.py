"""Agents: the code behind the agents chapters, a guarded tool-using runtime that runs offline.

Each module does one job, and every loop runs against `ScriptedLLM` or a real adapter:

- `tools`: `@tool` derives a JSON Schema (Draft 2020-12) from type hints and the docstring,
  and validates a model's arguments before the function runs.
- `registry`: `ToolRegistry`, where a call is executed: per-tool timeouts, and every failure
  returned to the model as an error result, never raised into the loop.
- `loop`: the async agent loop: step, token and cost budgets, parallel tool calls
  (`asyncio.TaskGroup`), loop detection and context compaction, recorded as a trajectory.
- `react`: a ReAct text-format parser robust to malformed replies, and a text-mode runner.
- `plan`: plan-and-execute, with replanning when a step fails.
- `guardrails`: allow-lists, approval of side-effecting tools, and an injection scanner
  with quarantine of untrusted tool output.
- `booktools`: the book's own tools (BM25 search over the book, the glossary, the price
  table), shared by the in-process registry and the MCP server.
- `mcp_server`: a real MCP server (official `mcp` SDK) exposing those tools;
  `python -m llmprep.agents.mcp_server`.
- `mcp_client`: MCP tools as `Tool`s, so the agent loop can use any MCP server.
- `demo`: the chapter's demo agent: a scripted researcher, and failures and injections on
  demand.

Leaves out: multi-agent orchestration, long-term memory stores, computer use and code
execution sandboxes; the chapters cover them in prose.
"""
