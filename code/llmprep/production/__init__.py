"""Production: the code behind "Production guide", "Evaluation and safety" and "Production
in code". Every piece wraps the one `LLM` protocol, so they stack like middleware:

    CachedLLM(MeteredLLM(FallbackLLM([Route("main", RetryingLLM(BreakerLLM(provider))), ...])))

Resilience and cost (what each module teaches):

- `clock`: the clock seam; `ManualClock` for tests, `run_virtual` for an event loop on
  virtual time, so thousands of simulated requests and their timeouts run in a second.
- `retry`: capped exponential backoff with full jitter, Retry-After, a deadline, and
  which errors are worth retrying at all.
- `limiter`: token buckets (burst plus sustained rate) and per-tenant RPM/TPM quotas.
- `breaker`: a circuit breaker that fails fast during an outage and probes for recovery.
- `fallback`: ordered routes to other providers or models when one fails.
- `streaming`: Server-Sent Events framing and an incremental decoder, TTFT and decode
  rate, and relaying with back-pressure and cancellation.
- `cache`: exact-match response caching, a semantic cache, and the false-hit rate that
  makes semantic caching risky.
- `cost`: metering by tenant and feature, budgets enforced before the call, and prompt-
  cache pricing from dated provider pages.
- `load`: a load simulation that compares client stacks under faults and an outage.

Evaluation and safety:

- `evals`: golden sets, confidence intervals, paired comparisons, sample sizes, pass@k.
- `judging`: rubric-based LLM judges, agreement with humans, length bias.
- `tracing`: OpenTelemetry spans with the GenAI semantic-convention attributes.
- `pii`: finding and redacting personal data, with validators and measured precision.
- `injection`: a prompt-injection scanner and its measured false-positive rate.

Names are re-exported here. The modules that need numpy, MiniLM or OpenTelemetry (`cache`,
`evals`, `injection`, `tracing`, `load`) load on first use of one of their names, so
`import llmprep.production` stays cheap.

Leaves out: a real HTTP gateway (the wrappers are what one would run), distributed state
(shared rate limits, breakers and caches across processes), and provider-specific SDK code,
which lives in `llmprep.core.providers`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from llmprep.production.breaker import BreakerLLM, BreakerState, CircuitBreaker, CircuitOpenError
from llmprep.production.clock import (
    LOOP_CLOCK,
    Clock,
    DeadlockError,
    LoopClock,
    ManualClock,
    VirtualEventLoop,
    run_virtual,
)
from llmprep.production.cost import (
    CACHE_PRICES,
    BudgetAlert,
    BudgetExceededError,
    CachePricing,
    CostRecord,
    CostTracker,
    MeteredLLM,
    cache_break_even,
    estimate_request_cost,
    prompt_cache_cost,
)
from llmprep.production.fallback import AllProvidersFailed, FallbackLLM, Route, falls_back
from llmprep.production.limiter import RateLimitedLLM, TenantLimiter, TokenBucket
from llmprep.production.retry import (
    RetryError,
    RetryEvent,
    RetryingLLM,
    RetryPolicy,
    backoff_cap,
    backoff_delay,
    is_retryable,
    retry,
)
from llmprep.production.streaming import (
    SSEDecoder,
    SSEEvent,
    StreamStats,
    decode_sse,
    encode_sse,
    from_sse,
    measure,
    relay,
    to_sse,
)

# name -> module, for the modules imported on first use (they pull in numpy, MiniLM or OTel)
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        [
            "CachedLLM",
            "CachePair",
            "SemanticCache",
            "ThresholdResult",
            "false_hit_rate",
            "load_cache_pairs",
            "pair_similarities",
            "rates_by_kind",
            "request_key",
            "threshold_results",
        ],
        "cache",
    ),
    **dict.fromkeys(
        [
            "CaseResult",
            "EvalCase",
            "EvalReport",
            "Interval",
            "TagResult",
            "bootstrap_ci",
            "contains_expected",
            "exact_match",
            "load_golden_set",
            "mcnemar_p",
            "paired_bootstrap_diff",
            "pass_at_k",
            "run_eval",
            "sample_size_two_proportions",
            "wilson_interval",
        ],
        "evals",
    ),
    **dict.fromkeys(
        [
            "Agreement",
            "Criterion",
            "LengthBias",
            "Rubric",
            "RubricScore",
            "agreement_with_humans",
            "compare_all",
            "judge_pointwise",
            "length_bias",
        ],
        "judging",
    ),
    **dict.fromkeys(
        [
            "PIICase",
            "PIIKind",
            "PIISpan",
            "PRF",
            "evaluate_pii",
            "find_pii",
            "iban_ok",
            "load_pii_cases",
            "luhn_ok",
            "redact",
            "ssn_ok",
        ],
        "pii",
    ),
    **dict.fromkeys(
        [
            "ALL_RULES",
            "ATTACK_EXEMPLARS",
            "MULTILINGUAL_RULES",
            "InjectionCase",
            "InjectionScanner",
            "Rates",
            "ScannerReport",
            "Verdict",
            "decoded_blobs",
            "evaluate_scanner",
            "load_injection_cases",
            "normalise",
        ],
        "injection",
    ),
    **dict.fromkeys(
        ["TracedLLM", "describe_span", "error_type", "tracer_provider_in_memory"], "tracing"
    ),
    **dict.fromkeys(["LoadReport", "ProviderSpec", "Scenario", "run_all", "run_load"], "load"),
}


def __getattr__(name: str) -> Any:
    """Import a lazily exported name's module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmprep.production' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"llmprep.production.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # the real types for mypy and editors; at run time __getattr__ serves them
    from llmprep.production.cache import (
        CachedLLM,
        CachePair,
        SemanticCache,
        ThresholdResult,
        false_hit_rate,
        load_cache_pairs,
        pair_similarities,
        rates_by_kind,
        request_key,
        threshold_results,
    )
    from llmprep.production.evals import (
        CaseResult,
        EvalCase,
        EvalReport,
        Interval,
        TagResult,
        bootstrap_ci,
        contains_expected,
        exact_match,
        load_golden_set,
        mcnemar_p,
        paired_bootstrap_diff,
        pass_at_k,
        run_eval,
        sample_size_two_proportions,
        wilson_interval,
    )
    from llmprep.production.injection import (
        ALL_RULES,
        ATTACK_EXEMPLARS,
        MULTILINGUAL_RULES,
        InjectionCase,
        InjectionScanner,
        Rates,
        ScannerReport,
        Verdict,
        decoded_blobs,
        evaluate_scanner,
        load_injection_cases,
        normalise,
    )
    from llmprep.production.judging import (
        Agreement,
        Criterion,
        LengthBias,
        Rubric,
        RubricScore,
        agreement_with_humans,
        compare_all,
        judge_pointwise,
        length_bias,
    )
    from llmprep.production.load import LoadReport, ProviderSpec, Scenario, run_all, run_load
    from llmprep.production.pii import (
        PRF,
        PIICase,
        PIIKind,
        PIISpan,
        evaluate_pii,
        find_pii,
        iban_ok,
        load_pii_cases,
        luhn_ok,
        redact,
        ssn_ok,
    )
    from llmprep.production.tracing import (
        TracedLLM,
        describe_span,
        error_type,
        tracer_provider_in_memory,
    )

__all__ = [
    "ALL_RULES",
    "ATTACK_EXEMPLARS",
    "CACHE_PRICES",
    "LOOP_CLOCK",
    "MULTILINGUAL_RULES",
    "PRF",
    "Agreement",
    "AllProvidersFailed",
    "BreakerLLM",
    "BreakerState",
    "BudgetAlert",
    "BudgetExceededError",
    "CachePair",
    "CachePricing",
    "CachedLLM",
    "CaseResult",
    "CircuitBreaker",
    "CircuitOpenError",
    "Clock",
    "CostRecord",
    "CostTracker",
    "Criterion",
    "DeadlockError",
    "EvalCase",
    "EvalReport",
    "FallbackLLM",
    "InjectionCase",
    "InjectionScanner",
    "Interval",
    "LengthBias",
    "LoadReport",
    "LoopClock",
    "ManualClock",
    "MeteredLLM",
    "PIICase",
    "PIIKind",
    "PIISpan",
    "ProviderSpec",
    "RateLimitedLLM",
    "Rates",
    "RetryError",
    "RetryEvent",
    "RetryPolicy",
    "RetryingLLM",
    "Route",
    "Rubric",
    "RubricScore",
    "SSEDecoder",
    "SSEEvent",
    "ScannerReport",
    "Scenario",
    "SemanticCache",
    "StreamStats",
    "TagResult",
    "TenantLimiter",
    "ThresholdResult",
    "TokenBucket",
    "TracedLLM",
    "Verdict",
    "VirtualEventLoop",
    "agreement_with_humans",
    "backoff_cap",
    "backoff_delay",
    "bootstrap_ci",
    "cache_break_even",
    "compare_all",
    "contains_expected",
    "decode_sse",
    "decoded_blobs",
    "describe_span",
    "encode_sse",
    "error_type",
    "estimate_request_cost",
    "evaluate_pii",
    "evaluate_scanner",
    "exact_match",
    "falls_back",
    "false_hit_rate",
    "find_pii",
    "from_sse",
    "iban_ok",
    "is_retryable",
    "judge_pointwise",
    "length_bias",
    "load_cache_pairs",
    "load_golden_set",
    "load_injection_cases",
    "load_pii_cases",
    "luhn_ok",
    "mcnemar_p",
    "measure",
    "normalise",
    "pair_similarities",
    "paired_bootstrap_diff",
    "pass_at_k",
    "prompt_cache_cost",
    "rates_by_kind",
    "redact",
    "relay",
    "request_key",
    "retry",
    "run_all",
    "run_eval",
    "run_load",
    "run_virtual",
    "sample_size_two_proportions",
    "ssn_ok",
    "threshold_results",
    "to_sse",
    "tracer_provider_in_memory",
    "wilson_interval",
]
