"""PII detection: validators, spans, redaction, and an honest measurement on labelled cases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.production.pii import (
    DETECTED_KINDS,
    PIICase,
    PIISpan,
    evaluate_pii,
    find_pii,
    iban_ok,
    load_pii_cases,
    luhn_ok,
    overall,
    redact,
    ssn_ok,
)

CASES_PATH = Path(__file__).parents[2] / "chapters/_data/production/pii_cases.yml"


@pytest.fixture(scope="module")
def cases() -> tuple[PIICase, ...]:
    return load_pii_cases(CASES_PATH)


# -- the labelled cases ----------------------------------------------------------


def test_every_labelled_span_selects_its_text(cases: tuple[PIICase, ...]) -> None:
    assert len(cases) >= 110
    for case in cases:
        for span in case.spans:
            assert case.text[span.start : span.end] == span.text, case.text


def test_the_cases_include_hard_negatives_and_unfindable_pii(cases: tuple[PIICase, ...]) -> None:
    negatives = [c for c in cases if not c.spans]
    assert len(negatives) >= 30
    assert sum("hard negative" in c.note for c in negatives) >= 25
    kinds = {s.kind for c in cases for s in c.spans}
    assert {"person", "address"} <= kinds
    assert set(DETECTED_KINDS) <= kinds


def test_measured_precision_and_recall_are_honest(cases: tuple[PIICase, ...]) -> None:
    results = evaluate_pii(cases)
    for kind in DETECTED_KINDS:
        assert results[kind].recall >= 0.8, kind
        assert results[kind].precision >= 0.8, kind
    # Names and addresses are labelled but never found: recall 0, nothing predicted.
    for kind in ("person", "address"):
        assert results[kind].recall == 0.0
        assert math.isnan(results[kind].precision)
    found = overall(results, DETECTED_KINDS)
    everything = overall(results)
    assert everything.recall < found.recall  # counting names and addresses lowers recall
    assert everything.precision == found.precision


def test_hard_negatives_that_still_fool_it_are_the_documented_ones(
    cases: tuple[PIICase, ...],
) -> None:
    """The false alarms left are look-alikes no validator can tell apart, named in notes."""
    false_alarms = [c for c in cases if not c.spans and find_pii(c.text)]
    assert all("false alarm" in c.note for c in false_alarms)
    assert len(false_alarms) <= 3


# -- validators ------------------------------------------------------------------


@given(st.text("0123456789", min_size=12, max_size=18), st.data())
def test_luhn_catches_every_single_digit_error(body: str, data: st.DataObject) -> None:
    number = next(body + d for d in "0123456789" if luhn_ok(body + d))
    i = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    assert not luhn_ok(number[:i] + wrong + number[i + 1 :])


@pytest.mark.parametrize(
    ("number", "ok"),
    [("4111111111111111", True), ("378282246310005", True), ("4111111111111112", False)],
)
def test_luhn_known_values(number: str, ok: bool) -> None:
    assert luhn_ok(number) is ok


@given(st.integers(0, 21), st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
def test_iban_mod97_catches_a_single_substitution(i: int, ch: str) -> None:
    iban = "DE89370400440532013000"
    changed = iban[:i] + ch + iban[i + 1 :]
    if changed != iban:
        assert not iban_ok(changed)


def test_iban_needs_the_country_length() -> None:
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82WEST123456987654")  # too short for GB
    assert not iban_ok("XX82WEST12345698765432")  # a country we do not know


@pytest.mark.parametrize(
    ("ssn", "ok"),
    [
        ("123-45-6789", True),
        ("000-45-6789", False),
        ("666-45-6789", False),
        ("901-45-6789", False),
        ("123-00-6789", False),
        ("123-45-0000", False),
        ("078-05-1120", False),
    ],
)
def test_ssn_rules(ssn: str, ok: bool) -> None:
    assert ssn_ok(ssn) is ok


@pytest.mark.parametrize(
    "text", ["", "12a4", "\u0664\u0661\u0661\u0661", "123456789", "12-345-6789"]
)
def test_validators_say_false_to_malformed_input_instead_of_crashing(text: str) -> None:
    assert not luhn_ok(text)  # "" used to pass: an empty checksum sum is 0
    assert not ssn_ok(text)  # an undashed number used to raise an unpacking error
    assert not iban_ok("DE89" + text + "\u00e9" * (18 - len(text)))  # non-ASCII letters


# -- finding and redacting --------------------------------------------------------


def test_find_pii_returns_exact_spans_in_order() -> None:
    text = "Mail ana@example.com or call +44 20 7946 0958 from 203.0.113.9."
    assert find_pii(text) == [
        PIISpan("email", 5, 20, "ana@example.com"),
        PIISpan("phone", 29, 45, "+44 20 7946 0958"),
        PIISpan("ip_address", 51, 62, "203.0.113.9"),
    ]


def test_overlaps_go_to_the_higher_priority_kind() -> None:
    """An IBAN's digit groups are not also reported as a phone or a card."""
    spans = find_pii("IBAN DE89 3704 0044 0532 0130 00 today")
    assert [s.kind for s in spans] == ["iban"]
    # Here two finders do fire on overlapping text: the phone number inside an email-to-SMS
    # address, and a card number used as a mailbox name. The email (higher priority) wins.
    text = "Text +14155550132@sms.example.com or 4111111111111111@pay.example.com"
    assert [(s.kind, s.text) for s in find_pii(text)] == [
        ("email", "+14155550132@sms.example.com"),
        ("email", "4111111111111111@pay.example.com"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Order #415-555-0132 shipped",
        "version 1.2.3.4",
        "Ref 4111111111111112",
        "at 10:15:30",
        "SSN 666-12-3456",
        "ping 10.01.0.1",  # a leading zero: octal to some parsers, not a written address
    ],
)
def test_look_alikes_are_not_pii(text: str) -> None:
    assert find_pii(text) == []


def test_redact_with_tags() -> None:
    text = "Card 4111 1111 1111 1111, SSN 123-45-6789, mail bo@example.org."
    assert redact(text) == "Card [CREDIT_CARD], SSN [SSN], mail [EMAIL]."


def test_hashed_redaction_is_stable_and_keyed() -> None:
    a = redact("from ana@example.com", style="hash")
    b = redact("to ana@example.com!", style="hash")
    assert a.removeprefix("from ") == b.removeprefix("to ").removesuffix("!")
    assert a.startswith("from [EMAIL:")
    keyed = redact("from ana@example.com", style="hash", key=b"secret")
    assert keyed != a
    assert keyed == redact("from ana@example.com", style="hash", key=b"secret")


def test_redacted_text_has_no_findable_pii_left(cases: tuple[PIICase, ...]) -> None:
    for case in cases:
        assert find_pii(redact(case.text)) == [], case.text


@given(st.text(max_size=60))
def test_redact_never_crashes_and_clean_text_is_unchanged(text: str) -> None:
    out = redact(text)
    if not find_pii(text):
        assert out == text


# -- errors ----------------------------------------------------------------------------


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        PIISpan("email", 0, 3, "ab")
    with pytest.raises(ValueError, match="unknown PII kind"):
        PIISpan("dna", 0, 2, "ab")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a str"):
        find_pii(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no detector"):
        find_pii("x", kinds=["person"])
    with pytest.raises(ValueError, match="style"):
        redact("x", style="blur")  # type: ignore[arg-type]


def test_wrong_offsets_name_the_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "cases.yml"
    path.write_text(
        "- text: mail ana@example.com\n  spans:\n"
        "  - {kind: email, start: 4, end: 19, text: ana@example.com}\n"
    )
    with pytest.raises(ValueError, match=r"cases.yml: entry 0: offsets 4:19 select") as info:
        load_pii_cases(path)
    assert str(path) in str(info.value)
