"""Tracing LLM calls with OpenTelemetry, named by the GenAI semantic conventions.

A trace answers "what happened on this request?": which model, how many tokens, why it
stopped, how long until the first token, which error. `TracedLLM` wraps any `LLM` and opens
one span per call, with the attribute names every OpenTelemetry backend understands:

    span "chat gpt-5-mini" (kind CLIENT)
      gen_ai.operation.name = "chat"          gen_ai.provider.name = "openai"
      gen_ai.request.model, .max_tokens, .temperature, .top_p, .stop_sequences
      gen_ai.request.stream = true            gen_ai.response.time_to_first_chunk = 0.42 (s)
      gen_ai.response.model, .finish_reasons = ["stop"]
      gen_ai.usage.input_tokens, gen_ai.usage.output_tokens
      error.type = "429" | "timeout" | ...    (and span status ERROR) when the call fails

Prompts and answers are *not* recorded by default: they hold user data, and a trace store
is rarely governed like a database. `capture_content=True` adds the opt-in attributes
`gen_ai.input.messages` and `gen_ai.output.messages` (JSON), and every text goes through
`redact` first (by default `llmprep.production.pii.redact`, which tags emails, phones,
cards and so on). Redaction by regex misses names and addresses: capture less, not more.

The names follow the OpenTelemetry GenAI semantic conventions, status "Development" (they
can still change; checked 2026-12-02), which moved in 2026 from the main semantic-conventions
repository to https://github.com/open-telemetry/semantic-conventions-genai
(docs/gen-ai/gen-ai-spans.md). Since the move, `gen_ai.provider.name` replaces the older
`gen_ai.system`, the span name is "{gen_ai.operation.name} {gen_ai.request.model}", and
`gen_ai.request.stream` with `gen_ai.response.time_to_first_chunk` (seconds) describe
streaming. The names are string constants here rather than imports from
`opentelemetry-semantic-conventions`, whose Python package marks the gen_ai names as moved.

Leaves out: metrics (the `gen_ai.client.operation.duration` and token-usage histograms),
log events, tool-execution and agent spans, context propagation to the provider over HTTP,
exporters other than the in-memory one, and sampling.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from llmprep.core.llm import LLM, StreamEnd, StreamEvent, TextDelta, ToolCallEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    FinishReason,
    GenerationSettings,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
)
from llmprep.production.clock import LOOP_CLOCK, Clock
from llmprep.production.pii import redact as redact_pii
from llmprep.production.streaming import aclose

# Attribute names (GenAI semantic conventions, Development status, checked 2026-12-02).
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
REQUEST_STREAM = "gen_ai.request.stream"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"  # opt-in: content
OUTPUT_MESSAGES = "gen_ai.output.messages"  # opt-in: content
ERROR_TYPE = "error.type"

CONTENT_ATTRIBUTES = (INPUT_MESSAGES, OUTPUT_MESSAGES)


def tracer_provider_in_memory() -> tuple[TracerProvider, InMemorySpanExporter]:
    """A tracer provider that keeps finished spans in a list: for tests and the book.

    In production the processor would be a `BatchSpanProcessor` with an OTLP exporter; the
    simple processor exports each span as it ends, so a test can read it at once.

    Example:
        provider, exporter = tracer_provider_in_memory()
        llm = TracedLLM(ScriptedLLM(["hi"]), provider.get_tracer("app"), model="m", provider="p")
        ... exporter.get_finished_spans()[0].name == "chat m"
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def error_type(error: BaseException) -> str:
    """A low-cardinality `error.type`: the HTTP status if known, "timeout", or the class name.

    Why low cardinality: dashboards group by this value. The message ("429 rate limited
    for org-1234 ...") would make every error its own group.

    Example: error_type(RateLimitError()) == "429"; error_type(LLMTimeoutError()) == "timeout"
    """
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return str(status)
    if isinstance(error, TimeoutError):
        return "timeout"
    return type(error).__qualname__


def _request_attributes(
    model: str, provider: str, settings: GenerationSettings, *, streaming: bool
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        OPERATION_NAME: "chat",
        PROVIDER_NAME: provider,
        REQUEST_MODEL: model,
    }
    optional = {
        REQUEST_MAX_TOKENS: settings.max_tokens,
        REQUEST_TEMPERATURE: settings.temperature,
        REQUEST_TOP_P: settings.top_p,
        REQUEST_STOP_SEQUENCES: list(settings.stop) or None,
        REQUEST_STREAM: True if streaming else None,  # set only when streaming (per the spec)
    }
    attributes.update({k: v for k, v in optional.items() if v is not None})
    return attributes


def _parts(text: str, calls: Sequence[ToolCall], redact: Callable[[str], str]) -> list[Any]:
    parts: list[Any] = [{"type": "text", "content": redact(text)}] if text else []
    for call in calls:  # arguments can hold user data too: they are redacted as JSON text
        arguments = redact(json.dumps(call.arguments))
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": arguments}
        )
    return parts


def input_messages_json(messages: Sequence[Message], redact: Callable[[str], str]) -> str:
    """`gen_ai.input.messages`: role + parts per message, each text redacted, as JSON."""
    out = []
    for m in messages:
        if m.role == "tool":
            part = {"type": "tool_call_response", "id": m.tool_call_id, "result": redact(m.content)}
            out.append({"role": "tool", "parts": [part]})
        else:
            out.append({"role": m.role, "parts": _parts(m.content, m.tool_calls, redact)})
    return json.dumps(out, ensure_ascii=False)


def output_messages_json(completion: Completion, redact: Callable[[str], str]) -> str:
    """`gen_ai.output.messages`: the one assistant message, redacted, with its finish reason."""
    parts = _parts(completion.text, completion.tool_calls, redact)
    message = {"role": "assistant", "parts": parts, "finish_reason": completion.finish_reason}
    return json.dumps([message], ensure_ascii=False)


class TracedLLM:
    """An `LLM` that records one OpenTelemetry span per call (see the module docstring).

    `model` and `provider` are what you asked for (they name the span before any answer
    exists); the answer's own model name goes to `gen_ai.response.model`. `clock` times the
    first chunk of a stream: the event loop's clock, so virtual time works in tests.

    Example:
        traced = TracedLLM(llm, tracer, model="gpt-5-mini", provider="openai")
        await traced.complete([Message.user("Hi")])   # one span "chat gpt-5-mini"
    """

    def __init__(
        self,
        llm: LLM,
        tracer: Tracer,
        *,
        model: str,
        provider: str,
        capture_content: bool = False,
        redact: Callable[[str], str] = redact_pii,
        clock: Clock = LOOP_CLOCK,
    ) -> None:
        if not model or not provider:
            raise ValueError(f"model and provider must be non-empty, got {model!r}, {provider!r}")
        self.llm = llm
        self.tracer = tracer
        self.model = model
        self.provider = provider
        self.capture_content = capture_content
        self.redact = redact
        self.clock = clock

    @property
    def span_name(self) -> str:
        return f"chat {self.model}"

    def _start(
        self, messages: Sequence[Message], settings: GenerationSettings, *, streaming: bool
    ) -> Span:
        attributes = _request_attributes(self.model, self.provider, settings, streaming=streaming)
        if self.capture_content:
            attributes[INPUT_MESSAGES] = input_messages_json(messages, self.redact)
        return self.tracer.start_span(self.span_name, kind=SpanKind.CLIENT, attributes=attributes)

    def _finish(self, span: Span, completion: Completion) -> None:
        span.set_attribute(RESPONSE_FINISH_REASONS, [completion.finish_reason])
        span.set_attribute(USAGE_INPUT_TOKENS, completion.usage.input_tokens)
        span.set_attribute(USAGE_OUTPUT_TOKENS, completion.usage.output_tokens)
        if completion.model:
            span.set_attribute(RESPONSE_MODEL, completion.model)
        if self.capture_content:
            span.set_attribute(OUTPUT_MESSAGES, output_messages_json(completion, self.redact))

    @staticmethod
    def _fail(span: Span, error: BaseException) -> None:
        span.set_attribute(ERROR_TYPE, error_type(error))
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """Call the wrapped model inside a span; a failure is recorded and re-raised."""
        span = self._start(messages, settings, streaming=False)
        try:
            completion = await self.llm.complete(messages, settings=settings, tools=tools)
        except Exception as exc:
            self._fail(span, exc)
            raise
        else:
            self._finish(span, completion)
            return completion
        finally:
            span.end()

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """Relay the wrapped stream, timing the first chunk and recording the end.

        subtle: the span is started and ended by hand, not with `start_as_current_span`: a
        context manager held across `yield` would attach the span to whatever code the
        consumer runs between chunks. If the consumer stops early, the span still ends
        (with no finish reason: the answer was never finished).
        """
        span = self._start(messages, settings, streaming=True)
        started = self.clock.now()
        first = True
        text: list[str] = []
        calls: list[ToolCall] = []
        events = self.llm.stream(messages, settings=settings, tools=tools)
        try:
            async for event in events:
                if first:
                    span.set_attribute(RESPONSE_TIME_TO_FIRST_CHUNK, self.clock.now() - started)
                    first = False
                match event:
                    case TextDelta(text=piece):
                        text.append(piece)
                    case ToolCallEvent(call=call):
                        calls.append(call)
                    case StreamEnd():
                        self._finish(span, _assembled(text, calls, event))
                yield event
        except Exception as exc:
            self._fail(span, exc)
            raise
        finally:
            # Close the wrapped stream too, so the provider connection is released now.
            await aclose(events)
            span.end()


def _assembled(text: list[str], calls: list[ToolCall], end: StreamEnd) -> Completion:
    finish: FinishReason = end.finish_reason
    usage: Usage = end.usage
    return Completion("".join(text), tuple(calls), finish, usage, end.model)


def describe_span(span: ReadableSpan) -> dict[str, Any]:
    """A finished span as a plain dict (name, kind, status, attributes, events), for tables.

    Example: describe_span(exporter.get_finished_spans()[0])["attributes"][USAGE_INPUT_TOKENS]
    """
    return {
        "name": span.name,
        "kind": span.kind.name,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [event.name for event in span.events],
    }
