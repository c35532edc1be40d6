"""Figures of the agents chapters: one module per chapter, each drawing in the house style."""
