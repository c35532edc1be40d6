"""Check every internal link and anchor of the built site; a broken one fails the build.

Runs on the staged output before it replaces ``_book/``, so a book with a dead link is never
published. External links (``https://…``) are not fetched -- the build is offline -- but every
``href``/``src`` that points inside the site must name an existing file and, with a ``#fragment``,
an element with that ``id`` in it.
"""

from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import BuildError

_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if ident := values.get("id"):
            self.ids.add(ident)
        if tag == "a" and (name := values.get("name")):
            self.ids.add(name)
        for key in ("href", "src"):
            if (value := values.get(key)) is not None and tag != "base":
                self.links.append((value, self.getpos()[0]))


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def check_links(site: Path) -> list[str]:
    """Every broken internal link in ``site`` as ``page:line: message`` (empty when all good)."""
    pages = {p.relative_to(site).as_posix(): _parse(p) for p in sorted(site.rglob("*.html"))}
    problems: list[str] = []
    for name, page in pages.items():
        for link, line in page.links:
            if not link or _EXTERNAL.match(link) or link.startswith("data:"):
                continue
            parts = urlsplit(link)
            target = (
                posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(parts.path)))
                if parts.path
                else name
            )
            if parts.path and not (site / target).exists():
                problems.append(f"{name}:{line}: link to missing file '{link}'")
                continue
            if parts.fragment and target.endswith(".html"):
                ids = pages[target].ids if target in pages else set()
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{name}:{line}: link to missing anchor '{link}'")
    return problems


def require_links(site: Path) -> None:
    problems = check_links(site)
    if problems:
        raise BuildError(
            f"{len(problems)} broken internal link(s)", None, None, "\n".join(problems[:50])
        )
