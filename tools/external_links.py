"""Check every external link in the built book: the weekly job's link-rot check.

The build checks every *internal* link and anchor, offline. Links to the rest of the web (papers,
docs, the repository) can only be checked online, and they rot slowly, so the weekly workflow
runs this over a fresh ``_book/``::

    .venv/bin/python tools/external_links.py _book --allow-list tools/external_links_allow.txt

Each distinct ``http(s)://`` URL in an ``href`` or ``src`` of any HTML page is requested once
(``HEAD``, then ``GET`` where a server refuses ``HEAD``), following redirects. A URL is

* **ok** when the final answer is 2xx;
* **broken** on 404/410 and other client errors, or when the host does not resolve or refuses
  the connection: printed as ``page:line: URL: reason``, and the exit status is 1;
* **unsure** on a timeout, 429 or a server error (after retries): printed as a warning, not a
  failure, since the same link usually works next week;
* **skipped** when its host is in the allow-list: sites that refuse automated clients (they
  answer 403 or a challenge page to anything but a browser). A redirect that lands on such a
  host and is refused counts as skipped too.

``--list`` prints the links without fetching anything (useful offline).
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.client import HTTPException
from pathlib import Path
from typing import Literal
from urllib.parse import urldefrag, urlsplit

USER_AGENT = (
    "llm-interview-prep-linkcheck/1.0 "
    "(+https://github.com/llm-interview-prep/llm-interview-prep; weekly link check)"
)
Status = Literal["ok", "broken", "unsure", "skipped"]
_RETRY_STATUSES = {429, 500, 502, 503, 504}
_REFUSALS = {401, 403, 429, 999}  # what allow-listed sites answer robots


@dataclass(slots=True)
class Link:
    """One distinct external URL and every place in the site that links to it."""

    url: str
    places: list[tuple[str, int]] = field(default_factory=list)  # (page, line)


@dataclass(frozen=True, slots=True)
class Result:
    link: Link
    status: Status
    detail: str

    def __str__(self) -> str:
        page, line = self.link.places[0]
        more = f" (and {len(self.link.places) - 1} more)" if len(self.link.places) > 1 else ""
        return f"{page}:{line}: {self.link.url}: {self.detail}{more}"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in {"href", "src"} and value and value.lower().startswith(("http:", "https:")):
                self.found.append((value.strip(), self.getpos()[0]))


def collect_links(site: Path) -> list[Link]:
    """Every distinct external URL in the HTML pages under ``site`` (fragments dropped)."""
    links: dict[str, Link] = {}
    for path in sorted(site.rglob("*.html")):
        collector = _Collector()
        collector.feed(path.read_text(encoding="utf-8", errors="replace"))
        page = path.relative_to(site).as_posix()
        for url, line in collector.found:
            bare = urldefrag(url).url
            links.setdefault(bare, Link(bare)).places.append((page, line))
    return sorted(links.values(), key=lambda link: link.url)


def read_allow_list(path: Path | None) -> list[str]:
    """Entries of the allow-list file: hosts (subdomains included) or URL prefixes; # comments."""
    if path is None:
        return []
    entries = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        entry = raw.split("#", 1)[0].strip()
        if entry:
            entries.append(entry.lower())
    return entries


def allowed(url: str, allow_list: Iterable[str]) -> bool:
    """Whether ``url`` is on a site in the allow-list."""
    host = (urlsplit(url).hostname or "").lower()
    for entry in allow_list:
        if entry.startswith(("http://", "https://")):
            if url.lower().startswith(entry):
                return True
        elif host == entry or host.endswith("." + entry):
            return True
    return False


Fetch = Callable[[str, str, float], tuple[int, str]]


def fetch(url: str, method: str, timeout: float) -> tuple[int, str]:
    """(status, final URL) of one request, following redirects; HTTP errors are statuses."""
    request = urllib.request.Request(
        url, method=method, headers={"User-Agent": USER_AGENT, "Accept": "*/*"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), str(response.url)
    except urllib.error.HTTPError as exc:
        return int(exc.code), str(exc.filename or url)


def check_link(
    link: Link,
    allow_list: Sequence[str],
    *,
    timeout: float = 20.0,
    retries: int = 2,
    backoff: float = 2.0,
    fetcher: Fetch = fetch,
) -> Result:
    """Request one link and classify the answer (see the module docstring)."""
    if allowed(link.url, allow_list):
        return Result(link, "skipped", "on the allow-list, not fetched")
    detail = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * attempt)
        try:
            status, final = fetcher(link.url, "HEAD", timeout)
            if status in {400, 403, 404, 405, 501} or status in _RETRY_STATUSES:
                # Many servers answer HEAD wrongly; GET is the request a reader makes.
                status, final = fetcher(link.url, "GET", timeout)
        except (OSError, HTTPException, ValueError) as exc:  # URLError is an OSError
            reason = getattr(exc, "reason", exc)
            if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
                detail = "timed out"
                continue
            return Result(link, "broken", f"cannot connect ({reason})")
        if 200 <= status < 300:
            return Result(link, "ok", str(status))
        if status in _REFUSALS and allowed(final, allow_list):
            return Result(link, "skipped", f"{status} from allow-listed {final}")
        if status in _RETRY_STATUSES:
            detail = f"HTTP {status}"
            continue
        where = f" (redirected to {final})" if final != link.url else ""
        return Result(link, "broken", f"HTTP {status}{where}")
    return Result(link, "unsure", f"{detail} after {retries + 1} tries")


def check_site(
    site: Path,
    allow_list: Sequence[str],
    *,
    workers: int = 8,
    timeout: float = 20.0,
    retries: int = 2,
    backoff: float = 2.0,
    fetcher: Fetch = fetch,
) -> list[Result]:
    """Check every external link of ``site``, ``workers`` at a time."""
    links = collect_links(site)

    def one(link: Link) -> Result:
        return check_link(
            link, allow_list, timeout=timeout, retries=retries, backoff=backoff, fetcher=fetcher
        )

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, links))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check every external link of a built site.")
    parser.add_argument("site", type=Path, help="the built site, e.g. _book")
    parser.add_argument("--allow-list", type=Path, help="hosts or URL prefixes not to fetch")
    parser.add_argument("--list", action="store_true", help="list the links; fetch nothing")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request")
    parser.add_argument("--retries", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.site.is_dir():
        parser.error(f"{args.site} is not a folder (build the book first: make book)")
    if args.list:
        for link in collect_links(args.site):
            page, line = link.places[0]
            print(f"{page}:{line}: {link.url}")
        return 0
    allow_list = read_allow_list(args.allow_list)
    results = check_site(
        args.site, allow_list, workers=args.workers, timeout=args.timeout, retries=args.retries
    )
    counts = dict.fromkeys(("ok", "skipped", "unsure", "broken"), 0)
    for result in results:
        counts[result.status] += 1
        if result.status == "broken":
            print(f"error: {result}", file=sys.stderr)
        elif result.status == "unsure":
            print(f"warning: {result}", file=sys.stderr)
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    print(f"{len(results)} external links: {summary}")
    return 1 if counts["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
