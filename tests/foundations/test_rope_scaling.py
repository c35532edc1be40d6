"""RoPE scaling schemes against transformers' ROPE_INIT_FUNCTIONS, and their defining properties."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmprep.foundations.rope_scaling import (
    dynamic_ntk_inv_freq,
    inv_freq,
    llama3_inv_freq,
    ntk_inv_freq,
    ntk_theta,
    position_interpolation,
    rotations,
    wavelengths,
    yarn_attention_factor,
    yarn_correction_dim,
    yarn_inv_freq,
    yarn_ramp,
)

FIXTURE = Path(__file__).parent / "fixtures" / "rope_reference.npz"


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays: dict[str, Any] = {key: data[key] for key in data.files}
    arrays["cases"] = json.loads(str(arrays["meta"]))["configs"]
    return arrays


def ours(case: str, reference: dict[str, Any]) -> tuple[np.ndarray, float]:
    """Our function for one stored case, called with the parameters transformers was given."""
    kwargs = reference["cases"][case]["kwargs"]
    p, d = kwargs["rope_parameters"], kwargs["head_dim"]
    theta = p["rope_theta"]
    if p["rope_type"] == "llama3":
        freqs = llama3_inv_freq(
            d,
            theta,
            p["factor"],
            p["low_freq_factor"],
            p["high_freq_factor"],
            p["original_max_position_embeddings"],
        )
        return freqs, 1.0
    if p["rope_type"] == "yarn":
        freqs = yarn_inv_freq(
            d,
            theta,
            p["factor"],
            p["original_max_position_embeddings"],
            p.get("beta_fast", 32.0),
            p.get("beta_slow", 1.0),
            p.get("truncate", True),
        )
        return freqs, yarn_attention_factor(p["factor"])
    if p["rope_type"] == "linear":
        return position_interpolation(inv_freq(d, theta), p["factor"]), 1.0
    seq_len = reference["cases"][case]["seq_len"]
    return dynamic_ntk_inv_freq(
        d, theta, p["factor"], seq_len, kwargs["max_position_embeddings"]
    ), 1.0


@pytest.mark.parametrize("case", ["llama3", "yarn", "yarn_untruncated", "linear", "dynamic"])
def test_matches_transformers_rope_init_functions(reference: dict[str, Any], case: str) -> None:
    freqs, attention_factor = ours(case, reference)
    np.testing.assert_allclose(freqs, reference[f"{case}.inv_freq"], rtol=2e-6)  # float32 reference
    assert attention_factor == pytest.approx(float(reference[f"{case}.attention_factor"]))


def test_the_yarn_truncate_flag_matters(reference: dict[str, Any]) -> None:
    """gpt-oss-style YaRN (truncate=False) is not the default truncated ramp."""
    untruncated = reference["yarn_untruncated.inv_freq"]
    truncated = yarn_inv_freq(64, 150_000.0, 32.0, 4096, truncate=True)
    assert np.abs(truncated / untruncated - 1).max() > 0.1


def test_the_stored_cases_are_the_published_configurations(reference: dict[str, Any]) -> None:
    llama = reference["cases"]["llama3"]["kwargs"]["rope_parameters"]
    assert (llama["factor"], llama["low_freq_factor"], llama["high_freq_factor"]) == (8.0, 1.0, 4.0)
    assert (llama["original_max_position_embeddings"], llama["rope_theta"]) == (8192, 500_000.0)


# -----------------------------------------------------------------------------
# properties


def test_wavelengths_and_rotations() -> None:
    f = inv_freq(128, 10_000)
    assert wavelengths(f)[0] == pytest.approx(2 * math.pi)
    assert wavelengths(f)[-1] == pytest.approx(2 * math.pi * 10_000 ** (126 / 128))  # ~54 000
    assert np.all(np.diff(wavelengths(f)) > 0)
    np.testing.assert_allclose(rotations(f, 4096) * wavelengths(f), 4096)


def test_position_interpolation_maps_position_p_to_p_over_s() -> None:
    f = inv_freq(64, 10_000)
    np.testing.assert_allclose(8000 * position_interpolation(f, 4), 2000 * f)


def test_ntk_keeps_the_fastest_pair_and_slows_the_slowest_by_exactly_s() -> None:
    base, ntk = inv_freq(128, 10_000), ntk_inv_freq(128, 10_000, 4)
    assert ntk[0] == base[0] == 1.0
    assert ntk[-1] == pytest.approx(base[-1] / 4)
    ratio = ntk / base
    assert np.all(np.diff(ratio) < 0)  # slowed more the slower the pair
    assert ntk_theta(10_000, 4, 128) == pytest.approx(40_890, rel=1e-4)


def test_dynamic_ntk_is_plain_rope_until_the_trained_length_then_grows() -> None:
    plain = inv_freq(128, 10_000)
    for n in (1, 1000, 4096):
        np.testing.assert_array_equal(dynamic_ntk_inv_freq(128, 10_000, 4, n, 4096), plain)
    at_2x = dynamic_ntk_inv_freq(128, 10_000, 4, 2 * 4096, 4096)
    np.testing.assert_allclose(at_2x, ntk_inv_freq(128, 10_000, 4 + 1))  # slope `factor`
    slowest = [dynamic_ntk_inv_freq(128, 10_000, 4, n, 4096)[-1] for n in (5000, 8000, 16000)]
    assert slowest[0] > slowest[1] > slowest[2]


def test_yarn_keeps_pairs_turning_over_beta_fast_times_and_interpolates_those_under_one() -> None:
    d, theta, context = 128, 1_000_000.0, 32768
    keep = yarn_ramp(d, theta, context)
    r = rotations(inv_freq(d, theta), context)
    assert np.all((keep == 1.0) == (r > 32))
    assert np.all((keep == 0.0) == (r < 1))
    assert np.all(np.diff(keep) <= 0)
    assert 0 < np.sum((keep > 0) & (keep < 1)) < d // 2  # a genuine ramp between the bands
    assert yarn_correction_dim(32, 128, 10_000, 4096) == pytest.approx(20.94, abs=0.01)


def test_yarn_frequencies_lie_between_interpolation_and_the_original() -> None:
    base = inv_freq(128, 1e6)
    y = yarn_inv_freq(128, 1e6, 4, 32768)
    assert y[0] == base[0]
    assert y[-1] == pytest.approx(base[-1] / 4)
    assert np.all((y <= base * (1 + 1e-15)) & (y >= base / 4 * (1 - 1e-15)))


def test_yarn_temperature() -> None:
    assert yarn_attention_factor(1.0) == yarn_attention_factor(0.5) == 1.0
    assert yarn_attention_factor(4) == pytest.approx(0.1 * math.log(4) + 1)
    # q and k are both scaled, so logits grow by 1/t = factor^2
    assert yarn_attention_factor(32) ** 2 == pytest.approx(1.8133, abs=1e-4)


def test_llama3_bands_for_llama_3_1() -> None:
    base, scaled = inv_freq(128, 500_000), llama3_inv_freq(128)
    ratio = scaled / base
    assert np.sum(ratio == 1.0) == 29  # wavelength < 2048: untouched
    assert np.sum(np.isclose(ratio, 1 / 8)) == 29  # wavelength > 8192: divided by 8
    assert np.all(np.diff(ratio) <= 1e-15)  # a smooth hand-over, never back up
    np.testing.assert_allclose(llama3_inv_freq(128, factor=1.0), base, rtol=1e-15)
