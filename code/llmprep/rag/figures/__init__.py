"""The figures of the RAG chapters, one module per chapter, drawn in the house style."""
