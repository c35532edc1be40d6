"""llmprep: the tested code behind LLM Interview Prep."""
