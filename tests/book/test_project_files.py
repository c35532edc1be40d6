"""The open-source project around the book: workflows, citation, templates, hooks, spelling.

The linters run as subprocesses from the project's own venv, offline: actionlint and zizmor on
the GitHub Actions workflows, check-jsonschema (with its bundled schemas) on CITATION.cff and
the issue forms, codespell on the tree and pre-commit on every file. The workflow tests also pin
down the rules a linter cannot know: only the README's commands build the book, on the official
Python image pinned by digest, every action is pinned by commit, and each job has only the
permissions it needs. The set-up tests hold the Makefile to its order on a fresh machine (Debian
packages before `npm ci`) and run tools/install-system-deps.sh against stub commands.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import external_links  # noqa: E402

BIN = ROOT / ".venv" / "bin"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TEMPLATES = sorted((ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml"))
BUILD_COMMANDS = {"make test", "make book", "make book-fresh"}
LINK_CHECK = (
    ".venv/bin/python tools/external_links.py _book --allow-list tools/external_links_allow.txt"
)
REPO = "https://github.com/llm-interview-prep/llm-interview-prep"


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make setup` (it is pinned in requirements.lock)")
    return str(path)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run a tool from the project root with .venv/bin first on PATH and no GitHub token."""
    environment = {k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN"}}
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(env)
    return subprocess.run(
        args, cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=600
    )


def load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def workflow_on(data: dict[Any, Any]) -> Any:
    # subtle: YAML 1.1 reads the key `on` as the boolean True.
    return data.get("on", data.get(True))


def steps(data: dict[Any, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in data["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


# -- linters ---------------------------------------------------------------------------------


def test_there_are_the_three_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["checks.yml", "publish.yml", "weekly.yml"]


def test_actionlint_is_clean() -> None:
    result = run([tool("actionlint"), "-no-color"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_is_clean_offline(tmp_path: Path, persona: str) -> None:
    result = run(
        [
            tool("zizmor"),
            "--offline",
            "--no-progress",
            "--persona",
            persona,
            "--cache-dir",
            str(tmp_path),
            ".github",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout
    assert "suppressed" not in result.stdout, "fix findings rather than suppress them"


def test_codespell_is_clean_on_the_tree() -> None:
    result = run([tool("codespell")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_and_issue_forms_match_their_schemas() -> None:
    for schema, files in (("github-workflows", WORKFLOWS), ("github-issue-forms", TEMPLATES)):
        result = run(
            [tool("check-jsonschema"), "--builtin-schema", f"vendor.{schema}", *map(str, files)]
        )
        assert result.returncode == 0, result.stdout + result.stderr


# -- the workflows' own rules ----------------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_build_only_with_the_readme_commands(path: Path) -> None:
    data = load(path)
    for job, step in steps(data):
        uses = str(step.get("uses", ""))
        assert not re.match(r"actions/setup-|.*setup-(python|node|uv)", uses), (job, uses)
        for line in str(step.get("run", "")).splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                allowed = BUILD_COMMANDS | ({LINK_CHECK} if path.name == "weekly.yml" else set())
                assert command in allowed, f"{path.name} job {job}: `{command}`"
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\b(pip|pipx|uv|npm|apt-get|apt)\s+install\b", text)


def test_each_workflow_runs_what_it_is_for() -> None:
    def commands(name: str) -> list[str]:
        data = load(ROOT / ".github" / "workflows" / name)
        return [str(s["run"]).strip() for _, s in steps(data) if "run" in s]

    assert commands("publish.yml") == ["make test", "make book"]
    assert commands("checks.yml") == ["make test", "make book"]
    assert commands("weekly.yml") == ["make book-fresh", LINK_CHECK]
    assert (ROOT / "tools" / "external_links_allow.txt").exists()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_version(path: Path) -> None:
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(.+)$", path.read_text(encoding="utf-8"), re.M)
    assert uses
    for value in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", value), value


def test_every_build_runs_in_the_official_python_image_pinned_by_digest() -> None:
    images = set()
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            if not any("run" in step for step in job.get("steps", [])):
                continue  # the deploy job runs no command of ours
            container = job.get("container")
            assert isinstance(container, dict), f"{path.name} job {name} runs in no container"
            images.add(container["image"])
            assert "--shm-size" in container.get("options", ""), (path.name, name)  # Chromium
            # The runner owns the workspace, the container's root runs git: trust the checkout.
            env = job.get("env", {})
            assert (env.get("GIT_CONFIG_COUNT"), env.get("GIT_CONFIG_KEY_0")) == (
                "1",
                "safe.directory",
            ), (path.name, name)
    (image,) = images  # one machine for every workflow
    assert re.fullmatch(r"python:3\.12-bookworm@sha256:[0-9a-f]{64}", image), image


@pytest.mark.parametrize("name", ["publish.yml", "checks.yml"])
def test_the_tested_checkout_has_the_whole_history(name: str) -> None:
    # tests/foundations/test_corpus.py rebuilds the corpus snapshot from a past commit.
    checkouts = [
        step
        for _, step in steps(load(ROOT / ".github/workflows" / name))
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert [c["with"].get("fetch-depth") for c in checkouts] == [0]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_no_persisted_credentials(path: Path) -> None:
    data = load(path)
    assert data["permissions"] == {}, "grant permissions per job, not per workflow"
    for name, job in data["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"job {name} states its permissions"
        assert set(job["permissions"].values()) <= {"read", "write", "none"}
        assert "timeout-minutes" in job
    for name, step in steps(data):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, name


def test_only_the_deploy_job_can_write_and_only_to_pages() -> None:
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            expected = (
                {"pages", "id-token"} if (path.name, name) == ("publish.yml", "deploy") else set()
            )
            assert writes == expected, (path.name, name)


def test_triggers_and_concurrency() -> None:
    publish, checks, weekly = (
        load(ROOT / ".github/workflows" / n) for n in ("publish.yml", "checks.yml", "weekly.yml")
    )
    assert workflow_on(publish)["push"]["branches"] == ["main"]
    assert publish["concurrency"]["cancel-in-progress"] is False  # never cut a deployment short
    assert "pull_request" in workflow_on(checks)
    assert "pull_request_target" not in workflow_on(checks)
    assert checks["concurrency"]["cancel-in-progress"] is True
    assert "pull_request" in checks["concurrency"]["group"]
    assert "schedule" in workflow_on(weekly)
    assert "workflow_dispatch" in workflow_on(weekly)


@pytest.mark.parametrize("name", ["publish.yml", "checks.yml"])
def test_the_venv_and_the_freeze_cache_are_cached_on_the_lock(name: str) -> None:
    caches = {
        str(step["with"]["path"]).strip(): step["with"]
        for _, step in steps(load(ROOT / ".github/workflows" / name))
        if str(step.get("uses", "")).startswith("actions/cache@")
    }
    assert set(caches) == {".venv", "_freeze"}
    for cache in caches.values():
        assert "hashFiles('requirements.lock')" in cache["key"]


def test_publish_deploys_the_built_book_to_pages() -> None:
    data = load(ROOT / ".github/workflows/publish.yml")
    uploads = [s for _, s in steps(data) if "upload-pages-artifact@" in str(s.get("uses", ""))]
    assert [u["with"]["path"] for u in uploads] == ["_book"]
    deploy = data["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"


def test_checks_upload_the_built_book_for_reviewers() -> None:
    data = load(ROOT / ".github/workflows/checks.yml")
    uploads = [s for _, s in steps(data) if "upload-artifact@" in str(s.get("uses", ""))]
    assert [u["with"]["path"] for u in uploads] == ["_book"]


# -- citation, templates, errata -------------------------------------------------------------


def test_citation_cff_is_valid_cff_1_2_0() -> None:
    cff = load(ROOT / "CITATION.cff")
    assert cff["cff-version"] == "1.2.0"
    result = run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.citation-file-format",
            "CITATION.cff",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_citation_cff_agrees_with_quarto_yml() -> None:
    book = load(ROOT / "_quarto.yml")["book"]
    cff = load(ROOT / "CITATION.cff")
    authors = book["author"] if isinstance(book["author"], list) else [book["author"]]
    names = [a["name"] if isinstance(a, dict) else a for a in authors]

    def cff_names(people: list[dict[str, str]]) -> list[str]:
        return [p.get("name") or f"{p['given-names']} {p['family-names']}" for p in people]

    assert cff["title"] == book["title"]
    assert cff_names(cff["authors"]) == names
    assert str(cff["date-released"]) == str(book["date"])
    preferred = cff["preferred-citation"]
    assert preferred["title"] == book["title"]
    assert cff_names(preferred["authors"]) == names
    assert str(preferred["year"]) == str(book["date"])[:4]
    assert cff["repository-code"] == book["repo-url"]


def test_citation_cff_version_and_authors_are_the_package_ones() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    cff = load(ROOT / "CITATION.cff")
    assert cff["version"] == project["version"]
    assert [a["name"] for a in project["authors"]] == [a["name"] for a in cff["authors"]]


def test_the_three_issue_forms_and_the_errata_page_link_them() -> None:
    assert [p.name for p in TEMPLATES] == [
        "build-problem.yml",
        "content-error.yml",
        "content-request.yml",
    ]
    errata = (ROOT / "chapters" / "errata.qmd").read_text(encoding="utf-8")
    assert errata.startswith("# Errata and feedback {.unnumbered}\n")
    linked = re.findall(re.escape(REPO) + r"/issues/new\?template=([\w.-]+)", errata)
    assert sorted(linked) == [p.name for p in TEMPLATES]
    chapters = load(ROOT / "_quarto.yml")["book"]["chapters"]
    flat = [c for c in chapters if isinstance(c, str)]
    assert flat.index("chapters/errata.qmd") == flat.index("chapters/slides.qmd") + 1


def test_project_files_exist() -> None:
    for name in (
        "CONTRIBUTING.md",
        "CHANGELOG.md",
        "CODE_OF_CONDUCT.md",
        ".editorconfig",
        ".github/pull_request_template.md",
    ):
        assert (ROOT / name).is_file(), name
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert "https://www.contributor-covenant.org/version/2/1/" in (
        ROOT / "CODE_OF_CONDUCT.md"
    ).read_text(encoding="utf-8")


# -- pre-commit ------------------------------------------------------------------------------


def test_precommit_hooks_are_local_and_fetch_nothing() -> None:
    config = load(ROOT / ".pre-commit-config.yaml")
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    assert {hook["language"] for hook in hooks} == {"system"}
    # Each runs the venv's own tool, so a commit works without the venv on PATH.
    assert all(hook["entry"].startswith(".venv/bin/") for hook in hooks), hooks
    entries = " | ".join(hook["entry"] for hook in hooks)
    for needed in (
        "ruff check",
        "ruff format --check",
        "codespell",
        "tools/check_sources.py",
        "actionlint",
        "zizmor --offline --persona pedantic",
    ):
        assert needed in entries


@pytest.mark.slow
def test_precommit_run_all_files_passes(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("pre-commit needs a git checkout")
    result = run(
        [tool("pre-commit"), "run", "--all-files", "--color", "never"],
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit"),
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- setting up a fresh machine ------------------------------------------------------------


def make_dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run on a fresh machine (every target out of date)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "--no-print-directory", target],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("target", ["book", "test", "preview", "lint", "setup"])
def test_system_packages_are_installed_before_npm_ci(target: str) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    lines = make_dry_run(target)
    deps = [i for i, line in enumerate(lines) if "tools/install-system-deps.sh" in line]
    npm = [i for i, line in enumerate(lines) if line.startswith("npm ci")]
    assert len(deps) == 1, lines
    assert len(npm) == 1, lines
    assert deps[0] < npm[0], lines


def test_package_lock_is_readable_by_debian_12_npm() -> None:
    # tools/install-system-deps.sh installs Debian 12's npm (9.x) where there is none: it reads
    # lockfileVersion 1 to 3.
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["lockfileVersion"] in {1, 2, 3}


def run_install_script(tmp_path: Path, uid: int) -> tuple[subprocess.CompletedProcess[str], str]:
    """tools/install-system-deps.sh on a PATH of stubs: `id` says `uid`, apt-get only logs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt-get.log"
    stubs = {"id": f"echo {uid}", "apt-get": f'echo "$*" >> {log}'}
    for name, body in stubs.items():
        stub = bin_dir / name
        stub.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        stub.chmod(0o755)
    bash = shutil.which("bash") or "/bin/bash"
    result = subprocess.run(
        [bash, str(ROOT / "tools" / "install-system-deps.sh")],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result, log.read_text(encoding="utf-8") if log.exists() else ""


# The packages whose commands tools/install-system-deps.sh looks for, in its order.
NEEDED_COMMANDS = ["nodejs", "npm", "git", "chromium", "graphviz", "poppler-utils"]


def test_install_script_as_a_user_lists_what_is_missing_and_fails(tmp_path: Path) -> None:
    result, apt_log = run_install_script(tmp_path, uid=1000)
    assert result.returncode == 1
    assert "error: missing system packages: " in result.stderr
    for package in NEEDED_COMMANDS:  # none of their commands is on the stub PATH
        assert f" {package}" in result.stderr, result.stderr
    assert "sudo apt-get install --no-install-recommends" in result.stderr
    assert apt_log == "", "a user's run must change nothing"


def test_install_script_as_root_installs_what_is_missing(tmp_path: Path) -> None:
    result, apt_log = run_install_script(tmp_path, uid=0)
    assert result.returncode == 0, result.stderr
    update, install = apt_log.splitlines()
    assert update == "update -qq"
    assert install.startswith("install -y -qq --no-install-recommends ")
    assert install.split()[4 : 4 + len(NEEDED_COMMANDS)] == NEEDED_COMMANDS


# -- tools/external_links.py, against a server on 127.0.0.1 -----------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, body: bool) -> None:
        path = self.path
        if path == "/ok":
            self._send(200, body)
        elif path == "/no-head" and self.command == "HEAD":
            self._send(405, body)
        elif path == "/no-head":
            self._send(200, body)
        elif path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/to-refuser":
            port = self.headers.get("Host", "").rsplit(":", 1)[-1]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/refuse")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/refuse":
            self._send(403, body)
        elif path == "/busy":
            self._send(503, body)
        else:
            self._send(404, body)

    def _send(self, status: int, body: bool) -> None:
        payload = b"<p>hello</p>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def make_site(root: Path, links: list[str]) -> Path:
    site = root / "site"
    (site / "chapters").mkdir(parents=True)
    (site / "index.html").write_text(
        "<html><body>\n"
        + "\n".join(f'<a href="{url}">link</a>' for url in links)
        + '\n<a href="chapters/one.html">internal</a> <a href="mailto:x@example.com">mail</a>\n'
        + "</body></html>\n",
        encoding="utf-8",
    )
    (site / "chapters" / "one.html").write_text(
        f'<html><body>\n<img src="{links[0]}#part" alt="">\n</body></html>\n', encoding="utf-8"
    )
    return site


def test_links_are_collected_once_with_every_place(tmp_path: Path) -> None:
    site = make_site(tmp_path, ["https://example.org/a", "http://example.org/b"])
    links = external_links.collect_links(site)
    assert [link.url for link in links] == ["http://example.org/b", "https://example.org/a"]
    assert links[1].places == [("chapters/one.html", 2), ("index.html", 2)]


def test_allow_list_matches_hosts_subdomains_and_prefixes(tmp_path: Path) -> None:
    allow = tmp_path / "allow.txt"
    allow.write_text("# comment\nopenai.com  # why\n\nhttps://example.org/private/\n")
    entries = external_links.read_allow_list(allow)
    assert entries == ["openai.com", "https://example.org/private/"]
    assert external_links.allowed("https://cdn.openai.com/x.pdf", entries)
    assert external_links.allowed("https://openai.com/", entries)
    assert not external_links.allowed("https://notopenai.com/", entries)
    assert external_links.allowed("https://example.org/private/page", entries)
    assert not external_links.allowed("https://example.org/public", entries)


def test_links_are_classified(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    dead = f"http://127.0.0.1:{closed_port()}/gone"
    urls = {
        "/ok": "ok",
        "/no-head": "ok",
        "/moved": "ok",
        "/missing": "broken",
        "/busy": "unsure",
        "/to-refuser": "skipped",
        "/listed": "skipped",
    }
    site = make_site(tmp_path, [server + path for path in urls] + [dead])
    allow = ["localhost", f"{server}/listed"]
    results = external_links.check_site(site, allow, retries=1, backoff=0, timeout=5)
    got = {r.link.url.removeprefix(server): r.status for r in results}
    assert got == urls | {dead: "broken"}
    details = {r.link.url.removeprefix(server): r.detail for r in results}
    assert details["/missing"] == "HTTP 404"
    assert details["/busy"] == "HTTP 503 after 2 tries"
    assert details[dead].startswith("cannot connect")


def test_cli_fails_on_a_broken_link_and_lists_offline(tmp_path: Path, server: str) -> None:
    site = make_site(tmp_path, [server + "/ok", server + "/missing"])
    script = str(ROOT / "tools" / "external_links.py")
    listing = run([sys.executable, script, str(site), "--list"])
    assert listing.returncode == 0
    assert f"index.html:3: {server}/missing" in listing.stdout
    checked = run([sys.executable, script, str(site), "--retries", "0"], no_proxy="127.0.0.1")
    assert checked.returncode == 1
    assert f"error: index.html:3: {server}/missing: HTTP 404" in checked.stderr
    assert "2 external links: 1 ok, 0 skipped, 0 unsure, 1 broken" in checked.stdout
