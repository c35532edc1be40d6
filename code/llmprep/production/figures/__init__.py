"""The figures of the production chapters, one module per chapter."""
