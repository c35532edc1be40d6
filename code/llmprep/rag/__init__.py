"""RAG: the code behind the retrieval-augmented generation chapters.

A real retrieval stack, small enough to read and run offline:

- `documents`: documents, chunks (spans of a document), stored records, hits, filters.
- `dataset`: the book's own pages as a fixed corpus, and the labelled questions about them.
- `chunking`: fixed-size with overlap, recursive, sentence, structure-aware (Markdown) and
  parent-child chunkers.
- `embedders`: the `Embedder` protocol; the numpy MiniLM encoder; a hashing embedder for tests.
- `stores`: the `VectorStore` protocol and three real stores: exact numpy, sqlite-vec (the
  embedded default) and PostgreSQL + pgvector (HNSW), with a throwaway server for tests.
- `bm25`: lexical search, checked against bm25s and rank-bm25.
- `fusion`: reciprocal rank fusion and maximal marginal relevance.
- `rerank`: the `Reranker` protocol and a late-interaction (MaxSim) reranker over MiniLM.
- `retrievers`: BM25, dense, hybrid, MMR and reranking retrievers behind one protocol.
- `pipeline`: answers with checked citations, access control as a filter, and abstention.
- `extractive`: a scripted extractive reader, the offline stand-in for the LLM.
- `metrics`: recall@k, precision@k, MRR, nDCG@k.

Leaves out: document parsing (PDF, HTML, Office), distributed indexes, and hosted vector
databases; the architecture chapter covers them in prose.
"""
