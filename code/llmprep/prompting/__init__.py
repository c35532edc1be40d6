"""Prompting: the code behind the prompt-engineering chapters.

Each module does one job and runs offline, against `ScriptedLLM` or the foundations chapter's
tiny character LM:

- `templates`: prompt templates that reject missing, unexpected and None values.
- `fewshot`: few-shot examples chosen by embedding similarity (MiniLM), with optional MMR.
- `structured`: extract JSON from a reply, validate it (JSON Schema or pydantic), and repair
  it once by feeding the validation error back (`with_repair`).
- `partial_json`: an incremental parser for streamed JSON that never shows what it will undo.
- `classify`: classification that abstains below a confidence threshold; risk-coverage curves.
- `selfconsistency`: majority vote over sampled answers.
- `passk`: the unbiased pass@k estimator (at least one of k samples passes).
- `techniques`: zero-shot, few-shot, chain-of-thought and self-consistency, with their cost.
- `summarize`: map-reduce summarization over token-bounded chunks.
- `judge`: pairwise LLM-as-a-judge with position swap, and a position-bias summary.
- `constrained`: grammar-constrained decoding with llguidance over the tiny LM's vocabulary.
- `constrained_experiment`: valid-output rate with and without the mask, and its cost.

Leaves out: prompt-optimisation frameworks (DSPy and the like), provider-specific prompt
caching, and tool calling (the agents chapter).
"""
