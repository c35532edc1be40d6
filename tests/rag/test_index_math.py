"""Memory arithmetic of vector indexes, on cases computed by hand in the comments."""

from __future__ import annotations

import pytest

from llmprep.rag.index_math import (
    bytes_per_vector,
    flat_footprint,
    hnsw_expected_links,
    hnsw_footprint,
    hnsw_graph_bytes_per_vector,
    ivf_fixed_bytes,
    ivfpq_footprint,
    pq_codebook_bytes,
    shards_needed,
)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("float32", 3072),  # 768 * 4
        ("float16", 1536),  # 768 * 2
        ("int8", 768),  # 768 * 1
        ("binary", 96),  # 768 / 8
    ],
)
def test_bytes_per_vector_768(encoding: str, expected: float) -> None:
    assert bytes_per_vector(768, encoding) == expected  # type: ignore[arg-type]


def test_binary_rounds_up_to_whole_bytes() -> None:
    assert bytes_per_vector(385, "binary") == 49  # ceil(385 / 8)


def test_pq_bytes_are_m_times_nbits_over_8() -> None:
    assert bytes_per_vector(768, "pq", pq_m=96) == 96  # 96 * 8 / 8
    assert bytes_per_vector(768, "pq", pq_m=64, pq_nbits=4) == 32  # 64 * 4 / 8


@pytest.mark.parametrize("m", [0, 7])
def test_pq_m_must_divide_dim(m: int) -> None:
    with pytest.raises(ValueError, match="pq_m"):
        bytes_per_vector(768, "pq", pq_m=m)


def test_unknown_encoding_is_named() -> None:
    with pytest.raises(ValueError, match="bfloat"):
        bytes_per_vector(8, "bfloat")  # type: ignore[arg-type]


def test_hnsw_links_and_graph_bytes() -> None:
    # M=16: 32 slots at layer 0 + 16 * (1/15) expected upper-layer slots = 33.0667
    assert hnsw_expected_links(16) == pytest.approx(32 + 16 / 15)
    # 4 bytes per slot, + 4-byte level + 8-byte offset: 4 * 33.0667 + 12 = 144.27
    assert hnsw_graph_bytes_per_vector(16) == pytest.approx(144.2667, abs=1e-3)
    with pytest.raises(ValueError, match="M"):
        hnsw_expected_links(1)


def test_codebooks_and_centroids() -> None:
    assert pq_codebook_bytes(384) == 256 * 384 * 4  # 393,216 bytes whatever m is
    assert ivf_fixed_bytes(768, 65536) == 65536 * 768 * 4  # 201,326,592 bytes


def test_footprints_at_100m() -> None:
    n = 100_000_000
    flat = flat_footprint(n, 768, "float32")
    assert flat.total == 307.2e9  # 1e8 * 3072 bytes
    hnsw = hnsw_footprint(n, 768, "float32", m=16)
    assert hnsw.graph == pytest.approx(n * 144.2667, rel=1e-6)
    assert hnsw.total == pytest.approx(307.2e9 + 14.42667e9, rel=1e-6)
    ivfpq = ivfpq_footprint(n, 768, nlist=65536, pq_m=96)
    # (96 code bytes + 8 id bytes) * 1e8 + centroids + codebooks
    assert ivfpq.total == 104 * n + 65536 * 768 * 4 + 256 * 768 * 4
    assert ivfpq.per_vector == pytest.approx(ivfpq.total / n)


def test_shards() -> None:
    assert shards_needed(500e9, 256e9) == 3  # 500 / (256 * 0.7) = 2.79
    assert shards_needed(100e9, 256e9) == 1
    assert shards_needed(0, 256e9) == 1
    with pytest.raises(ValueError, match="usable"):
        shards_needed(1e9, 1e9, usable=0)
