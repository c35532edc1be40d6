"""bookbuild: renders the Quarto sources of LLM Interview Prep without the Quarto CLI."""
