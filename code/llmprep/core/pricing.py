"""What a call costs: a small, dated price table and exact cost arithmetic.

Providers price text models per million tokens (MTok), with output several times dearer than
input. The cost of one call is

    cost = input_tokens * input_price / 1,000,000 + output_tokens * output_price / 1,000,000

We compute it with `Decimal`, so a million calls at $0.000123 each add up to exactly $123,
not $122.99999999. Round only when you display.

Every price below is dated and sourced: prices change several times a year, and a cost
estimate is only as good as the day its prices were read. Each entry was checked against the
provider's own documentation page named in `source`.

Leaves out: cached-input discounts, batch (50% off) and priority tiers, long-context
surcharges (noted per entry where the base price stops applying), per-image and per-search
fees, and regional uplifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

type Provider = Literal["openai", "anthropic", "google"]

MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens for one model, with where and when the price was read."""

    model: str
    provider: Provider
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    source: str  # URL of the provider's page the price came from
    as_of: date  # the day that page was read
    note: str = ""

    def __post_init__(self) -> None:
        # Decimal, not float: a float price would quietly bring back the drift this module
        # exists to avoid (and fail later, deep inside `cost`, with a TypeError).
        for label, price in (("input", self.input_per_mtok), ("output", self.output_per_mtok)):
            if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
                raise ValueError(
                    f"{self.model}: {label}_per_mtok must be a non-negative Decimal, "
                    f"e.g. Decimal('0.25'), got {price!r}"
                )
        if not isinstance(self.as_of, date):
            raise TypeError(f"{self.model}: as_of must be a date, got {self.as_of!r}")

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        """Exact USD cost of one call with these token counts."""
        for label, n in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"{label} must be a non-negative int, got {n!r}")
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / MILLION


# All pages below were read on 2026-11-29 from the copies stored in the project's search index
# (the stored copies carry no crawl date of their own).
_READ = date(2026, 11, 29)

_TABLE = (
    ModelPrice(
        "gpt-5.6-terra",
        "openai",
        Decimal("2.00"),
        Decimal("12.00"),
        "https://developers.openai.com/api/docs/models/gpt-5.6-terra",
        _READ,
        "Read from the German locale of the page (/de-DE/). Base rates apply to prompts up to "
        "272,000 input tokens; above that the whole request costs 2x input and 1.5x output.",
    ),
    ModelPrice(
        "gpt-5-mini",
        "openai",
        Decimal("0.25"),
        Decimal("2.00"),
        "https://developers.openai.com/api/docs/models/gpt-5-mini",
        _READ,
        "Read from the Korean locale of the page (/ko-KR/), which marks the model as "
        "scheduled for deprecation.",
    ),
    ModelPrice(
        "claude-sonnet-5-5",
        "anthropic",
        Decimal("2"),
        Decimal("10"),
        "https://platform.claude.com/docs/en/models/sonnet-5-5/overview",
        _READ,
        "Read from the Chinese locale of the page (/zh-CN/). The stored copy cuts off the "
        "model-id table; 'claude-sonnet-5-5' is the id API gateways list for it.",
    ),
    ModelPrice(
        "claude-opus-4-5",
        "anthropic",
        Decimal("5"),
        Decimal("25"),
        "https://platform.claude.com/docs/en/about-claude/pricing",
        _READ,
        "The same price is listed for Claude Opus 4.6, 4.7, 4.8 and 5.",
    ),
    ModelPrice(
        "claude-haiku-4-5",
        "anthropic",
        Decimal("1"),
        Decimal("5"),
        "https://platform.claude.com/docs/en/models/haiku-4-5/overview",
        _READ,
        "Read from the Chinese locale of the page (/zh-CN/); model id "
        "claude-haiku-4-5-20251001. Marked legacy (Claude Haiku 5.5 is current, but its "
        "price depends on prompt length).",
    ),
    ModelPrice(
        "gemini-3.5-flash",
        "google",
        Decimal("1.50"),
        Decimal("9.00"),
        "https://ai.google.dev/gemini-api/docs/pricing",
        _READ,
        "Paid tier; output includes thinking tokens. The stored index holds no copy of "
        "Google's page itself: verified against a verbatim transcription of it "
        "(github.com/api-evangelist/gemini, plans/gemini-plans-pricing.yml, page read "
        "2026-09-20).",
    ),
)

PRICES: Mapping[str, ModelPrice] = MappingProxyType({p.model: p for p in _TABLE})


class UnknownModelError(KeyError):
    """Raised for a model with no price on file; the message lists the models we know."""

    def __init__(self, model: str, known: Mapping[str, ModelPrice]) -> None:
        super().__init__(model)
        self.model = model
        self.message = (
            f"no price on file for model {model!r}; known models: {', '.join(sorted(known))}"
        )

    def __str__(self) -> str:  # KeyError would otherwise print the repr of its argument
        return self.message


def price_of(model: str, prices: Mapping[str, ModelPrice] = PRICES) -> ModelPrice:
    """Look up a model's price, with an error that tells you what is available."""
    try:
        return prices[model]
    except KeyError:
        raise UnknownModelError(model, prices) from None


def estimate_cost(
    model: str,
    input_tokens: int,
    output_tokens: int,
    *,
    prices: Mapping[str, ModelPrice] = PRICES,
) -> Decimal:
    """Exact USD cost of a call to `model` with these token counts, from the dated table.

    Why Decimal: costs are summed over millions of calls, and binary floats drift (0.1 + 0.2
    != 0.3). Decimal keeps every fraction of a cent until you round for display.

    Example: estimate_cost("gpt-5-mini", 1_000_000, 1_000_000) == Decimal("2.25")
    """
    return price_of(model, prices).cost(input_tokens, output_tokens)
