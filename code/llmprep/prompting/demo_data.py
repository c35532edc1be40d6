"""The labelled examples and scripted replies the prompting chapters and their deck share.

Everything here is made up for the book and says so: the tickets, questions and invoices were
written by hand, and every "model" is `ScriptedLLM` replaying replies or a rule written below.
Token counts computed from them are real (cl100k_base); accuracies are whatever the script
says. Keeping the data in one module means the chapter and the slide that show the same
number compute it from the same inputs.

- `FEWSHOT_TICKETS`, `FEWSHOT_QUERY`: twelve labelled tickets to pick few-shot examples from;
- `MUFFIN_*`: one word problem, four worked examples and the scripted replies of the
  technique-cost comparison (one of five sampled chains of thought has an arithmetic slip);
- `SUPPORT_TICKETS`, `simulate_ticket_model`, `run_ticket_classifiers`: 32 tickets and a
  simulated classifier with two confidence signals, for the risk-coverage curves;
- `JUDGE_PAIRS`, `biased_judge`: twelve answer pairs and a judge scripted with a position bias;
- `INVOICE_*`: a schema and the two scripted replies of the validate-and-repair loop;
- `DELIMITER_*`, `TOOL_ARGUMENTS`, `ROUTER`, `CACHE_*`: the small inputs of other tables;
- `conversation`, `conversation_cost`: a simulated agent conversation, with and without
  compacting its history;
- `PROSE_LM`, `JSON_LM`, `train_tiny_models`: the settings of the constrained-decoding
  experiment's two tiny character models.

Leaves out: any real model call; these are fixtures for explanation, not measurements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from llmprep.core.messages import Message
from llmprep.core.pricing import price_of
from llmprep.core.scripted import ScriptedLLM
from llmprep.foundations.tiny_lm import TinyLM, train
from llmprep.prompting.classify import (
    CoveragePoint,
    Decision,
    classify,
    classify_by_vote,
    risk_coverage,
)
from llmprep.prompting.constrained_experiment import json_records
from llmprep.prompting.fewshot import Example

type ReplyRule = Callable[[Sequence[Message]], str]

# -----------------------------------------------------------------------------
# choosing few-shot examples (techniques chapter, "Choosing the examples")

FEWSHOT_TICKETS: tuple[Example, ...] = (
    Example("I was charged twice for my March invoice.", "billing"),
    Example("Can I get a refund for the annual plan I bought yesterday?", "billing"),
    Example("My card was declined but the money left my account.", "billing"),
    Example("How do I change the VAT number on my receipts?", "billing"),
    Example("The app crashes when I open the settings page.", "bug"),
    Example("Export to CSV produces an empty file.", "bug"),
    Example("Since the update, notifications arrive twice.", "bug"),
    Example("Search returns results from other workspaces.", "bug"),
    Example("I forgot my password and the reset email never arrives.", "account"),
    Example("How do I add a second admin to our team?", "account"),
    Example("Please delete my account and all my data.", "account"),
    Example("Can I change the email address I log in with?", "account"),
)
"""Twelve hand-written support tickets, four per label, to choose few-shot examples from."""

FEWSHOT_QUERY = "I was billed two times this month, please fix it."
"""The ticket the examples are chosen for: a double charge, worded unlike any example."""

# -----------------------------------------------------------------------------
# what each technique costs (techniques chapter, "What it costs")

MUFFIN_QUESTION = (
    "A bakery sells muffins in boxes of 6. Priya buys 4 boxes and 7 single muffins "
    "for a party. After the party, 13 muffins are left. How many were eaten?"
)
"""A two-step word problem; the answer is 18."""

MUFFIN_EXAMPLES: tuple[Example, ...] = (
    Example(
        "A shelf holds 8 rows of 12 books. 17 are lent out. How many are left?",
        "The answer is 79.",
    ),
    Example(
        "Tom has 3 packs of 10 stickers and gives away 14. How many does he keep?",
        "The answer is 16.",
    ),
    Example(
        "A train has 9 cars of 40 seats. 296 seats are taken. How many are free?",
        "The answer is 64.",
    ),
    Example(
        "Ana buys 5 bags of 7 apples and eats 6. How many apples are left?",
        "The answer is 29.",
    ),
)
"""Four worked examples in the answer format, for the few-shot run."""


def worked(boxes: str, total: int, extra: str = "") -> str:
    """A scripted chain of thought for the muffin question, with `total` muffins at the start
    (31 is right; anything else is a slip) and optional `extra` text before the check."""
    return (
        "Let's work through this step by step.\n\n"
        f"1. Muffins in boxes: {boxes}\n"
        "2. Single muffins bought: 7.\n"
        f"3. Total muffins at the start: 24 + 7 = {total}.\n"
        "4. Muffins left after the party: 13.\n"
        f"5. Muffins eaten = total at the start minus muffins left = {total} - 13 = "
        f"{total - 13}.\n\n{extra}"
        f"Check: {total - 13} eaten plus 13 left gives {total}, which matches the total. "
        f"The answer is {total - 13}."
    )


MUFFIN_SAMPLES: tuple[str, ...] = (
    worked("4 boxes x 6 muffins per box = 24 muffins.", 31),
    worked(
        "each box holds 6, and there are 4 boxes, so 4 x 6 = 24.",
        31,
        "So the party guests ate 18 muffins. ",
    ),
    worked("4 x 6 = 24 muffins.", 33),  # an arithmetic slip: 24 + 7 is not 33
    worked(
        "4 boxes x 6 = 24 muffins in total from the boxes.",
        31,
        "The 7 single muffins are counted once, together with the boxes. ",
    ),
    worked("4 boxes of 6 give 24 muffins.", 31),
)
"""Five scripted self-consistency samples; the third slips (24 + 7 = 33) and answers 20."""

MUFFIN_REPLIES: tuple[str, ...] = (
    "The answer is 18.",
    "The answer is 18.",
    MUFFIN_SAMPLES[0],
    *MUFFIN_SAMPLES,
)
"""The script in the order `compare_techniques` calls: zero-shot, few-shot, chain of thought,
then the five self-consistency samples."""

# -----------------------------------------------------------------------------
# delimiters (techniques chapter, "Delimiters")

DELIMITER_INSTRUCTION = "Summarize the customer's message in one sentence."
DELIMITER_MESSAGE = (
    "Hi, I ordered a blue kettle on 3 May and got a red one. I want a swap, not a refund."
)


def delimiter_wrappers(
    instruction: str = DELIMITER_INSTRUCTION, message: str = DELIMITER_MESSAGE
) -> dict[str, str]:
    """The same instruction and message separated four ways, the first with a blank line only."""
    return {
        "none (blank line)": f"{instruction}\n\n{message}",
        "triple quotes": f'{instruction}\n\n"""\n{message}\n"""',
        "XML-style tags": f"{instruction}\n\n<message>\n{message}\n</message>",
        "Markdown headings": f"## Task\n{instruction}\n\n## Message\n{message}",
    }


# -----------------------------------------------------------------------------
# classification that abstains (patterns chapter, "Confidence and abstention")


class LabeledTicket(NamedTuple):
    """A hand-written ticket, its right queue, and the queue a reader might confuse it with."""

    text: str
    label: str
    confusion: str | None = None  # None: the ticket is clear


TICKET_LABELS: tuple[str, ...] = ("billing", "bug", "account", "other")

SUPPORT_TICKETS: tuple[LabeledTicket, ...] = (
    LabeledTicket("I was charged twice for my March invoice.", "billing"),
    LabeledTicket("Please send me a copy of last month's receipt.", "billing"),
    LabeledTicket("How do I switch from monthly to annual billing?", "billing"),
    LabeledTicket("My card was declined but the payment still shows as pending.", "billing", "bug"),
    LabeledTicket("Can I get a refund for the unused months of my plan?", "billing"),
    LabeledTicket(
        "The app charged me after I canceled, and now the cancel button does nothing.",
        "billing",
        "bug",
    ),
    LabeledTicket("Why did my price go up this month?", "billing"),
    LabeledTicket("The export button crashes the app every time.", "bug"),
    LabeledTicket("Search returns no results even for words I can see on the page.", "bug"),
    LabeledTicket("Since the update, dark mode resets every time I restart.", "bug"),
    LabeledTicket("Notifications arrive twice on my phone.", "bug"),
    LabeledTicket("The invoice PDF shows the wrong VAT number.", "bug", "billing"),
    LabeledTicket(
        "I can't log in: the page just reloads after I enter my password.", "bug", "account"
    ),
    LabeledTicket("Uploading a file larger than 10 MB fails with error 500.", "bug"),
    LabeledTicket("How do I change the email address on my account?", "account"),
    LabeledTicket("Please delete my account and all my data.", "account"),
    LabeledTicket("I want to add a second admin to our team workspace.", "account"),
    LabeledTicket("I never received the password reset email.", "account", "bug"),
    LabeledTicket("How do I turn on two-factor authentication?", "account"),
    LabeledTicket(
        "My colleague left the company; how do I transfer her projects to me?", "account"
    ),
    LabeledTicket(
        "Someone else seems to have logged into my account from another country.", "account"
    ),
    LabeledTicket("Do you have an office in Berlin?", "other"),
    LabeledTicket("Are you hiring backend engineers?", "other"),
    LabeledTicket("Can your tool also manage my calendar?", "other", "account"),
    LabeledTicket("I'd like to write a blog post about your product; who do I talk to?", "other"),
    LabeledTicket("Is there a discount for non-profits?", "other", "billing"),
    LabeledTicket("What does your company do with AI-generated content?", "other"),
    LabeledTicket("The dashboard is slow in the mornings; is that normal?", "bug", "other"),
    LabeledTicket("Can I pay by bank transfer instead of card?", "billing"),
    LabeledTicket(
        "My subscription shows as expired although I paid yesterday.", "billing", "account"
    ),
    LabeledTicket("The mobile app logs me out every few minutes.", "bug", "account"),
    LabeledTicket("How do I rename my workspace?", "account"),
)
"""32 hand-labelled tickets; 10 are ambiguous and name the label they could be confused with."""

N_VOTES = 5  # samples per ticket for the vote-share signal
P_CLEAR, P_AMBIGUOUS = 0.92, 0.55  # chance that one sampled label is right
SPOKEN_CLEAR: tuple[float, ...] = (0.85, 0.90, 0.95)  # stated confidences, clear tickets
SPOKEN_AMBIGUOUS: tuple[float, ...] = (0.80, 0.85, 0.90)  # ... and ambiguous ones


@dataclass(frozen=True, slots=True)
class SimulatedTicket:
    """What the simulated model says about one ticket: five sampled labels, their majority
    (ties go to the label sampled first) and the confidence it states for that majority."""

    votes: tuple[str, ...]
    majority: str
    stated: float


def simulate_ticket_model(
    tickets: Sequence[LabeledTicket] = SUPPORT_TICKETS, *, seed: int = 0
) -> dict[str, SimulatedTicket]:
    """Draw the simulated model's answers: each sample is right with probability P_CLEAR or
    P_AMBIGUOUS; a wrong one goes to the confusable label 90% of the time. The stated
    confidence is high and bunched whatever the votes say (Xiong et al.'s pattern, by hand)."""
    rng = np.random.default_rng(seed)
    script = {}
    for t in tickets:
        p_right = P_AMBIGUOUS if t.confusion else P_CLEAR
        votes: list[str] = []
        for _ in range(N_VOTES):
            if rng.random() < p_right:
                votes.append(t.label)
            elif t.confusion and rng.random() < 0.9:
                votes.append(t.confusion)
            else:
                others = [x for x in TICKET_LABELS if x != t.label]
                votes.append(str(rng.choice(others)))
        majority = max(votes, key=lambda x: (votes.count(x), -votes.index(x)))
        stated = rng.choice(SPOKEN_AMBIGUOUS if t.confusion else SPOKEN_CLEAR)
        script[t.text] = SimulatedTicket(tuple(votes), majority, float(stated))
    return script


def verbal_rule(script: Mapping[str, SimulatedTicket]) -> ReplyRule:
    """A `ScriptedLLM` rule for `classify`: JSON with the majority label and the stated
    confidence of the ticket in the last message."""

    def reply(messages: Sequence[Message]) -> str:
        content = messages[-1].content
        ticket = content.removeprefix("<text>\n").removesuffix("\n</text>")
        answer = script[ticket]
        return json.dumps({"label": answer.majority, "confidence": answer.stated})

    return reply


def sampled_rule(script: Mapping[str, SimulatedTicket]) -> ReplyRule:
    """A `ScriptedLLM` rule for `classify_by_vote`: each call returns the ticket's next sample."""
    draws = {text: iter(answer.votes) for text, answer in script.items()}

    def reply(messages: Sequence[Message]) -> str:
        return next(draws[messages[-1].content])

    return reply


@dataclass(frozen=True, slots=True)
class TicketClassifierRun:
    """Both classifiers on every ticket, and their risk-coverage curves (same thresholds)."""

    verbal: tuple[Decision, ...]
    voted: tuple[Decision, ...]
    truth: tuple[str, ...]
    thresholds: tuple[float, ...]
    curves: dict[str, list[CoveragePoint]]  # "Verbalized confidence", VOTE_CURVE


VERBAL_CURVE = "Verbalized confidence"
VOTE_CURVE = f"Vote share of {N_VOTES} samples"


async def run_ticket_classifiers(
    tickets: Sequence[LabeledTicket] = SUPPORT_TICKETS, *, seed: int = 0
) -> TicketClassifierRun:
    """Run `classify` and `classify_by_vote` on the simulated model, every ticket."""
    script = simulate_ticket_model(tickets, seed=seed)
    verbal_llm = ScriptedLLM(verbal_rule(script))
    vote_llm = ScriptedLLM(sampled_rule(script))
    labels = list(TICKET_LABELS)
    texts = [t.text for t in tickets]
    verbal = [await classify(verbal_llm, x, labels, threshold=0.0) for x in texts]
    voted = []
    for x in texts:
        vote = await classify_by_vote(vote_llm, x, labels, n=N_VOTES, threshold=0.0)
        voted.append(vote)
    truth = [t.label for t in tickets]
    thresholds = sorted({0.0} | {d.confidence for d in verbal + voted})

    def curve(decisions: Sequence[Decision]) -> list[CoveragePoint]:
        right = [d.label == y for d, y in zip(decisions, truth, strict=True)]
        return risk_coverage([d.confidence for d in decisions], right, thresholds)

    return TicketClassifierRun(
        tuple(verbal),
        tuple(voted),
        tuple(truth),
        tuple(thresholds),
        {VERBAL_CURVE: curve(verbal), VOTE_CURVE: curve(voted)},
    )


# -----------------------------------------------------------------------------
# LLM as a judge (patterns chapter, "LLM as a judge")


class JudgePair(NamedTuple):
    """A question, a better and a worse answer, and how far apart they are: "wrong" (the
    worse answer is false) or "close" (both are right, the better one is more complete)."""

    question: str
    better: str
    worse: str
    gap: str


JUDGE_PAIRS: tuple[JudgePair, ...] = (
    JudgePair(
        "What is the boiling point of water at sea level?",
        "100 °C (212 °F) at standard atmospheric pressure.",
        "About 90 °C.",
        "wrong",
    ),
    JudgePair(
        "What does HTTP status 404 mean?",
        "The server cannot find the requested resource.",
        "The server crashed.",
        "wrong",
    ),
    JudgePair("How many bytes are in a kibibyte?", "1,024 bytes.", "1,000 bytes.", "wrong"),
    JudgePair("Which planet is closest to the Sun?", "Mercury.", "Venus.", "wrong"),
    JudgePair("What is the capital of Australia?", "Canberra.", "Sydney.", "wrong"),
    JudgePair("What is 15% of 80?", "12.", "15.", "wrong"),
    JudgePair(
        "What does `git stash` do?",
        "It shelves uncommitted changes so you can reapply them later (`git stash pop`).",
        "It saves your uncommitted changes.",
        "close",
    ),
    JudgePair(
        "Why is the sky blue?",
        "Air molecules scatter short (blue) wavelengths of sunlight more than long ones "
        "(Rayleigh scattering).",
        "Because of how sunlight scatters in the air.",
        "close",
    ),
    JudgePair(
        "What is a Python list comprehension?",
        "An expression that builds a list from an iterable: `[x * x for x in xs]`.",
        "A short way to build a list in one line.",
        "close",
    ),
    JudgePair(
        "What does a database index do?",
        "It keeps a sorted structure (often a B-tree) over columns so lookups avoid a "
        "full table scan, at some cost to writes.",
        "It makes queries faster.",
        "close",
    ),
    JudgePair(
        "What does O(n log n) describe?",
        "Running time that grows in proportion to n log n, as in merge sort.",
        "A fast algorithm.",
        "close",
    ),
    JudgePair(
        "Why use a virtual environment in Python?",
        "It isolates a project's packages and versions from other projects and the system Python.",
        "To keep packages separate.",
        "close",
    ),
)
"""Twelve hand-written pairs with a known better answer: six with a false answer, six close."""

_WRONG_ANSWERS = frozenset(p.worse for p in JUDGE_PAIRS if p.gap == "wrong")


def biased_judge(messages: Sequence[Message]) -> str:
    """A scripted judge with a position bias: right when one answer is false, otherwise it
    prefers whichever answer it was shown first (a `ScriptedLLM` rule for `judge_pair`)."""
    prompt = messages[-1].content
    first = prompt.split("[Answer A]\n", 1)[1].split("\n\n[Answer B]", 1)[0]
    second = prompt.split("[Answer B]\n", 1)[1]
    if first in _WRONG_ANSWERS:
        return "Answer A is incorrect.\nVerdict: B"
    if second in _WRONG_ANSWERS:
        return "Answer B is incorrect.\nVerdict: A"
    # both are correct: the near-tie goes to whichever answer was shown first
    return "Both are correct; the first reads better.\nVerdict: A"


# -----------------------------------------------------------------------------
# validate and repair (patterns chapter, "Extraction")

_DATE = r"^\d{4}-\d{2}-\d{2}$"
INVOICE_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "invoice_date": {"type": "string", "pattern": _DATE},
        "due_date": {"type": ["string", "null"], "pattern": _DATE},
        "currency": {"enum": ["EUR", "USD", "GBP", "other"]},
        "total": {"type": "number"},
    },
    "required": ["vendor", "invoice_date", "due_date", "currency", "total"],
    "additionalProperties": False,
}
"""A strict invoice schema: ISO dates, a nullable due date, a currency enum, a numeric total."""

INVOICE_FIRST_REPLY = (
    'Here is the data:\n```json\n{"vendor": "Acme GmbH", '
    '"invoice_date": "03/11/2026", "currency": "euro", "total": "1,250.00"}\n```'
)
"""Scripted first reply: prose around the JSON, a European date, a currency word, a total as a
string and no due date: four violations and a missing field."""

INVOICE_SECOND_REPLY = (
    '{"vendor": "Acme GmbH", "invoice_date": "2026-11-03", "due_date": null, '
    '"currency": "EUR", "total": 1250.0}'
)
"""Scripted reply to the repair prompt: every violation fixed."""

# -----------------------------------------------------------------------------
# streaming partial JSON (patterns chapter, "Streaming")

TOOL_ARGUMENTS = json.dumps(
    {"title": "Refund request", "priority": 2, "tags": ["billing", "urgent"], "notify": False}
)
"""The arguments of a scripted `create_ticket` tool call, streamed in fixed-size chunks."""

# -----------------------------------------------------------------------------
# summarizing (patterns chapter, "Summarizing long documents")


def first_words_rule(words: int) -> ReplyRule:
    """A scripted summarizer for `map_reduce_summarize`: the first `words` words of the part
    (or of the text after the instruction), a useless summary of realistic length."""

    def reply(messages: Sequence[Message]) -> str:
        text = messages[-1].content
        part = re.search(r"<part>\n(.*)\n</part>", text, re.S)
        body = part.group(1) if part else text.split("\n\n", 1)[1]
        return " ".join(body.split()[:words])

    return reply


# -----------------------------------------------------------------------------
# routing (patterns chapter, "Routing and cascades")


@dataclass(frozen=True, slots=True)
class RouterSetup:
    """The router table's assumptions: two models, request sizes and the shares routed."""

    small: str = "gpt-5-mini"
    large: str = "gpt-5.6-terra"
    input_tokens: int = 2_000
    output_tokens: int = 500
    requests: int = 1_000  # requests priced
    to_small: Decimal = Decimal("0.7")  # assumed share the router sends to the small model
    escalated: Decimal = Decimal("0.3")  # assumed share the cascade escalates


ROUTER = RouterSetup()

# -----------------------------------------------------------------------------
# prompt caching (techniques chapter, "Prompt caching")

CACHE_READ = 0.1  # Anthropic: cache reads at 0.1x the base input price (late 2026)
CACHE_WRITE: dict[str, float] = {"5-minute": 1.25, "1-hour": 2.0}  # cache writes at 1.25x or 2x

# -----------------------------------------------------------------------------
# compaction (techniques chapter, "Context engineering")

FIXED, PER_TURN, NEW_MESSAGE, TURNS = 3_000, 600, 100, 50  # tokens; turns
LIMIT, SUMMARY = 12_000, 1_500  # compact the history above 12k tokens into a 1.5k summary
SUMMARIZE = 200  # the instruction that asks for the summary

type Prompt = list[tuple[str, int]]  # (what a block is, its tokens), in prompt order
type Call = tuple[Prompt, int]  # a prompt and the output tokens counted for it


def conversation(compact: bool) -> list[Call]:
    """Every call of a simulated agent conversation: its prompt blocks and the output tokens
    counted. Instructions take FIXED tokens, each turn adds PER_TURN (message, reply, tool
    result); with `compact`, the history is summarized whenever it passes LIMIT.

    Replies are the same with and without compaction, so only the summaries' output counts.
    Two prompts share a cacheable prefix exactly as far as their leading blocks are equal.
    """
    history: Prompt = []
    calls: list[Call] = []
    for turn in range(TURNS):
        calls.append(([("fixed", FIXED), *history, (f"message {turn}", NEW_MESSAGE)], 0))
        history.append((f"turn {turn}", PER_TURN))
        if compact and sum(n for _, n in history) > LIMIT:
            calls.append(([("fixed", FIXED), *history, ("summarize", SUMMARIZE)], SUMMARY))
            history = [(f"summary after turn {turn}", SUMMARY)]
    return calls


def prompt_tokens(prompt: Prompt) -> int:
    """Tokens in one prompt."""
    return sum(n for _, n in prompt)


def shared_prefix(a: Prompt, b: Prompt) -> int:
    """Tokens at the start of `b` that are identical to the start of `a`."""
    total = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        total += x[1]
    return total


def conversation_cost(
    calls: Sequence[Call], model: str, read: float = 1.0, write: float = 1.0
) -> float:
    """List-price cost of the calls in US dollars; with read/write multipliers, the prefix
    each call shares with the previous one is a cache hit and the rest is a cache write."""
    price = price_of(model)
    total = 0.0
    previous: Prompt = []
    for prompt, out in calls:
        hit = shared_prefix(previous, prompt)
        total += (read * hit + write * (prompt_tokens(prompt) - hit)) * float(price.input_per_mtok)
        total += out * float(price.output_per_mtok)
        previous = prompt
    return total / 1e6


# -----------------------------------------------------------------------------
# constrained decoding (examples chapter, "Valid outputs with and without the mask")


@dataclass(frozen=True, slots=True)
class TinyLMSettings:
    """How one tiny character model of the constrained-decoding experiment is trained."""

    context: int = 8
    emb_dim: int = 16
    hidden: int = 64
    steps: int = 600
    seed: int = 0


PROSE_LM = TinyLMSettings(steps=600)
"""Trained on this book's prose: it has never seen a JSON record."""

JSON_LM = TinyLMSettings(steps=1500)
"""Trained on `json_records(JSON_RECORDS, seed=JSON_RECORDS_SEED)`."""

JSON_RECORDS, JSON_RECORDS_SEED = 300, 1
CONSTRAINED_SAMPLES = 300  # samples per model and mode


def train_tiny(text: str, settings: TinyLMSettings) -> TinyLM:
    """Train one tiny model with `settings` (a few seconds on a CPU)."""
    return train(
        text,
        context=settings.context,
        emb_dim=settings.emb_dim,
        hidden=settings.hidden,
        steps=settings.steps,
        seed=settings.seed,
    )


def json_training_text() -> str:
    """The JSON model's training text: JSON_RECORDS records of the person schema."""
    return json_records(JSON_RECORDS, seed=JSON_RECORDS_SEED)
