"""The eight worked system designs of the "System design" chapter, as data.

Each `Design` states the assumptions a candidate would say out loud after clarifying the
requirements (how many users, how many requests each, how bursty, how many tokens per call,
which models to price, what to self-host, which steps sit on the latency path and what the
SLO is) and turns them into an `Estimate` with `llmprep.interview.capacity`. The numbers are
assumptions for an interview scenario, not measurements of any real product; change one and
re-run `DESIGNS[key].estimate()` to see what moves.

Keys are stable (the interview deck uses "support" and "enterprise-rag"):
support, enterprise-rag, coding-assistant, extraction, booking-agent, semantic-search,
moderation, gateway.

`FRAMEWORK` is the 45-minute time budget the chapter and the interview deck print, so the two
cannot disagree about the minutes.

Leaves out: anything that is not a number (the architecture, trade-offs and failure modes
are in the chapter), and every latency of a step other than the model's own, which are
stated assumptions (`Stage(..., source="assumed")`), not measurements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from llmprep.foundations.hardware import H100_SXM
from llmprep.foundations.model_shapes import LLAMA_3_1_70B, QWEN3_8B
from llmprep.interview.capacity import (
    Estimate,
    LogPolicy,
    SelfHosting,
    SLOMetric,
    Stage,
    TokenProfile,
    Traffic,
    VectorIndex,
    estimate,
)


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a 45-minute system-design interview and what it is judged on."""

    name: str
    minutes: int
    actions: str  # what you do in this phase
    listens_for: str  # what the interviewer is listening for


# A time budget, not a script: move minutes between phases to fit the prompt, drop none.
FRAMEWORK: tuple[Phase, ...] = (
    Phase(
        "Clarify requirements",
        5,
        "users and traffic, the task and its quality bar, latency SLO, data and who may see "
        "it, budget, build or buy",
        "you scope before you build",
    ),
    Phase(
        "Estimate",
        5,
        "requests/day, QPS average and peak, tokens/s, cost/day per model, GPUs if "
        "self-hosted, storage, latency budget",
        "numbers that decide the architecture",
    ),
    Phase(
        "Architecture",
        10,
        "the online request path and the offline path (ingestion, indexing, training) in one "
        "diagram",
        "a system that works end to end",
    ),
    Phase(
        "Deep dives",
        10,
        "the two or three parts that make or break this product (retrieval, escalation, "
        "tool safety, autoscaling)",
        "depth where it matters",
    ),
    Phase(
        "Evaluation",
        5,
        "a golden set offline, metrics online, the guardrail metric that must not move",
        "how you would know it works",
    ),
    Phase(
        "Safety",
        4,
        "prompt injection, data leaks, PII, harmful output, abuse",
        "threats named with a control each",
    ),
    Phase(
        "Cost",
        3,
        "the biggest line of the bill and the lever that cuts it",
        "cost as a design input",
    ),
    Phase(
        "Iteration",
        3,
        "what ships first, what you measure, what comes next",
        "a plan, not a wish list",
    ),
)


def framework_minutes(phases: tuple[Phase, ...] = FRAMEWORK) -> int:
    """Total minutes of a time budget (the interview is 45)."""
    return sum(phase.minutes for phase in phases)


@dataclass(frozen=True, slots=True)
class Design:
    """One interview scenario's stated assumptions."""

    key: str
    title: str
    section: str  # the chapter section that works it (a Quarto id)
    users: str  # who the daily active users are here (plural)
    request: str  # what one request is (singular)
    requests: str  # the same, plural
    traffic: Traffic
    tokens: TokenProfile
    models: tuple[str, ...]  # API models to price (llmprep.core.pricing)
    hosting: SelfHosting  # the self-hosted alternative; the latency budget uses it
    stages: tuple[Stage, ...]  # non-LLM steps on the critical path (assumed)
    slo_s: float
    slo_metric: SLOMetric = "ttft"
    index: VectorIndex | None = None
    logs: LogPolicy = field(default_factory=LogPolicy)

    def estimate(self) -> Estimate:
        return estimate(
            self.title,
            self.traffic,
            self.tokens,
            models=self.models,
            hosting=self.hosting,
            index=self.index,
            logs=self.logs,
            stages=self.stages,
            slo_s=self.slo_s,
            slo_metric=self.slo_metric,
        )

    def assumptions(self) -> str:
        """The assumptions as one Markdown sentence, for the chapter to print."""
        t, k = self.traffic, self.tokens
        calls = f" in each of {k.llm_calls} LLM calls" if k.llm_calls > 1 else ""
        what = self.request if t.requests_per_user_per_day == 1 else self.requests
        flat = t.peak_to_average == 1
        peak = "flat through the day" if flat else f"peak {t.peak_to_average:g}x the average"
        cached = (
            f" ({k.cached_input_share:.0%} of the input cacheable)" if k.cached_input_share else ""
        )
        return (
            f"Assumed: {t.daily_active_users:,.0f} {self.users} a day, "
            f"{t.requests_per_user_per_day:g} {what} each, {peak}; {k.input_tokens:,} input and "
            f"{k.output_tokens:,} output tokens{calls}{cached}; self-hosted option "
            f"{self.hosting.label} at batch {self.hosting.batch}."
        )


BIG_API_MODELS = ("claude-sonnet-5-5", "gpt-5.6-terra", "claude-opus-4-5")
SMALL_API_MODELS = ("gpt-5-mini", "claude-haiku-4-5", "gemini-3.5-flash")
NETWORK = Stage("network round trip", 0.1)

_DESIGNS = (
    Design(
        key="support",
        title="Customer-support assistant",
        section="sec-sd-support",
        users="customers contacting support",
        request="assistant turn",
        requests="assistant turns",
        traffic=Traffic(100_000, 4, peak_to_average=3.0),
        # system prompt + policies (cacheable), help-center chunks, conversation history
        tokens=TokenProfile(3_000, 300, cached_input_share=0.5),
        models=SMALL_API_MODELS + BIG_API_MODELS,
        hosting=SelfHosting(QWEN3_8B, H100_SXM, batch=32),
        stages=(
            NETWORK,
            Stage("input guardrail (PII, injection)", 0.05),
            Stage("embed query, hybrid search, rerank", 0.15),
        ),
        slo_s=1.5,
        index=VectorIndex(200_000, 768, "float32"),
        logs=LogPolicy(retention_days=90),
    ),
    Design(
        key="enterprise-rag",
        title="RAG over enterprise documents",
        section="sec-sd-enterprise-rag",
        users="employees",
        request="question",
        requests="questions",
        traffic=Traffic(20_000, 8, peak_to_average=4.0),
        tokens=TokenProfile(6_000, 500, cached_input_share=0.1),
        models=("gpt-5-mini", "claude-haiku-4-5", *BIG_API_MODELS),
        hosting=SelfHosting(LLAMA_3_1_70B, H100_SXM, batch=32, weight_bits=8),
        stages=(
            NETWORK,
            Stage("resolve user groups (ACL)", 0.02),
            Stage("hybrid search with ACL filter", 0.08),
            Stage("rerank top 50", 0.15),
        ),
        slo_s=2.0,
        index=VectorIndex(20_000_000, 768, "float16", replicas=2),
        logs=LogPolicy(retention_days=365),
    ),
    Design(
        key="coding-assistant",
        title="Coding assistant (inline completion)",
        section="sec-sd-coding-assistant",
        users="developers",
        request="completion",
        requests="completions",
        traffic=Traffic(5_000, 400, peak_to_average=3.0),
        tokens=TokenProfile(2_000, 60, cached_input_share=0.7),
        models=("gpt-5-mini", "claude-haiku-4-5", "gemini-3.5-flash"),
        hosting=SelfHosting(QWEN3_8B, H100_SXM, batch=8, weight_bits=8),
        stages=(Stage("network round trip", 0.05), Stage("collect editor context", 0.03)),
        slo_s=0.5,
        slo_metric="total",
        logs=LogPolicy(retention_days=30, sample_rate=0.0),  # no customer code kept
    ),
    Design(
        key="extraction",
        title="Document-extraction pipeline",
        section="sec-sd-extraction",
        users="incoming documents",
        request="extraction call",
        requests="extraction calls",
        traffic=Traffic(500_000, 1, peak_to_average=1.0),  # a queue flattens the day
        tokens=TokenProfile(4_000, 500, cached_input_share=0.25),
        models=("gpt-5-mini", "claude-haiku-4-5", "gemini-3.5-flash", "gpt-5.6-terra"),
        hosting=SelfHosting(QWEN3_8B, H100_SXM, batch=64, target_utilization=0.8),
        stages=(Stage("fetch and OCR (3 pages)", 3.0), Stage("validate and write", 0.2)),
        slo_s=60.0,
        slo_metric="total",
        logs=LogPolicy(retention_days=90),
    ),
    Design(
        key="booking-agent",
        title="Tool-using booking agent",
        section="sec-sd-booking-agent",
        users="customers",
        request="booking task",
        requests="booking tasks",
        traffic=Traffic(50_000, 1, peak_to_average=3.0),
        tokens=TokenProfile(5_000, 250, cached_input_share=0.6, llm_calls=6),
        models=("gpt-5-mini", *BIG_API_MODELS),
        hosting=SelfHosting(LLAMA_3_1_70B, H100_SXM, batch=16, weight_bits=8),
        stages=(NETWORK, Stage("5 tool calls (search, hold, pay)", 5 * 0.4)),
        slo_s=20.0,
        slo_metric="total",
        logs=LogPolicy(retention_days=365),
    ),
    Design(
        key="semantic-search",
        title="Semantic search over a large catalogue",
        section="sec-sd-semantic-search",
        users="shoppers",
        # 6 searches a day, of which the 20% long-tail queries reach the LLM rewriter
        request="LLM-rewritten search",
        requests="LLM-rewritten searches",
        traffic=Traffic(5_000_000, 6 * 0.2, peak_to_average=3.0),
        tokens=TokenProfile(300, 40, cached_input_share=0.6),
        models=("gpt-5-mini", "claude-haiku-4-5", "gemini-3.5-flash"),
        hosting=SelfHosting(QWEN3_8B, H100_SXM, batch=16, weight_bits=8),
        stages=(
            Stage("network round trip", 0.05),
            Stage("embed query (small encoder)", 0.01),
            Stage("ANN search + filters", 0.02),
            Stage("rerank top 100", 0.05),
        ),
        slo_s=0.6,
        slo_metric="total",
        index=VectorIndex(100_000_000, 768, "int8", replicas=3),
        logs=LogPolicy(retention_days=30, sample_rate=0.1),
    ),
    Design(
        key="moderation",
        title="LLM content moderation",
        section="sec-sd-moderation",
        users="posting users",
        request="post",
        requests="posts",
        traffic=Traffic(10_000_000, 2, peak_to_average=2.5),
        tokens=TokenProfile(600, 20, cached_input_share=0.8),
        models=("gpt-5-mini", "claude-haiku-4-5", "gemini-3.5-flash"),
        hosting=SelfHosting(QWEN3_8B, H100_SXM, batch=64),
        stages=(Stage("enqueue and fetch", 0.05), Stage("hash match (known bad)", 0.01)),
        slo_s=2.0,
        slo_metric="total",
        logs=LogPolicy(retention_days=180),
    ),
    Design(
        key="gateway",
        title="Multi-tenant LLM gateway",
        section="sec-sd-gateway",
        users="end users across all tenants",
        request="request",
        requests="requests",
        traffic=Traffic(200_000, 25, peak_to_average=3.0),
        tokens=TokenProfile(2_000, 400, cached_input_share=0.3),
        models=("gpt-5-mini", "claude-haiku-4-5", *BIG_API_MODELS),
        hosting=SelfHosting(LLAMA_3_1_70B, H100_SXM, batch=64, weight_bits=8),
        stages=(
            Stage("network round trip", 0.05),
            Stage("auth, quota, rate limit", 0.005),
            Stage("route and queue", 0.02),
        ),
        slo_s=1.0,
        logs=LogPolicy(retention_days=30, sample_rate=0.05),
    ),
)

DESIGNS: Mapping[str, Design] = MappingProxyType({d.key: d for d in _DESIGNS})
