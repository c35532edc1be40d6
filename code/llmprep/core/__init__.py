"""The provider-agnostic core: what goes into and comes out of any chat model.

- `messages`: `Message`, `ToolSpec`, `ToolCall`, `ToolResult`, `GenerationSettings`,
  `Completion`, `Usage`, validated at construction;
- `llm`: the `LLM` protocol (`complete` and `stream`), stream events and `collect`;
- `scripted`: `ScriptedLLM`, a deterministic offline model with failures on a schedule;
- `tokens`: token counting with cl100k_base (offline);
- `pricing`: a dated price table and exact cost arithmetic;
- `errors`: one error hierarchy for every provider;
- `providers`: adapters to real providers through their SDKs (imported only on demand).

The core imports nothing else from llmprep, so every topic can build on it. Its names are
re-exported by the top-level package: `from llmprep import Message`.
"""
