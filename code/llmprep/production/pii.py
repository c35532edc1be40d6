"""Finding and redacting PII with patterns and checksums, and measuring what they miss.

Logs, traces and eval sets fill up with what users type. A redactor sits in front of them:

    text --patterns--> candidates --validators--> spans --redact--> "[EMAIL]", "[CARD:9f1c2a07]"
                       (shape)       (checksum, rules, context)

A pattern alone over-fires: every 16-digit number looks like a card, every dotted quad like an
IP address, every 3-3-4 digit group like a US phone number. Validators remove most of that:

- credit cards: 13-19 digits that pass the Luhn checksum (a random number passes 1 in 10);
- IBANs: the country's length and the ISO 7064 mod-97 check (wrong digits fail 96 in 97);
- US SSNs (dashed form only): area not 000, 666 or 900-999, group not 00, serial not 0000;
- IPv4 (each octet 0-255, no leading zeros) and IPv6 (parsed by `ipaddress`);
- phones: "+" and 8-15 digits (E.164), or US numbers whose area code and exchange start 2-9;
- context: a number right after "order", "invoice", "tracking no." is not a phone, and a
  dotted quad after "version" or "v" is not an address.

What no pattern finds: names, street addresses, dates of birth, free-text health details.
The labelled cases in chapters/_data/production/pii_cases.yml include them, so the recall
`evaluate_pii` reports for "person" and "address" is 0, which is the honest number. For
those you need a trained NER model (Presidio, spaCy), and even those miss a great deal.

Leaves out: keyed hashing by default (`redact(style="hash")` of a phone number can be
reversed by hashing all phone numbers: pass `key=` for an HMAC), formats outside the
US/EU (national IDs, non-IBAN bank accounts), undashed SSNs (too many false alarms), and
PII inside images or attachments.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import yaml

type PIIKind = Literal[
    "email", "phone", "credit_card", "ssn", "ip_address", "iban", "person", "address"
]
PII_KINDS: tuple[PIIKind, ...] = get_args(PIIKind.__value__)
DETECTED_KINDS: tuple[PIIKind, ...] = ("email", "iban", "credit_card", "ssn", "ip_address", "phone")
"""What `find_pii` looks for, in priority order: when two spans overlap, the earlier wins."""


@dataclass(frozen=True, slots=True)
class PIISpan:
    """One piece of PII: its kind, where it is (`text[start:end]`), and the text itself."""

    kind: PIIKind
    start: int
    end: int
    text: str

    def __post_init__(self) -> None:
        if self.kind not in PII_KINDS:
            raise ValueError(f"unknown PII kind {self.kind!r}; expected one of {PII_KINDS}")
        if not 0 <= self.start < self.end or self.end - self.start != len(self.text):
            raise ValueError(f"span {self.start}:{self.end} does not fit its text {self.text!r}")


# -----------------------------------------------------------------------------
# validators


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum: double every second digit from the right, the sum ends in 0.

    Example: luhn_ok("4111111111111111") is True; luhn_ok("4111111111111112") is False
    """
    if not (digits.isascii() and digits.isdigit()):
        return False  # "" too: an empty sum "ends in 0", but it is not a number
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Lengths from the SWIFT IBAN registry for the countries we accept (others are skipped).
IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27,
    "GB": 22, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24,
}  # fmt: skip


def iban_ok(iban: str) -> bool:
    """ISO 13616: right length for the country, and mod-97 of the rearranged number is 1.

    Move the first four characters to the end, turn letters into numbers (A=10 ... Z=35),
    and the result modulo 97 must be 1.

    Example: iban_ok("DE89370400440532013000") is True
    """
    iban = iban.replace(" ", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not (iban.isascii() and iban.isalnum()):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


_NEVER_ISSUED_SSNS = {"078-05-1120", "219-09-9999"}  # printed in ads and on sample cards


def ssn_ok(ssn: str) -> bool:
    """US Social Security number rules: area, group and serial that are never issued.

    Example: ssn_ok("123-45-6789") is True; ssn_ok("666-12-3456") is False
    """
    if not re.fullmatch(r"\d{3}-\d{2}-\d{4}", ssn, flags=re.ASCII):
        return False  # only the dashed AAA-GG-SSSS form is checked (see the module docstring)
    area, group, serial = ssn.split("-")
    if ssn in _NEVER_ISSUED_SSNS or area in ("000", "666") or area.startswith("9"):
        return False
    return group != "00" and serial != "0000"


def ipv4_ok(text: str) -> bool:
    """Four octets 0-255 without leading zeros ("01" is ambiguous: octal in some parsers)."""
    octets = text.split(".")
    return len(octets) == 4 and all(
        o.isdigit() and int(o) <= 255 and (o == "0" or not o.startswith("0")) for o in octets
    )


def ipv6_ok(text: str) -> bool:
    """A valid IPv6 address (per `ipaddress`) with at least one hex digit in it."""
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return any(ch not in ":" for ch in text)


# -----------------------------------------------------------------------------
# patterns

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_CARD = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){12,18}(?![\d-])")  # never after "+"
_IBAN_START = re.compile(r"\b[A-Z]{2}\d{2}(?=[ ]?[A-Z0-9])")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_IPV4 = re.compile(
    r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)"
)  # a final "." may end a sentence
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){2,5}(?!\d)")
_PHONE_US = re.compile(
    r"(?<![\w+-])(?:1[ .-])?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-])"
)
# Words that make a digit string an identifier rather than a phone or an address.
_NOT_PHONE = re.compile(
    r"\b(order|invoice|ref|reference|tracking|ticket|case|account|acct|sku|part|serial|"
    r"booking|confirmation|po)\b\s*(no\.?|number|num|id|#)?\s*[:#]?\s*$",
    re.IGNORECASE,
)
_NOT_IP = re.compile(r"(\bv|\bversion|\brelease|\bbuild|\bver\.?)\s*$", re.IGNORECASE)


def _before(text: str, start: int, width: int = 24) -> str:
    return text[max(0, start - width) : start]


def _emails(text: str) -> Iterator[PIISpan]:
    for m in _EMAIL.finditer(text):
        yield PIISpan("email", m.start(), m.end(), m.group())


def _ibans(text: str) -> Iterator[PIISpan]:
    for m in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m.group()[:2])
        if length is None:
            continue
        # Take characters (single spaces allowed between them) until the country's length.
        end, count = m.start(), 0
        while end < len(text) and count < length:
            if text[end].isalnum():
                count += 1
            elif not (text[end] == " " and end + 1 < len(text) and text[end + 1].isalnum()):
                break
            end += 1
        candidate = text[m.start() : end]
        if count == length and (end == len(text) or not text[end].isalnum()) and iban_ok(candidate):
            yield PIISpan("iban", m.start(), end, candidate)


def _cards(text: str) -> Iterator[PIISpan]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            yield PIISpan("credit_card", m.start(), m.end(), m.group())


def _ssns(text: str) -> Iterator[PIISpan]:
    for m in _SSN.finditer(text):
        if ssn_ok(m.group()):
            yield PIISpan("ssn", m.start(), m.end(), m.group())


def _ips(text: str) -> Iterator[PIISpan]:
    for m in _IPV4.finditer(text):
        if ipv4_ok(m.group()) and not _NOT_IP.search(_before(text, m.start())):
            yield PIISpan("ip_address", m.start(), m.end(), m.group())
    for m in _IPV6.finditer(text):
        if ipv6_ok(m.group()):
            yield PIISpan("ip_address", m.start(), m.end(), m.group())


def _phones(text: str) -> Iterator[PIISpan]:
    for pattern, digits_ok in ((_PHONE_INTL, range(8, 16)), (_PHONE_US, range(10, 12))):
        for m in pattern.finditer(text):
            digits = sum(ch.isdigit() for ch in m.group())
            if digits in digits_ok and not _NOT_PHONE.search(_before(text, m.start())):
                yield PIISpan("phone", m.start(), m.end(), m.group())


_FINDERS: dict[PIIKind, Callable[[str], Iterator[PIISpan]]] = {
    "email": _emails,
    "iban": _ibans,
    "credit_card": _cards,
    "ssn": _ssns,
    "ip_address": _ips,
    "phone": _phones,
}


def find_pii(text: str, kinds: Iterable[PIIKind] = DETECTED_KINDS) -> list[PIISpan]:
    """Every PII span found in `text`, in order, without overlaps.

    Finders run in priority order (email, IBAN, card, SSN, IP, phone); a span that overlaps
    one already accepted is dropped, so an IBAN's digits are not also reported as a phone.

    Example: find_pii("Mail ana@example.com")[0] == PIISpan("email", 5, 20, "ana@example.com")
    """
    if not isinstance(text, str):
        raise TypeError(f"find_pii needs a str, got {type(text).__name__}")
    accepted: list[PIISpan] = []
    for kind in kinds:
        if kind not in _FINDERS:
            raise ValueError(f"no detector for {kind!r}; detectable: {DETECTED_KINDS}")
        for span in _FINDERS[kind](text):
            if all(span.end <= s.start or span.start >= s.end for s in accepted):
                accepted.append(span)
    return sorted(accepted, key=lambda s: s.start)


def redact(text: str, *, style: Literal["tag", "hash"] = "tag", key: bytes | None = None) -> str:
    """Replace every PII span with "[KIND]" or, with style="hash", "[KIND:8 hex digits]".

    Why a hash: the same email gets the same tag everywhere, so you can still count a user's
    requests or join two logs, without storing the address. subtle: an unkeyed hash of a
    phone number or SSN is not anonymous (there are only 10^9 SSNs to try); pass `key` to
    use an HMAC, and keep the key out of the logs.

    Example: redact("call +44 20 7946 0958") == "call [PHONE]"
    """
    if style not in ("tag", "hash"):
        raise ValueError(f"style must be 'tag' or 'hash', got {style!r}")
    out = text
    for span in reversed(find_pii(text)):
        label = span.kind.upper()
        if style == "hash":
            raw = span.text.encode()
            digest = (
                hmac.new(key, raw, hashlib.sha256).hexdigest()
                if key
                else hashlib.sha256(raw).hexdigest()
            )
            label = f"{label}:{digest[:8]}"
        out = out[: span.start] + f"[{label}]" + out[span.end :]
    return out


# -----------------------------------------------------------------------------
# measuring


@dataclass(frozen=True, slots=True)
class PIICase:
    """A labelled text: every PII span a careful human would mark, and why it is there."""

    text: str
    spans: tuple[PIISpan, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class PRF:
    """Precision, recall and F1 from span counts. NaN precision: nothing was predicted."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        if math.isnan(p) or math.isnan(r) or p + r == 0:
            return 0.0 if self.tp + self.fn else math.nan
        return 2 * p * r / (p + r)

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def load_pii_cases(path: str | Path) -> tuple[PIICase, ...]:
    """Read labelled cases; each span's offsets must select exactly its text."""
    path = Path(path)
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a list of cases")
    cases = []
    for i, row in enumerate(rows):
        try:
            text = row["text"]
            spans = tuple(
                PIISpan(s["kind"], s["start"], s["end"], s["text"]) for s in row.get("spans", [])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: entry {i}: {exc}") from exc
        for s in spans:
            if text[s.start : s.end] != s.text:
                raise ValueError(
                    f"{path}: entry {i}: offsets {s.start}:{s.end} select "
                    f"{text[s.start : s.end]!r}, not {s.text!r}"
                )
        cases.append(PIICase(text, spans, row.get("note", "")))
    return tuple(cases)


def evaluate_pii(
    cases: Sequence[PIICase], find: Callable[[str], list[PIISpan]] = find_pii
) -> dict[PIIKind, PRF]:
    """Span-exact precision/recall/F1 per kind: a span counts only with the exact offsets.

    Why exact: a redactor that masks "+1 555" of "+1 555 0100 200" leaves the number
    readable. Kinds that are labelled but never predicted (person, address) show recall 0.

    Example: evaluate_pii(load_pii_cases(path))["email"].recall
    """
    counts = {kind: PRF(0, 0, 0) for kind in PII_KINDS}
    for case in cases:
        gold = {(s.kind, s.start, s.end) for s in case.spans}
        predicted = {(s.kind, s.start, s.end) for s in find(case.text)}
        for kind in PII_KINDS:
            g = {x for x in gold if x[0] == kind}
            p = {x for x in predicted if x[0] == kind}
            counts[kind] = counts[kind] + PRF(len(g & p), len(p - g), len(g - p))
    return {k: v for k, v in counts.items() if v.tp + v.fp + v.fn}


def overall(results: dict[PIIKind, PRF], kinds: Iterable[PIIKind] | None = None) -> PRF:
    """Micro-averaged counts over `kinds` (all of them by default)."""
    total = PRF(0, 0, 0)
    for kind, prf in results.items():
        if kinds is None or kind in kinds:
            total = total + prf
    return total
