"""Reference outputs that test our numpy decoder and RoPE scaling against Hugging Face.

This is a one-off script, not part of the `llmprep` package. It needs PyTorch and transformers,
which the project venv deliberately does not have, so it runs in a separate Python 3.11 venv
outside the repository (the machine's local CPU torch wheels are cp311 only):

    python3.11 -m venv /tmp/ref311
    /tmp/ref311/bin/pip install torch==2.13.0              # the local 2.13.0+cpu wheel
    /tmp/ref311/bin/pip install transformers safetensors numpy
    HF_HUB_OFFLINE=1 /tmp/ref311/bin/python scripts/make_decoder_fixture.py

Nothing is downloaded: both models are tiny random `LlamaForCausalLM`s built from a config here.
It writes two files to tests/foundations/fixtures/:

`decoder_reference.npz` (float32 weights and logits, int64 ids), for two models, prefixes `a.`
and `b.`:
- `a.` 2 layers, 4 query heads / 2 KV heads, untied head, rope_theta 10 000;
- `b.` 1 layer, 4 / 1 heads (MQA), tied embeddings, rope_theta 500 000 with "llama3" scaling
  (factor 8, low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings scaled
  down to 64 so that a 48-token input reaches the scaled frequencies).
Per prefix: `<p>model.…` every weight of `state_dict()` by its HF name (no `lm_head` when
tied), `<p>ids_<j>` inputs of 1, 7 and 48 tokens, `<p>logits_<j>` the model's logits for them,
`<p>prompt` and `<p>greedy` (`generate(do_sample=False)` with HF's KV cache; the prompt is
chosen for a varied continuation without near-ties, see `pick_greedy_case`), and
`<p>inv_freq` (the RoPE frequencies HF used).

`rope_reference.npz`: `<case>.inv_freq` and `<case>.attention_factor` from transformers'
`ROPE_INIT_FUNCTIONS` for the cases in ROPE_CASES below.

Both hold `meta`: JSON with library versions, the configs and the date.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

OUT = Path(__file__).resolve().parents[1] / "tests" / "foundations" / "fixtures"

TINY = {
    "vocab_size": 97,
    "hidden_size": 64,
    "intermediate_size": 160,
    "num_attention_heads": 4,
    "head_dim": 16,
    "max_position_embeddings": 512,
    "rms_norm_eps": 1e-6,
}
MODELS: dict[str, dict[str, Any]] = {
    "a": {
        **TINY,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "tie_word_embeddings": False,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10_000.0},
    },
    "b": {
        **TINY,
        "num_hidden_layers": 1,
        "num_key_value_heads": 1,
        "tie_word_embeddings": True,
        "rope_parameters": {
            "rope_type": "llama3",
            "rope_theta": 500_000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 64,
        },
    },
}
LENGTHS = (1, 7, 48)
N_NEW = 12

# name -> (LlamaConfig kwargs, seq_len passed to the init function)
ROPE_CASES: dict[str, tuple[dict[str, Any], int | None]] = {
    # Llama 3.1 8B's config.json: head_dim 128, theta 500k, llama3 scaling from 8k.
    "llama3": (
        {
            "head_dim": 128,
            "max_position_embeddings": 131072,
            "rope_parameters": {
                "rope_type": "llama3",
                "rope_theta": 500_000.0,
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192,
            },
        },
        None,
    ),
    # Qwen-style YaRN: 32k -> 128k, defaults beta_fast 32, beta_slow 1, truncated ramp.
    "yarn": (
        {
            "head_dim": 128,
            "max_position_embeddings": 131072,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 1_000_000.0,
                "factor": 4.0,
                "original_max_position_embeddings": 32768,
            },
        },
        None,
    ),
    # gpt-oss-style YaRN: head_dim 64, theta 150k, 4k -> 128k, ramp not truncated.
    "yarn_untruncated": (
        {
            "head_dim": 64,
            "max_position_embeddings": 131072,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 150_000.0,
                "factor": 32.0,
                "beta_fast": 32.0,
                "beta_slow": 1.0,
                "truncate": False,
                "original_max_position_embeddings": 4096,
            },
        },
        None,
    ),
    "linear": (
        {
            "head_dim": 128,
            "max_position_embeddings": 16384,
            "rope_parameters": {"rope_type": "linear", "rope_theta": 10_000.0, "factor": 4.0},
        },
        None,
    ),
    "dynamic": (
        {
            "head_dim": 128,
            "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "dynamic", "rope_theta": 10_000.0, "factor": 2.0},
        },
        16384,
    ),
}


def randomise(model: LlamaForCausalLM, seed: int) -> None:
    """HF initialises with std 0.02, which makes nearly uniform logits and a weak test.

    Use what our `Decoder.random` uses instead: matrices N(0, 1/fan_in), embeddings N(0, 1),
    norm gains 1 + 0.1 N(0, 1).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if p.ndim == 1:
                p.copy_(1.0 + 0.1 * noise)
            elif "embed_tokens" in name:
                p.copy_(noise)
            else:
                p.copy_(noise / p.shape[1] ** 0.5)


def greedy_with_gap(model: LlamaForCausalLM, prompt: np.ndarray) -> tuple[np.ndarray, float]:
    """HF greedy decoding (its own KV cache) and the smallest top-2 logit gap along the way."""
    with torch.no_grad():
        gen = model.generate(
            torch.from_numpy(prompt)[None],
            max_new_tokens=N_NEW,
            do_sample=False,
            use_cache=True,
            pad_token_id=0,
            return_dict_in_generate=True,
            output_logits=True,
        )
    gap = min(float(torch.topk(step[0], 2).values.diff().abs()) for step in gen.logits)
    return gen.sequences[0].numpy().astype(np.int64), gap


def pick_greedy_case(
    model: LlamaForCausalLM, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, float]:
    """Of 50 random 5-token prompts, the one whose greedy continuation is most varied, among
    those where no step is a near-tie (top-2 gap >= 0.05) that float32 noise could flip.

    Random tiny models tend to lock onto one token; a varied continuation tests more steps.
    """
    best: tuple[int, np.ndarray, np.ndarray, float] | None = None
    for _ in range(50):
        prompt = rng.integers(0, model.config.vocab_size, size=5, dtype=np.int64)
        greedy, gap = greedy_with_gap(model, prompt)
        distinct = len(set(greedy[len(prompt) :].tolist()))
        if gap >= 0.05 and (best is None or distinct > best[0]):
            best = (distinct, prompt, greedy, gap)
    assert best is not None, "no prompt without a near-tie"
    return best[1], best[2], best[3]


def model_arrays(prefix: str, kwargs: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    config = LlamaConfig(**kwargs, attn_implementation="eager")
    model = LlamaForCausalLM(config).eval()
    randomise(model, seed)
    out: dict[str, np.ndarray] = {}
    for name, tensor in model.state_dict().items():
        if config.tie_word_embeddings and name == "lm_head.weight":
            continue  # the same tensor as model.embed_tokens.weight
        out[prefix + name] = tensor.numpy().astype(np.float32)
    rng = np.random.default_rng(seed)
    for j, n in enumerate(LENGTHS):
        ids = rng.integers(0, config.vocab_size, size=n, dtype=np.int64)
        with torch.no_grad():
            logits = model(torch.from_numpy(ids)[None]).logits[0]
        out[f"{prefix}ids_{j}"] = ids
        out[f"{prefix}logits_{j}"] = logits.numpy().astype(np.float32)
    prompt, greedy, gap = pick_greedy_case(model, rng)
    print(
        f"{prefix} greedy: {len(set(greedy[5:].tolist()))} distinct new tokens, top-2 gap {gap:.3f}"
    )
    out[prefix + "prompt"] = prompt
    out[prefix + "greedy"] = greedy
    out[prefix + "inv_freq"] = model.model.rotary_emb.inv_freq.numpy().astype(np.float32)
    return out


def rope_arrays() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for case, (kwargs, seq_len) in ROPE_CASES.items():
        config = LlamaConfig(hidden_size=4096, num_attention_heads=32, **kwargs)
        fn = ROPE_INIT_FUNCTIONS[kwargs["rope_parameters"]["rope_type"]]
        inv_freq, attention_factor = fn(config, None, seq_len=seq_len)
        out[f"{case}.inv_freq"] = inv_freq.numpy().astype(np.float32)
        out[f"{case}.attention_factor"] = np.array(attention_factor, dtype=np.float64)
    return out


def meta(configs: dict[str, Any]) -> np.ndarray:
    info = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": importlib.metadata.version("transformers"),
        "numpy": np.__version__,
        "date": dt.date.today().isoformat(),
        "configs": configs,
    }
    return np.array(json.dumps(info, sort_keys=True))


def main() -> None:
    torch.manual_seed(0)
    arrays: dict[str, np.ndarray] = {}
    for seed, (prefix, kwargs) in enumerate(MODELS.items()):
        arrays |= model_arrays(prefix + ".", kwargs, seed)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "decoder_reference.npz", meta=meta(MODELS), **arrays)
    rope_configs = {k: {"kwargs": kw, "seq_len": n} for k, (kw, n) in ROPE_CASES.items()}
    np.savez_compressed(OUT / "rope_reference.npz", meta=meta(rope_configs), **rope_arrays())
    print(str(meta({})))
    for name in ("decoder_reference.npz", "rope_reference.npz"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
