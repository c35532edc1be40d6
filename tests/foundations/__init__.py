"""Tests for llmprep.foundations (the chapter "How LLMs work")."""
