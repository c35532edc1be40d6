"""The price table and cost arithmetic: exact, dated, sourced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.pricing import PRICES, ModelPrice, UnknownModelError, estimate_cost, price_of

tokens = st.integers(min_value=0, max_value=10**9)


def test_a_million_tokens_each_way_costs_the_list_prices() -> None:
    for model, price in PRICES.items():
        assert estimate_cost(model, 1_000_000, 0) == price.input_per_mtok
        assert estimate_cost(model, 0, 1_000_000) == price.output_per_mtok


def test_cost_arithmetic_is_exact() -> None:
    # gpt-5-mini: $0.25 in, $2.00 out per million tokens.
    assert estimate_cost("gpt-5-mini", 1_000_000, 1_000_000) == Decimal("2.25")
    assert estimate_cost("gpt-5-mini", 1_234, 567) == Decimal("0.0014425")
    # 1,234 * 0.25 / 1e6 = 0.0003085 and 567 * 2 / 1e6 = 0.001134
    one_call = estimate_cost("claude-haiku-4-5", 3, 1)  # 3 * 1e-6 + 1 * 5e-6 = 8e-6
    assert one_call == Decimal("0.000008")
    assert sum([one_call] * 1_000_000, Decimal(0)) == Decimal("8")  # no float drift


@given(tokens, tokens, tokens, tokens)
def test_cost_is_additive(in1: int, out1: int, in2: int, out2: int) -> None:
    model = "gpt-5.6-terra"
    assert estimate_cost(model, in1 + in2, out1 + out2) == estimate_cost(
        model, in1, out1
    ) + estimate_cost(model, in2, out2)


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        estimate_cost("gpt-9-ultra", 10, 10)
    error = info.value
    assert isinstance(error, UnknownModelError)
    assert error.model == "gpt-9-ultra"
    assert "no price on file for model 'gpt-9-ultra'" in str(error)
    for model in PRICES:
        assert model in str(error)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_token_counts_must_be_non_negative_ints(bad: object) -> None:
    with pytest.raises(ValueError, match="non-negative int"):
        estimate_cost("gpt-5-mini", bad, 0)  # type: ignore[arg-type]


def test_every_entry_is_dated_sourced_and_sane() -> None:
    providers = {p.provider for p in PRICES.values()}
    assert providers == {"openai", "anthropic", "google"}
    assert 5 <= len(PRICES) <= 8
    for model, price in PRICES.items():
        assert price.model == model
        assert price.source.startswith("https://")
        assert isinstance(price.as_of, date)
        assert date(2026, 1, 1) <= price.as_of <= date.today()
        assert Decimal(0) < price.input_per_mtok < price.output_per_mtok


@pytest.mark.parametrize("bad", [0.25, Decimal("-1"), Decimal("NaN"), "0.25"])
def test_prices_must_be_non_negative_decimals(bad: object) -> None:
    # A float price would bring back the drift Decimal is here to avoid.
    with pytest.raises(ValueError, match="input_per_mtok must be a non-negative Decimal"):
        ModelPrice("m", "openai", bad, Decimal("1"), "https://example.com", date(2026, 1, 1))  # type: ignore[arg-type]


def test_custom_price_tables_work_too() -> None:
    mine = ModelPrice(
        "my-model", "openai", Decimal("1"), Decimal("3"), "https://example.com", date(2026, 1, 1)
    )
    table = {"my-model": mine}
    assert price_of("my-model", table) is mine
    assert estimate_cost("my-model", 500_000, 500_000, prices=table) == Decimal("2")
