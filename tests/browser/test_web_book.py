"""The web book in a real browser: loading, navigation, search, themes, privacy, accessibility.

Every test runs against the fixture book (every builder feature) and the real book, and the
mode-dependent ones both over http://127.0.0.1 and straight from disk (file://).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import OpenPage, Site, is_local, serious_violations

pytestmark = pytest.mark.browser
MODES = ["http", "file"]


@pytest.mark.parametrize("mode", MODES)
def test_every_page_loads_without_errors_or_remote_requests(
    site: Site, open_page: OpenPage, mode: str
) -> None:
    for name in site.pages():
        visit = open_page(site.url(name, mode))
        assert visit.errors == [], f"{name}: console errors {visit.errors}"
        remote = [u for u in visit.requests if not is_local(u, site)]
        assert remote == [], f"{name}: requests to non-local hosts {remote}"
        assert visit.page.title()


@pytest.mark.parametrize("mode", MODES)
def test_sidebar_and_previous_next_navigation(site: Site, open_page: OpenPage, mode: str) -> None:
    visit = open_page(site.url("index.html", mode))
    page = visit.page
    links = page.locator("#sidebar ul.chapters a")
    count = links.count()
    assert count >= 1
    if count > 1:
        second = links.nth(1)
        title = second.inner_text().strip()
        second.click()
        page.wait_for_load_state("load")
        assert page.locator("#sidebar a.active").inner_text().strip() == title
        page.locator(".page-nav a.prev").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("index.html")
        page.locator(".page-nav a.next").click()
        page.wait_for_load_state("load")
        assert page.locator("#sidebar a.active").inner_text().strip() == title
    else:
        assert page.locator(".page-nav a").count() == 0


def _phrase(site: Site) -> tuple[str, str]:
    """A word that occurs in exactly one section of the book, and that section's URL."""
    index = (site.folder / "site_libs" / "search-index.js").read_text(encoding="utf-8")
    docs = json.loads(index.removeprefix("window.BOOK_SEARCH_DOCS = ").rstrip(";\n"))
    if site.name == "fixture":
        return "zebracorn", "chapters/two.html#sec-unique"
    homes: dict[str, set[str]] = {}
    for doc in docs:
        for word in doc["text"].split():
            if word.isalpha() and len(word) > 8:
                homes.setdefault(word.lower(), set()).add(doc["url"])
    word = min(w for w, urls in homes.items() if len(urls) == 1)
    return word, next(iter(homes[word]))


@pytest.mark.parametrize("mode", MODES)
def test_search_finds_a_phrase_from_a_chapter(site: Site, open_page: OpenPage, mode: str) -> None:
    phrase, target = _phrase(site)
    visit = open_page(site.url("index.html", mode))
    page = visit.page
    page.fill("#search-input", phrase)
    results = page.locator("#search-results a")
    results.first.wait_for(state="visible", timeout=5000)
    hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(h.endswith(target) for h in hrefs), (phrase, target, hrefs)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.split("/")[-1].split("#")[0] == target.split("/")[-1].split("#")[0]
    assert visit.errors == []


@pytest.mark.parametrize("mode", MODES)
def test_dark_mode_toggle_works_and_persists(
    site: Site, open_page: OpenPage, browser: Any, mode: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = open_page(site.url("index.html", mode), context=context).page
        html = page.locator("html")
        assert html.get_attribute("data-theme") == "light"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.click(".theme-toggle")
        assert html.get_attribute("data-theme") == "dark"
        assert page.locator(".theme-toggle").get_attribute("aria-pressed") == "true"
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
        last = site.pages()[-1]
        other = open_page(site.url(last, mode), context=context).page
        assert other.locator("html").get_attribute("data-theme") == "dark"
        other.click(".theme-toggle")
        assert other.locator("html").get_attribute("data-theme") == "light"
        again = open_page(site.url("index.html", mode), context=context).page
        assert again.locator("html").get_attribute("data-theme") == "light"
    finally:
        context.close()


def test_copy_button_copies_code(site: Site, open_page: OpenPage, browser: Any) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        for name in site.pages():
            page = open_page(site.url(name, "http"), context=context).page
            visible = page.locator("div.sourceCode .copy-button >> visible=true")
            if visible.count() == 0:
                continue
            button = visible.first
            code = button.locator("xpath=..").locator("pre").inner_text()
            button.click()
            assert page.evaluate("navigator.clipboard.readText()") == code
            assert button.inner_text() == "Copied"
            return
        pytest.fail("no visible code block with a copy button")
    finally:
        context.close()


def test_phone_layout_has_drawer_sidebar(site: Site, open_page: OpenPage) -> None:
    page = open_page(site.url(site.pages()[-1], "http"), width=390).page
    sidebar = page.locator("#sidebar")
    assert not sidebar.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click(".sidebar-toggle")
    sidebar.wait_for(state="visible")
    assert page.locator(".sidebar-toggle").get_attribute("aria-expanded") == "true"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violations(site: Site, open_page: OpenPage, theme: str) -> None:
    for name in site.pages():
        page = open_page(site.url(name, "http")).page
        if theme == "dark":
            page.click(".theme-toggle")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        serious = serious_violations(page)
        assert serious == [], f"{name} ({theme}): {serious}"
