"""How much memory a vector index needs, computed instead of guessed.

At 100 million or a billion vectors, the first design question is not which database but how
many bytes each vector costs, because that decides whether the index fits in RAM, how many
machines hold it and what quantization you need. This module does that arithmetic:

- bytes per vector for each encoding: float32 (4 bytes a dimension), float16 (2), int8 scalar
  quantization (1), binary quantization (1 bit) and product quantization (m codes of nbits);
- the HNSW graph on top, in faiss's layout (`IndexHNSW`, checked against
  `faiss.serialize_index` in tests/rag/test_ann.py): 2*M neighbor ids of 4 bytes at layer 0,
  M more on each upper layer an element reaches (on average 1/(M-1) of them, since a node
  reaches layer l with probability M**-l), plus a 4-byte level and an 8-byte offset per vector.
  hnswlib's layout differs in details (it stores a list size with each level and an 8-byte
  label), and its ALGO_PARAMS.md rounds the graph to "M * 8-10 bytes per stored element";
- the PQ codebooks and the IVF coarse centroids, which are fixed costs independent of n;
- how many shards a RAM budget needs.

Leaves out: allocator slack, the database's own per-row overhead (tuple headers, ids,
metadata, WAL), replicas (multiply by the replica count) and on-disk layouts such as DiskANN's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

type Encoding = Literal["float32", "float16", "int8", "binary", "pq"]

ENCODINGS: tuple[Encoding, ...] = ("float32", "float16", "int8", "binary", "pq")
GB = 10**9
"""Decimal gigabytes, the unit cloud providers sell RAM and disks in."""


def bytes_per_vector(dim: int, encoding: Encoding, *, pq_m: int = 0, pq_nbits: int = 8) -> float:
    """Bytes to store one vector's code, without any index structure.

    Why it matters: this is the term multiplied by n, so it dominates at scale.
    Example: bytes_per_vector(768, "float32") -> 3072; bytes_per_vector(768, "binary") -> 96;
    bytes_per_vector(768, "pq", pq_m=96) -> 96 (96 codes of 8 bits).
    """
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    match encoding:
        case "float32":
            return 4.0 * dim
        case "float16":
            return 2.0 * dim
        case "int8":
            return 1.0 * dim
        case "binary":
            return math.ceil(dim / 8)
        case "pq":
            if pq_m < 1 or dim % pq_m:
                raise ValueError(f"pq_m must divide dim={dim}, got pq_m={pq_m}")
            if not 1 <= pq_nbits <= 16:
                raise ValueError(f"pq_nbits must be in 1..16, got {pq_nbits}")
            return pq_m * pq_nbits / 8
    raise ValueError(f"unknown encoding {encoding!r}; choose one of {ENCODINGS}")


def hnsw_expected_links(m: int) -> float:
    """Expected neighbor slots per vector in faiss's HNSW: 2*M at layer 0 plus M per upper
    layer, and a vector reaches upper layer l with probability M**-l, so M * 1/(M-1) more.

    Example: hnsw_expected_links(16) -> 33.07 (32 + 16/15)
    """
    if m < 2:
        raise ValueError(f"HNSW M must be >= 2, got {m}")
    return 2 * m + m / (m - 1)


def hnsw_graph_bytes_per_vector(m: int, *, link_bytes: int = 4) -> float:
    """Bytes of HNSW graph per vector in faiss's layout: 4-byte neighbor ids in
    `hnsw_expected_links(m)` slots, a 4-byte level and an 8-byte offset.

    Why it matters: for small or quantized vectors the graph, not the vectors, dominates.
    Example: hnsw_graph_bytes_per_vector(16) -> 144.3; hnsw_graph_bytes_per_vector(32) -> 272.1
    """
    return link_bytes * hnsw_expected_links(m) + 4 + 8


def pq_codebook_bytes(dim: int, nbits: int = 8) -> int:
    """Bytes of the PQ codebooks: m sub-quantizers of 2**nbits centroids of dim/m float32s,
    which is 2**nbits * dim * 4 whatever m is. A fixed cost: about 0.4 MB at dim 384.

    Example: pq_codebook_bytes(384) -> 393216
    """
    if dim < 1 or not 1 <= nbits <= 16:
        raise ValueError(f"need dim >= 1 and nbits in 1..16, got dim={dim}, nbits={nbits}")
    return (1 << nbits) * dim * 4


def ivf_fixed_bytes(dim: int, nlist: int) -> int:
    """Bytes of an IVF coarse quantizer: nlist float32 centroids (a fixed cost).

    Example: ivf_fixed_bytes(768, 65536) -> 201326592 (about 0.2 GB)
    """
    if dim < 1 or nlist < 1:
        raise ValueError(f"need dim >= 1 and nlist >= 1, got dim={dim}, nlist={nlist}")
    return 4 * dim * nlist


IVF_ID_BYTES = 8
"""faiss keeps a 64-bit id next to every code in its inverted lists."""


@dataclass(frozen=True, slots=True)
class Footprint:
    """Memory of one index configuration over n vectors, in bytes."""

    label: str
    n: int
    vectors: float
    graph: float
    fixed: float

    @property
    def total(self) -> float:
        return self.vectors + self.graph + self.fixed

    @property
    def per_vector(self) -> float:
        return self.total / self.n


def flat_footprint(n: int, dim: int, encoding: Encoding, **pq: int) -> Footprint:
    """A flat (brute-force) index: just the codes, plus PQ codebooks if encoding is "pq"."""
    _check_n(n)
    per = bytes_per_vector(dim, encoding, **pq)
    fixed = pq_codebook_bytes(dim, pq.get("pq_nbits", 8)) if encoding == "pq" else 0
    return Footprint(f"flat {encoding}", n, n * per, 0.0, float(fixed))


def hnsw_footprint(n: int, dim: int, encoding: Encoding, m: int = 16, **pq: int) -> Footprint:
    """An HNSW graph over vectors stored in `encoding` (faiss layout; see the module)."""
    _check_n(n)
    per = bytes_per_vector(dim, encoding, **pq)
    fixed = pq_codebook_bytes(dim, pq.get("pq_nbits", 8)) if encoding == "pq" else 0
    graph = n * hnsw_graph_bytes_per_vector(m)
    return Footprint(f"HNSW M={m} {encoding}", n, n * per, graph, float(fixed))


def ivfpq_footprint(n: int, dim: int, *, nlist: int, pq_m: int, pq_nbits: int = 8) -> Footprint:
    """IVF-PQ: PQ codes plus an 8-byte id per vector in the inverted lists, and the centroids
    and codebooks as fixed costs. Refining with full vectors (rescoring) needs them elsewhere,
    usually on disk."""
    _check_n(n)
    per = bytes_per_vector(dim, "pq", pq_m=pq_m, pq_nbits=pq_nbits) + IVF_ID_BYTES
    fixed = ivf_fixed_bytes(dim, nlist) + pq_codebook_bytes(dim, pq_nbits)
    return Footprint(f"IVF{nlist}-PQ{pq_m}x{pq_nbits}", n, n * per, 0.0, float(fixed))


def shards_needed(total_bytes: float, ram_per_node_bytes: float, *, usable: float = 0.7) -> int:
    """How many nodes hold an index when only `usable` of each node's RAM may hold it (the rest
    is the OS, the page cache, query buffers and room to rebuild segments).

    Example: shards_needed(500e9, 256e9) -> 3 (500 GB over 179.2 GB usable per node)
    """
    if total_bytes < 0 or ram_per_node_bytes <= 0 or not 0 < usable <= 1:
        raise ValueError(
            f"need total >= 0, ram > 0 and 0 < usable <= 1; got {total_bytes}, "
            f"{ram_per_node_bytes}, {usable}"
        )
    return max(1, math.ceil(total_bytes / (ram_per_node_bytes * usable)))


def _check_n(n: int) -> None:
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
