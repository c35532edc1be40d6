"""Tests for the provider-agnostic core of llmprep (messages, LLM protocol, scripted model,
adapters, tokens, pricing)."""
