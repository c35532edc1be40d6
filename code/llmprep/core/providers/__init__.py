"""Adapters from the `LLM` protocol to real providers, through their official SDKs.

- `llmprep.core.providers.openai.OpenAIChat`: OpenAI Chat Completions
  (`pip install 'llmprep[openai]'`).
- `llmprep.core.providers.anthropic.AnthropicChat`: Anthropic Messages
  (`pip install 'llmprep[anthropic]'`).

This package imports neither SDK: import the adapter module you need, so the rest of
`llmprep` works without them. Switching an example from the scripted model to a real one
is one line:

    from llmprep.core.providers.openai import OpenAIChat
    llm = OpenAIChat.from_env("gpt-5-mini")   # reads OPENAI_API_KEY
"""
