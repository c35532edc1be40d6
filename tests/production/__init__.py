"""Tests for llmprep.production."""
