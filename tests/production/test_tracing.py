"""TracedLLM: real OpenTelemetry spans with GenAI attribute names, errors, streams, content."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from llmprep.core.errors import LLMTimeoutError, RateLimitError, ServerError
from llmprep.core.llm import LLM, StreamEvent, collect
from llmprep.core.messages import GenerationSettings, Message, ToolCall
from llmprep.core.scripted import Fault, Reply, ScriptedLLM
from llmprep.production.clock import run_virtual
from llmprep.production.tracing import (
    CONTENT_ATTRIBUTES,
    TracedLLM,
    describe_span,
    error_type,
    tracer_provider_in_memory,
)

PROMPT = [Message.system("Be brief."), Message.user("My email is ana@example.com. Help?")]


def traced(
    llm: ScriptedLLM, *, capture_content: bool = False
) -> tuple[TracedLLM, InMemorySpanExporter]:
    provider, exporter = tracer_provider_in_memory()
    tracer = provider.get_tracer("tests")
    traced_llm = TracedLLM(
        llm, tracer, model="gpt-test", provider="openai", capture_content=capture_content
    )
    return traced_llm, exporter


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


def all_attribute_text(span: ReadableSpan) -> str:
    return json.dumps({k: str(v) for k, v in (span.attributes or {}).items()})


def test_a_call_becomes_one_client_span_with_genai_attributes() -> None:
    llm, exporter = traced(ScriptedLLM(["Sure, happy to help."]))
    settings = GenerationSettings(temperature=0.2, max_tokens=50, top_p=0.9, stop=("END",))
    completion = asyncio.run(llm.complete(PROMPT, settings=settings))
    span = only_span(exporter)
    assert span.name == "chat gpt-test"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes or {})
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-test",
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.response.model": "scripted",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": completion.usage.input_tokens,
        "gen_ai.usage.output_tokens": completion.usage.output_tokens,
    }
    assert completion.usage.input_tokens > 0


def test_unset_settings_are_left_out_and_truncation_is_reported() -> None:
    llm, exporter = traced(ScriptedLLM(["one two three four five six seven eight"]))
    asyncio.run(llm.complete(PROMPT, settings=GenerationSettings(max_tokens=2)))
    attributes = dict(only_span(exporter).attributes or {})
    assert attributes["gen_ai.response.finish_reasons"] == ("length",)
    assert attributes["gen_ai.usage.output_tokens"] == 2
    assert "gen_ai.request.temperature" not in attributes
    assert "gen_ai.request.stream" not in attributes  # set only on streaming requests


@pytest.mark.parametrize(
    ("fault", "error", "expected_type"),
    [
        (Fault.rate_limit(1, retry_after=2.0), RateLimitError, "429"),
        (Fault.server_error(1, status=503), ServerError, "503"),
        (Fault.timeout(1), LLMTimeoutError, "timeout"),
    ],
)
def test_a_failed_call_is_an_error_span(
    fault: Fault, error: type[Exception], expected_type: str
) -> None:
    llm, exporter = traced(ScriptedLLM(["never sent"], faults=[fault]))
    with pytest.raises(error):
        asyncio.run(llm.complete(PROMPT))
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is not None
    assert error.__name__ in span.status.description
    attributes = dict(span.attributes or {})
    assert attributes["error.type"] == expected_type
    assert "gen_ai.usage.input_tokens" not in attributes  # no answer, no usage
    assert [event.name for event in span.events] == ["exception"]


def test_a_stream_records_time_to_first_chunk_in_virtual_time() -> None:
    scripted = ScriptedLLM(["A streamed answer, in pieces."], latency=0.25, chunk_delay=0.05)
    llm, exporter = traced(scripted)

    async def main() -> None:
        await asyncio.sleep(10)  # the stream starts at t = 10: TTFT is a duration, not a time
        await collect(llm.stream(PROMPT))

    run_virtual(main())
    attributes = dict(only_span(exporter).attributes or {})
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["gen_ai.response.time_to_first_chunk"] == pytest.approx(0.25)
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert isinstance(attributes["gen_ai.usage.output_tokens"], int)
    assert attributes["gen_ai.usage.output_tokens"] > 0


def test_streamed_and_complete_calls_report_the_same_usage() -> None:
    llm, exporter = traced(ScriptedLLM(["Same answer."] * 2))
    whole = asyncio.run(llm.complete(PROMPT))
    streamed = asyncio.run(collect(llm.stream(PROMPT)))
    assert streamed == whole
    first, second = (dict(s.attributes or {}) for s in exporter.get_finished_spans())
    for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"):
        assert first[key] == second[key]


def test_a_stream_abandoned_early_still_ends_its_span() -> None:
    llm, exporter = traced(ScriptedLLM(["a long answer that nobody reads to the end"]))

    async def main() -> None:
        stream = llm.stream(PROMPT)
        await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
    attributes = dict(only_span(exporter).attributes or {})
    assert "gen_ai.response.time_to_first_chunk" in attributes
    assert "gen_ai.response.finish_reasons" not in attributes


class Watched(ScriptedLLM):
    """A scripted model that records whether its stream was closed."""

    closed = False

    async def stream(
        self, messages: Sequence[Message], **kwargs: Any
    ) -> AsyncIterator[StreamEvent]:
        try:
            async for event in super().stream(messages, **kwargs):
                yield event
        finally:
            self.closed = True


def test_abandoning_the_traced_stream_closes_the_wrapped_one() -> None:
    inner = Watched(["a long answer that nobody reads to the end"])
    llm, exporter = traced(inner)

    async def main() -> None:
        stream = llm.stream(PROMPT)
        await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        assert inner.closed  # at once, not whenever the garbage collector gets to it

    asyncio.run(main())
    assert len(exporter.get_finished_spans()) == 1


def test_a_stream_that_fails_is_an_error_span() -> None:
    llm, exporter = traced(ScriptedLLM(["x"], faults=[Fault.rate_limit(1)]))
    with pytest.raises(RateLimitError):
        asyncio.run(collect(llm.stream(PROMPT)))
    span = only_span(exporter)
    assert dict(span.attributes or {})["error.type"] == "429"
    assert span.status.status_code is StatusCode.ERROR


def test_content_is_absent_unless_captured() -> None:
    llm, exporter = traced(ScriptedLLM(["Write to ana@example.com."]))
    asyncio.run(llm.complete(PROMPT))
    span = only_span(exporter)
    assert not set(CONTENT_ATTRIBUTES) & set(span.attributes or {})
    assert "ana@example.com" not in all_attribute_text(span)
    assert "Be brief" not in all_attribute_text(span)


def test_captured_content_is_structured_and_redacted() -> None:
    llm, exporter = traced(ScriptedLLM(["I will write to ana@example.com."]), capture_content=True)
    asyncio.run(llm.complete(PROMPT))
    span = only_span(exporter)
    attributes = dict(span.attributes or {})
    inputs = json.loads(str(attributes["gen_ai.input.messages"]))
    outputs = json.loads(str(attributes["gen_ai.output.messages"]))
    assert inputs == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "My email is [EMAIL]. Help?"}]},
    ]
    assert outputs == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "I will write to [EMAIL]."}],
            "finish_reason": "stop",
        }
    ]
    assert "ana@example.com" not in all_attribute_text(span)


def test_captured_tool_calls_and_results_are_redacted_too() -> None:
    call = ToolCall("c1", "send_mail", {"to": "bo@example.org"})
    conversation = [
        Message.user("Mail Bo"),
        Message.assistant("", [call]),
        Message.tool("c1", "sent to bo@example.org"),
    ]
    reply = Reply("Done.", tool_calls=(ToolCall("c2", "log", {"ip": "203.0.113.9"}),))
    llm, exporter = traced(ScriptedLLM([reply]), capture_content=True)
    asyncio.run(llm.complete(conversation))
    text = all_attribute_text(only_span(exporter))
    assert "bo@example.org" not in text
    assert "203.0.113.9" not in text
    inputs = json.loads(str(dict(only_span(exporter).attributes or {})["gen_ai.input.messages"]))
    assert inputs[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c1", "result": "sent to [EMAIL]"}],
    }


def test_a_custom_redactor_is_used() -> None:
    provider, exporter = tracer_provider_in_memory()
    llm = TracedLLM(
        ScriptedLLM(["ok"]),
        provider.get_tracer("t"),
        model="m",
        provider="p",
        capture_content=True,
        redact=lambda text: "*" * len(text),
    )
    asyncio.run(llm.complete([Message.user("secret")]))
    inputs = json.loads(str(dict(only_span(exporter).attributes or {})["gen_ai.input.messages"]))
    assert inputs[0]["parts"][0]["content"] == "******"


def test_traced_llm_is_an_llm_and_describes_its_spans() -> None:
    llm, exporter = traced(ScriptedLLM(["hi"]))
    assert isinstance(llm, LLM)
    asyncio.run(llm.complete(PROMPT))
    described = describe_span(only_span(exporter))
    assert described["name"] == "chat gpt-test"
    assert described["kind"] == "CLIENT"
    assert described["status"] == "UNSET"
    assert described["attributes"]["gen_ai.provider.name"] == "openai"


def test_error_type_is_low_cardinality() -> None:
    assert error_type(RateLimitError("429 for org-123, try later")) == "429"
    assert error_type(LLMTimeoutError("slow")) == "timeout"
    assert error_type(KeyError("x")) == "KeyError"


def test_model_and_provider_are_required() -> None:
    provider, _ = tracer_provider_in_memory()
    with pytest.raises(ValueError, match="non-empty"):
        TracedLLM(ScriptedLLM(["x"]), provider.get_tracer("t"), model="", provider="openai")
