"""RoPE context extension: every scheme is a function from inverse frequencies to new ones.

RoPE rotates pair i of a query/key head by the angle position * inv_freq[i], with
inv_freq[i] = theta^(-2i/d). Pair i repeats every 2*pi/inv_freq[i] positions: its wavelength.
With theta = 10 000 and d = 128 the wavelengths run from 6.3 tokens to about 54 000.

A model trained on L tokens has seen every angle of its short-wavelength pairs many times,
but only part of a turn of the long ones. Run it past L and those slow pairs reach angles it
never saw; quality collapses. The fixes differ in which frequencies they slow down:

- Position interpolation (PI; Chen et al. 2023, arXiv:2306.15595): divide every frequency by
  s = L_new / L. Nothing is unseen, but nearby tokens become s times harder to tell apart.
- NTK-aware (bloc97, 2023): raise theta to theta * s^(d/(d-2)). The fastest pair is unchanged,
  the slowest is slowed by exactly s, and the ones between by less.
- Dynamic NTK: NTK-aware with s chosen from the current length, so short inputs are unchanged.
- YaRN (Peng et al. 2023, arXiv:2309.00071): "NTK-by-parts". Pairs that turn more than
  beta_fast = 32 times within L keep their frequency, pairs that turn less than beta_slow = 1
  time are interpolated by s, and a linear ramp over the dimension index joins the two. It also
  sharpens attention: q and k are both scaled by sqrt(1/t) = 0.1 ln(s) + 1, so the logits grow
  by 1/t, offsetting the flatter attention of longer contexts.
- Llama 3.1's "llama3" (Meta's reference `apply_scaling`, "values obtained from grid search";
  config.json `rope_scaling`): the same three bands, cut by wavelength: shorter than
  L/high_freq_factor kept, longer than L/low_freq_factor divided by factor, smoothly mixed
  between. Llama 3.1 uses factor 8, low 1, high 4, L = 8192.

Raising theta for long-context training ("ABF", Xiong et al. 2023, arXiv:2309.16039) is the
other lever: Llama 3 pretrains with theta = 500 000 (arXiv:2407.21783); Qwen3 ships 1 000 000,
raised from 10 000 for its long-context stage (arXiv:2505.09388). The tests check
`llama3_inv_freq`, `yarn_inv_freq`, PI and dynamic NTK against transformers'
`ROPE_INIT_FUNCTIONS` (tests/foundations/fixtures/rope_reference.npz).

Leaves out: LongRoPE (searched per-dimension factors, arXiv:2402.13753), DeepSeek's
mscale/mscale_all_dim variant of YaRN's temperature, partial rotary dimensions, and the
fine-tuning on long documents every one of these still needs to work well.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

type F64 = NDArray[np.float64]


def inv_freq(head_dim: int, theta: float = 10_000.0) -> F64:
    """Plain RoPE: theta^(-2i/head_dim) for i = 0 .. head_dim/2 - 1.

    Example: inv_freq(4, 10_000) -> [1.0, 0.01]
    """
    out: F64 = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    return out


def wavelengths(freqs: F64) -> F64:
    """Positions per full turn of each pair: 2 pi / inv_freq.

    Example: wavelengths(inv_freq(4, 10_000)) -> [6.28, 628.3]
    """
    out: F64 = 2 * np.pi / freqs
    return out


def rotations(freqs: F64, context: int) -> F64:
    """How many full turns each pair makes within `context` positions (YaRN's r = L / lambda).

    Example: rotations(inv_freq(4, 10_000), 4096) -> [651.9, 6.5]
    """
    out: F64 = context / wavelengths(freqs)
    return out


# -----------------------------------------------------------------------------
# uniform schemes: PI and NTK


def position_interpolation(freqs: F64, factor: float) -> F64:
    """PI: every frequency / factor, i.e. position p is treated as p / factor.

    Example: position_interpolation([1.0, 0.01], 4) -> [0.25, 0.0025]
    """
    out: F64 = np.asarray(freqs, dtype=np.float64) / factor
    return out


def ntk_theta(theta: float, factor: float, head_dim: int) -> float:
    """NTK-aware base: theta * factor^(d / (d - 2)), so the slowest pair slows by `factor`.

    The slowest pair has exponent (d-2)/d, and (theta s^(d/(d-2)))^((d-2)/d) = theta^((d-2)/d) s.
    Example: ntk_theta(10_000, 4, 128) -> 40 890 (about 4.09 x theta)
    """
    return float(theta * factor ** (head_dim / (head_dim - 2)))


def ntk_inv_freq(head_dim: int, theta: float, factor: float) -> F64:
    """NTK-aware scaling: plain RoPE with the raised base; the fastest pair keeps its speed."""
    return inv_freq(head_dim, ntk_theta(theta, factor, head_dim))


def dynamic_ntk_inv_freq(
    head_dim: int, theta: float, factor: float, seq_len: int, max_position: int
) -> F64:
    """Dynamic NTK (HF's "dynamic"): NTK-aware with an effective factor that grows with length.

    s_eff = factor * seq_len / max_position - (factor - 1), with seq_len at least max_position,
    so s_eff = 1 (plain RoPE) up to max_position, then grows with slope `factor`: factor + 1 at
    twice max_position.
    Example: dynamic_ntk_inv_freq(128, 10_000, 2, 4096, 4096) == inv_freq(128, 10_000)
    """
    s_eff = factor * max(seq_len, max_position) / max_position - (factor - 1)
    return ntk_inv_freq(head_dim, theta, s_eff)


# -----------------------------------------------------------------------------
# per-band schemes: YaRN and llama3


def yarn_correction_dim(n_rotations: float, head_dim: int, theta: float, context: int) -> float:
    """The (fractional) pair index whose wavelength fits `n_rotations` times into `context`.

    Solves context / (2 pi theta^(2i/d)) = n_rotations for i.
    Example: yarn_correction_dim(32, 128, 10_000, 4096) -> 20.9 (pairs 0-20 turn > 32 times)
    """
    return head_dim * math.log(context / (n_rotations * 2 * math.pi)) / (2 * math.log(theta))


def yarn_ramp(
    head_dim: int,
    theta: float,
    context: int,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
    truncate: bool = True,
) -> F64:
    """Per pair, the fraction of the original frequency YaRN keeps: 1 = untouched, 0 = / s.

    Pairs below the beta_fast index turn often within the trained context (keep); pairs above
    the beta_slow index turn less than once (interpolate); in between a straight line in the
    dimension index. truncate rounds the two indices outward (floor, ceil), as the YaRN code and
    HF do by default; gpt-oss sets truncate=False. subtle: the upper clamp is head_dim - 1, not
    head_dim/2 - 1: a quirk of the reference code, kept for equality.
    """
    low = yarn_correction_dim(beta_fast, head_dim, theta, context)
    high = yarn_correction_dim(beta_slow, head_dim, theta, context)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, head_dim - 1)
    if low == high:
        high += 0.001  # avoid dividing by zero, as the reference does
    ramp = np.clip((np.arange(head_dim // 2) - low) / (high - low), 0.0, 1.0)
    out: F64 = 1.0 - ramp
    return out


def yarn_inv_freq(
    head_dim: int,
    theta: float,
    factor: float,
    original_max_position: int,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
    truncate: bool = True,
) -> F64:
    """YaRN frequencies: keep * inv_freq + (1 - keep) * inv_freq / factor, keep from `yarn_ramp`.

    Example (Qwen-style, 32k -> 128k): yarn_inv_freq(128, 1e6, 4, 32768)[0] -> 1.0 (kept),
    [-1] -> inv_freq(128, 1e6)[-1] / 4 (interpolated)
    """
    base = inv_freq(head_dim, theta)
    keep = yarn_ramp(head_dim, theta, original_max_position, beta_fast, beta_slow, truncate)
    out: F64 = base * keep + base / factor * (1.0 - keep)
    return out


def yarn_attention_factor(factor: float) -> float:
    """YaRN's sqrt(1/t) = 0.1 ln(s) + 1 (1 when s <= 1), applied to both q and k (HF scales cos
    and sin by it), so attention logits are multiplied by its square, 1/t.

    Example: yarn_attention_factor(4) -> 1.139; yarn_attention_factor(32) -> 1.347
    """
    return 1.0 if factor <= 1 else 0.1 * math.log(factor) + 1.0


def llama3_inv_freq(
    head_dim: int,
    theta: float = 500_000.0,
    factor: float = 8.0,
    low_freq_factor: float = 1.0,
    high_freq_factor: float = 4.0,
    original_max_position: int = 8192,
) -> F64:
    """Llama 3.1's scaling: bands cut by wavelength, defaults from its config.json.

    wavelength < L / high_freq_factor (2048): unchanged. wavelength > L / low_freq_factor (8192):
    divided by factor. Between: mix (1 - a) * f / factor + a * f with a = (L / wavelength -
    low_freq_factor) / (high_freq_factor - low_freq_factor), which runs from 0 to 1 across the
    band, so the result is continuous.
    Example: head_dim 128 -> the first 29 pairs unchanged, 6 mixed, the last 29 divided by 8
    """
    f = inv_freq(head_dim, theta)
    wave = wavelengths(f)
    a = (original_max_position / wave - low_freq_factor) / (high_freq_factor - low_freq_factor)
    mixed = (1 - a) * f / factor + a * f
    out: F64 = np.where(
        wave < original_max_position / high_freq_factor,
        f,
        np.where(wave > original_max_position / low_freq_factor, f / factor, mixed),
    )
    return out
