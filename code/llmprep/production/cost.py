"""Cost control: meter every call, enforce budgets before the call, price prompt caching.

LLM spend grows with traffic, prompt length and output length, and one bad loop can spend
a month's budget in an hour (a "denial of wallet"). Three tools keep it in check:

    CostTracker        every call's tokens and dollars, by tenant, feature and model;
                       budgets per tenant with alerts at 50%, 80% and 100%
    check / estimate   refuse a call *before* sending it if its worst case (the prompt's
                       tokens plus `max_tokens` of output) would exceed the budget
    MeteredLLM         any LLM, metered and budget-checked, tagged with tenant and feature

Prices come from `llmprep.core.pricing` (dated, sourced). Costs are `Decimal`, so sums over
millions of calls stay exact.

Provider prompt caching is a discount on a repeated prompt prefix (the system prompt, tool
definitions, a long document): the provider keeps the prefix's computed state for a few
minutes and bills a re-read at a fraction of the input price, and some bill the first write
at a premium. The multipliers, relative to each model's base input price:

    model             cache read   cache write           source (read 2026-12-02)
    gpt-5-mini        0.1x         1x (no surcharge)     [1], [2]
    gpt-5.6-terra     0.1x         1.25x                 [3]
    claude-opus-4-5   0.1x         1.25x (5 min), 2x (1 h)   [4]
    claude-haiku-4-5  0.1x         1.25x (5 min), 2x (1 h)   [4], [5]

[1] https://developers.openai.com/api/docs/models/gpt-5-mini (Korean locale, ko-KR):
    input $0.25, cached input $0.025, output $2.00 per 1M tokens.
[2] OpenAI Cookbook, "Prompt Caching 201" (github.com/openai/openai-cookbook,
    examples/Prompt_Caching_201.ipynb): for models before GPT-5.6, caching is automatic for
    prompts of 1024 tokens or more and "has no additional fees".
[3] https://developers.openai.com/api/docs/models/gpt-5.6-terra (German locale, de-DE):
    input $2.00, cached input $0.20; cache writes cost 1.25x the uncached input price.
[4] https://platform.claude.com/docs/en/about-claude/pricing: Opus 4.5 $5 base input,
    $6.25 5-minute cache writes, $10 1-hour cache writes, $0.50 cache hits.
[5] The same table in an earlier copy (https://platform.claude.com/docs/en/docs/about-claude/
    pricing): Haiku 4.5 $1 base, $1.25 and $2 cache writes, $0.10 cache hits.

Left out of the table on purpose: claude-sonnet-5-5 (the stored official page lists cache
reads at $0.20, 0.1x, but several pricing trackers report a cut to 0.05x on 2026-10-07 that
we could not confirm on an official page) and gemini-3.5-flash (no official copy of the
caching prices was available).

Leaves out: billing periods (a tracker's budget covers its whole life: make one per day or
month), batch and priority tiers, long-context surcharges, the minimum cacheable prefix
length (1024 tokens at OpenAI; per-model at Anthropic) and cache hit rates, which depend
on traffic and are for a load test to measure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import ClassVar, Literal

from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM, StreamEnd, StreamEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
    Usage,
)
from llmprep.core.pricing import MILLION, PRICES, ModelPrice, price_of
from llmprep.core.tokens import Tokenizer, count_message_tokens
from llmprep.production.clock import LOOP_CLOCK, Clock
from llmprep.production.streaming import resume

# -----------------------------------------------------------------------------
# prompt-cache prices

type CacheTTL = Literal["5m", "1h"]

_READ = date(2026, 12, 2)


@dataclass(frozen=True, slots=True)
class CachePricing:
    """Prompt-cache prices of one model, as multiples of its base input price."""

    model: str
    read: Decimal  # a cache hit
    write: Decimal  # writing the prefix with the default lifetime (5 minutes at Anthropic)
    write_1h: Decimal | None  # writing with a one-hour lifetime, where offered
    source: str
    as_of: date
    min_prefix_tokens: int = 0  # shorter prefixes are not cached at all, and pay full price


_OPENAI_MODELS = "https://developers.openai.com/api/docs/models/"
_ANTHROPIC = "https://platform.claude.com/docs/en/about-claude/pricing"
# Minimum cacheable prefixes, read 2026-12-02: OpenAI caches prompts of 1,024 tokens or longer
# (developers.openai.com/docs/guides/prompt-caching); Anthropic's minimum is 4,096 tokens for
# Claude Haiku 4.5 and Claude Opus 4.5 (platform.claude.com/docs/en/build-with-claude/
# prompt-caching). Below it nothing is cached and no error is raised by the provider.
_OPENAI_MIN, _CLAUDE_4_5_MIN = 1_024, 4_096

CACHE_PRICES: Mapping[str, CachePricing] = MappingProxyType(
    {
        c.model: c
        for c in (
            CachePricing(
                "gpt-5-mini",
                Decimal("0.1"),
                Decimal("1"),
                None,
                _OPENAI_MODELS + "gpt-5-mini",
                _READ,
                _OPENAI_MIN,
            ),
            CachePricing(
                "gpt-5.6-terra",
                Decimal("0.1"),
                Decimal("1.25"),
                None,
                _OPENAI_MODELS + "gpt-5.6-terra",
                _READ,
                _OPENAI_MIN,
            ),
            *(
                CachePricing(
                    model,
                    Decimal("0.1"),
                    Decimal("1.25"),
                    Decimal("2"),
                    _ANTHROPIC,
                    _READ,
                    _CLAUDE_4_5_MIN,
                )
                for model in ("claude-opus-4-5", "claude-haiku-4-5")
            ),
        )
    }
)


def _tokens(label: str, n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{label} must be a non-negative int, got {n!r}")
    return n


def cache_pricing(
    model: str, cache_prices: Mapping[str, CachePricing] = CACHE_PRICES
) -> CachePricing:
    """The model's prompt-cache multipliers; the error lists the models we have."""
    try:
        return cache_prices[model]
    except KeyError:
        known = ", ".join(sorted(cache_prices))
        raise ValueError(f"no verified prompt-cache prices for {model!r}; known: {known}") from None


def _write_multiplier(model: str, cache: CachePricing, write_ttl: str) -> Decimal:
    if write_ttl == "5m":
        return cache.write
    if write_ttl != "1h":
        raise ValueError(f"write_ttl must be '5m' or '1h', got {write_ttl!r}")
    if cache.write_1h is None:
        raise ValueError(f"{model!r} offers no one-hour cache writes")
    return cache.write_1h


def prompt_cache_cost(
    model: str,
    *,
    uncached_input_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    output_tokens: int = 0,
    write_ttl: CacheTTL = "5m",
    prices: Mapping[str, ModelPrice] = PRICES,
    cache_prices: Mapping[str, CachePricing] = CACHE_PRICES,
) -> Decimal:
    """Exact USD cost of one request whose prompt is partly read from or written to cache.

    The three input counts are disjoint: tokens billed at the base price, tokens read from
    the cache, tokens written to it. (Anthropic reports them that way; OpenAI's
    `prompt_tokens` includes the cached ones, so subtract `cached_tokens` first.)

    A cache read shorter than the provider's minimum, or a write whose whole prefix (read
    plus written tokens) is shorter than it, is an error: the provider would never have
    cached that prefix, so the request cannot be billed that way.

    Example: a 10,000-token prefix read from cache plus 500 fresh tokens on claude-haiku-4-5
    costs (500 * 1 + 10,000 * 0.1) / 1e6 = $0.0015 of input instead of $0.0105.
    """
    price, cache = price_of(model, prices), cache_pricing(model, cache_prices)
    write = _write_multiplier(model, cache, write_ttl)
    read_n = _tokens("cache_read_tokens", cache_read_tokens)
    write_n = _tokens("cache_write_tokens", cache_write_tokens)
    # The shortest cached prefix in the request: the one read or, if none is, the one written
    # (a write after a read caches read + written tokens, longer than the read itself).
    prefix = read_n or write_n
    if 0 < prefix < cache.min_prefix_tokens:
        raise ValueError(
            f"{model!r} caches prefixes of at least {cache.min_prefix_tokens:,} tokens; a "
            f"{prefix:,}-token prefix is billed at the base input price"
        )
    base = (
        _tokens("uncached_input_tokens", uncached_input_tokens)
        + read_n * cache.read
        + write_n * write
    )
    output = _tokens("output_tokens", output_tokens)
    return (base * price.input_per_mtok + output * price.output_per_mtok) / MILLION


def cache_break_even(
    model: str,
    write_ttl: CacheTTL = "5m",
    cache_prices: Mapping[str, CachePricing] = CACHE_PRICES,
) -> int:
    """How many cache reads make writing a prefix to the cache pay off.

    Writing costs `write` times the input price once; each later read saves `1 - read`.
    Caching is no dearer than not caching once write + n * read <= 1 + n, that is
    n >= (write - 1) / (1 - read). With Anthropic's 1.25x write and 0.1x read that is one
    read; with the one-hour 2x write, two.
    """
    cache = cache_pricing(model, cache_prices)
    write = _write_multiplier(model, cache, write_ttl)
    return max(0, math.ceil((write - 1) / (1 - cache.read)))


# -----------------------------------------------------------------------------
# tracking and budgets


@dataclass(frozen=True, slots=True)
class CostRecord:
    """One metered call. `input_tokens` includes `cached_input_tokens` (OpenAI's convention)."""

    tenant: str
    feature: str
    model: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cost: Decimal
    at: float


@dataclass(frozen=True, slots=True)
class BudgetAlert:
    """A tenant's spend crossed `threshold` (a fraction) of its budget."""

    tenant: str
    threshold: float
    spent: Decimal
    budget: Decimal
    at: float


class BudgetExceededError(LLMError):
    """The call's worst-case cost would take the tenant over budget; nothing was sent.

    Not retryable: waiting does not refill a budget (raise it, or shorten the request).
    """

    retryable: ClassVar[bool] = False

    def __init__(self, tenant: str, spent: Decimal, estimate: Decimal, budget: Decimal) -> None:
        super().__init__(
            f"tenant {tenant!r} has spent ${spent:.6f} of ${budget:.6f}; a call costing up to "
            f"${estimate:.6f} would exceed the budget"
        )
        self.tenant = tenant
        self.spent = spent
        self.estimate = estimate
        self.budget = budget


def _decimal(label: str, value: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValueError(f"{label} must be a non-negative Decimal, got {value!r}")
    return value


class CostTracker:
    """Records every call's cost and enforces per-tenant budgets.

    Example:
        tracker = CostTracker(budgets={"acme": Decimal("5")})
        tracker.record(tenant="acme", feature="chat", model="gpt-5-mini", usage=usage)
        tracker.total(tenant="acme"); tracker.alerts
    """

    def __init__(
        self,
        prices: Mapping[str, ModelPrice] = PRICES,
        *,
        budgets: Mapping[str, Decimal] | None = None,
        alert_at: Sequence[float] = (0.5, 0.8, 1.0),
        cache_prices: Mapping[str, CachePricing] = CACHE_PRICES,
        clock: Clock = LOOP_CLOCK,
    ) -> None:
        self.prices = prices
        self.cache_prices = cache_prices
        self.budgets = {t: _decimal(f"budget for {t!r}", b) for t, b in (budgets or {}).items()}
        if any(not a > 0 for a in alert_at):
            raise ValueError(
                f"alert thresholds are positive fractions of a budget, got {alert_at!r}"
            )
        self.alert_at = tuple(sorted(alert_at))
        self.clock = clock
        self.records: list[CostRecord] = []
        self.alerts: list[BudgetAlert] = []
        self._spent: defaultdict[str, Decimal] = defaultdict(Decimal)
        self._alerted: set[tuple[str, float]] = set()

    def call_cost(self, model: str, usage: Usage, cached_input_tokens: int = 0) -> Decimal:
        """What a call cost: cached input at the model's cache-read price (base price if we
        have no verified cache price for it, which overestimates but never under-bills)."""
        price = price_of(model, self.prices)
        cached = _tokens("cached_input_tokens", cached_input_tokens)
        n_in = usage.input_tokens
        if cached > n_in:
            raise ValueError(f"cached_input_tokens {cached} exceed input_tokens {n_in}")
        read = Decimal(1)
        if model in self.cache_prices:
            read = self.cache_prices[model].read
        input_cost = ((n_in - cached) + cached * read) * price.input_per_mtok
        output_cost = usage.output_tokens * price.output_per_mtok
        return (input_cost + output_cost) / MILLION

    def record(
        self,
        *,
        tenant: str,
        feature: str,
        model: str,
        usage: Usage,
        cached_input_tokens: int = 0,
    ) -> CostRecord:
        """Store one call's cost; raise alerts for any budget threshold it crossed."""
        cost = self.call_cost(model, usage, cached_input_tokens)
        record = CostRecord(
            tenant,
            feature,
            model,
            usage.input_tokens,
            usage.output_tokens,
            cached_input_tokens,
            cost,
            self.clock.now(),
        )
        self.records.append(record)
        self._spent[tenant] += cost
        self._alert(tenant, record.at)
        return record

    def _alert(self, tenant: str, at: float) -> None:
        budget = self.budgets.get(tenant)
        if budget is None:
            return
        spent = self._spent[tenant]
        for threshold in self.alert_at:
            if (
                spent >= budget * Decimal(str(threshold))
                and (tenant, threshold) not in self._alerted
            ):
                self._alerted.add((tenant, threshold))
                self.alerts.append(BudgetAlert(tenant, threshold, spent, budget, at))

    def spent(self, tenant: str) -> Decimal:
        """The tenant's total so far."""
        return self._spent[tenant]

    def remaining(self, tenant: str) -> Decimal | None:
        """Budget left (never below 0), or None for a tenant without a budget."""
        budget = self.budgets.get(tenant)
        return None if budget is None else max(Decimal(0), budget - self._spent[tenant])

    def check(self, tenant: str, estimate: Decimal) -> None:
        """Raise `BudgetExceededError` if spending `estimate` more would pass the budget.

        Call it before sending, with the request's worst case (`estimate_request_cost`):
        the one guard that stops a runaway loop before it spends, not after.

        subtle: it reserves nothing. Concurrent calls that all pass `check` before any of
        them is recorded can together overshoot the budget by up to one worst case each;
        a hard cap needs a reservation (add the estimate now, settle to the real cost later).
        """
        _decimal("estimate", estimate)
        budget = self.budgets.get(tenant)
        if budget is not None and self._spent[tenant] + estimate > budget:
            raise BudgetExceededError(tenant, self._spent[tenant], estimate, budget)

    def total(self, *, tenant: str | None = None, feature: str | None = None) -> Decimal:
        """Total cost, optionally for one tenant and/or one feature."""
        return sum(
            (
                r.cost
                for r in self.records
                if (tenant is None or r.tenant == tenant)
                and (feature is None or r.feature == feature)
            ),
            Decimal(0),
        )

    def breakdown(self, by: Literal["tenant", "feature", "model"]) -> dict[str, Decimal]:
        """Total cost per tenant, feature or model, largest first."""
        if by not in ("tenant", "feature", "model"):
            raise ValueError(f"breakdown by 'tenant', 'feature' or 'model', got {by!r}")
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for r in self.records:
            totals[getattr(r, by)] += r.cost
        return dict(sorted(totals.items(), key=lambda kv: kv[1], reverse=True))


def estimate_request_cost(
    messages: Sequence[Message],
    model: str,
    *,
    max_output_tokens: int,
    prices: Mapping[str, ModelPrice] = PRICES,
    tokenizer: Tokenizer | None = None,
) -> Decimal:
    """The most a request can cost: its prompt tokens plus `max_output_tokens` of output.

    Input is counted with the real cl100k_base tokenizer (`count_message_tokens`), an
    estimate within a few percent for other vocabularies; output is the worst case, since
    the model may use all of `max_tokens`. Worst case is what a budget check needs.
    """
    input_tokens = count_message_tokens(messages, tokenizer)
    return price_of(model, prices).cost(
        input_tokens, _tokens("max_output_tokens", max_output_tokens)
    )


class MeteredLLM:
    """An `LLM` that checks the tenant's budget before each call and records its cost after.

    `max_output_tokens` is the output worst case used when a request sets no `max_tokens`.
    Put exact caches outside the meter (`CachedLLM(MeteredLLM(...))`): a cache hit then
    never reaches the meter and costs nothing.

    Example:
        llm = MeteredLLM(provider, tracker, tenant="acme", feature="search", model="gpt-5-mini")
    """

    def __init__(
        self,
        llm: LLM,
        tracker: CostTracker,
        *,
        tenant: str,
        feature: str,
        model: str,
        max_output_tokens: int = 1024,
    ) -> None:
        price_of(model, tracker.prices)  # fail now, not on the first call, for an unknown model
        self.llm = llm
        self.tracker = tracker
        self.tenant = tenant
        self.feature = feature
        self.model = model
        self.max_output_tokens = _tokens("max_output_tokens", max_output_tokens)

    def _check(self, messages: Sequence[Message], settings: GenerationSettings) -> None:
        if self.tenant not in self.tracker.budgets:
            return
        worst = settings.max_tokens
        if worst is None:
            worst = self.max_output_tokens
        estimate = estimate_request_cost(
            messages, self.model, max_output_tokens=worst, prices=self.tracker.prices
        )
        self.tracker.check(self.tenant, estimate)

    def _record(self, usage: Usage) -> None:
        self.tracker.record(tenant=self.tenant, feature=self.feature, model=self.model, usage=usage)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """Check the budget, call, record the usage."""
        self._check(messages, settings)
        completion = await self.llm.complete(messages, settings=settings, tools=tools)
        self._record(completion.usage)
        return completion

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """Check the budget, relay the stream, record the usage its `StreamEnd` reports."""
        self._check(messages, settings)
        events = self.llm.stream(messages, settings=settings, tools=tools)
        async for event in resume(events):
            if isinstance(event, StreamEnd):
                self._record(event.usage)
            yield event
