"""Load YAML so that a mistake is reported as ``file:line``.

PyYAML knows where a syntax error is (``problem_mark``); we translate that into a
:class:`BuildError`, shifting the line when the YAML was cut out of a larger file (front matter,
``#|`` cell options).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import BuildError


def load_yaml(text: str, file: str | Path, first_line: int = 1) -> Any:
    """Parse ``text`` as YAML; ``first_line`` is the line of ``text``'s first line in ``file``."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark is not None else first_line
        problem = exc.problem or exc.context or "invalid YAML"
        raise BuildError(f"malformed YAML: {problem}", file, line) from exc
    except yaml.YAMLError as exc:
        raise BuildError(f"malformed YAML: {exc}", file, first_line) from exc


def load_yaml_mapping(text: str, file: str | Path, first_line: int = 1) -> dict[str, Any]:
    """Like :func:`load_yaml`, but the document must be a mapping (or empty)."""
    data = load_yaml(text, file, first_line)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BuildError("expected a YAML mapping (key: value pairs)", file, first_line)
    return data
