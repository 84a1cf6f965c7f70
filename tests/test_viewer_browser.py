"""The run viewer in a real headless Chromium: from a false-positive cell to the episode's transcript.

The run is recorded through the real loop (fake OpenAI server, scripted replies): the critic calls an
inexecutable plan valid, so the critic tables count one false positive. Needs Debian's ``chromium``
(``tests/install-browser.sh``) and the ``playwright`` package; skipped with the reason otherwise. A
screenshot of each page is written to ``tests/artifacts/``.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from helpers.loop_scripting import ScriptedReplies

from planner_loop.experiment import parse_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.planning.plan import parse_plan
from planner_loop.planning.validator import validate
from planner_loop.runs import RunStore, run_experiment
from planner_loop.viewer import build_site, make_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"

# problems/blocksworld/3-5/instance-1: the blue block is under the orange one, so BAD fails at once
BAD = "pick up the blue block\npick up the red block\n[PLAN END]"
NONSENSE = "I am not sure how to do this."
GOOD = ("unstack the orange block from on top of the blue block\nput down the orange block\n"
        "pick up the blue block\nstack the blue block on top of the white block\n"
        "unstack the red block from on top of the yellow block\nstack the red block on top of the blue block\n"
        "[PLAN END]")


def record_run(root: Path) -> Path:
    script = ScriptedReplies([BAD, NONSENSE, GOOD], critic={BAD.removesuffix("\n[PLAN END]"): "Verdict: valid"})
    with FakeOpenAIServer(script) as server:
        config = parse_experiment({
            "name": "viewer-e2e",
            "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
            "prompt": {"encoding": "nl", "shots": 1},
            "generator": {"model": f"openai:fake@{server.base_url}", "max_tokens": 200},
            "conditions": [{"name": "only", "system": "llm-only"},
                           {"name": "critic", "system": "llm+llm", "critic_mode": "binary", "max_rounds": 3},
                           {"name": "sound", "system": "llm+sound", "feedback": "first-error", "max_rounds": 3}],
            "seeds": [0],
            "concurrency": 3,
            "cache": {"mode": "read-write", "path": str(root / "cache.sqlite")},
        })
        # playwright's sync API keeps an event loop running in this thread: run the loop in another one
        worker = threading.Thread(target=asyncio.run, args=(run_experiment(config, root / "run"),))
        worker.start()
        worker.join()
    assert (root / "run" / "episodes.jsonl").is_file()
    return root / "run"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.skip(f"no chromium at {CHROMIUM}: run tests/install-browser.sh (Debian package 'chromium')")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def shoot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


@pytest.mark.parametrize("via", ["file", "http"])
def test_false_positive_cell_opens_the_transcript(browser, tmp_path: Path, via: str) -> None:
    run_dir = record_run(tmp_path)
    site = build_site([run_dir], tmp_path / "site", chunk_size=1)   # several chunks: lazy loading is exercised
    assert site.chunks == 3
    critic = next(r for r in RunStore(run_dir).episodes() if r["condition"] == "critic")
    first = critic["rounds"][0]
    assert first["verdict"]["valid"] is True and first["ground_truth"]["valid"] is False   # the false positive

    from planner_loop.viewer.states import TaskResolver

    task = TaskResolver.for_run(run_dir, RunStore(run_dir).manifest()).task(critic["instance"])
    assert task is not None
    expected_step = validate(task, parse_plan("\n".join(first["plan"]))).failed_step
    assert expected_step is not None and expected_step == first["ground_truth"]["failed_step"]

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    server = None
    try:
        if via == "http":
            server = make_server(site.out_dir)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        else:
            url = site.index.resolve().as_uri()
        page.goto(url)
        page.wait_for_selector("#data-critic_final")
        if via == "file":
            shoot(page, "viewer-tables.png")
        fp_cell = page.locator("[data-cell='critic_final/0/FP']")
        assert fp_cell.inner_text() == "1"
        fp_cell.click()
        page.wait_for_selector("section.round")
        assert page.inner_text("#episode-key") == critic["key"]
        shown = page.locator("section.round[data-round='1'] [data-testid='validator'] .failed-step")
        assert shown.inner_text() == str(expected_step)
        assert page.locator("section.round[data-round='1'] ol.plan li.failed").get_attribute("data-step") == str(expected_step)
        # the extracted plan is highlighted in the raw reply, and each executed step has a state
        assert "pick up the blue block" in page.locator("section.round[data-round='1'] pre.reply mark").first.inner_text()
        assert page.locator("section.round[data-round='1'] .state").count() == 1 + (expected_step - 1) + 1   # init, steps, goal
        if via == "file":
            shoot(page, "viewer-episode.png")

        # the episode list: one click shows the critic's false positives only
        page.goto(url + "#/episodes")
        page.wait_for_selector("#episode-list")
        assert page.locator("#episode-list tbody tr").count() == 3
        page.click("#only-false-positives")
        page.wait_for_function("document.querySelectorAll('#episode-list tbody tr').length === 1")
        assert page.locator("#episode-list tbody tr").first.get_attribute("data-episode").endswith(critic["key"])
        page.select_option("select[data-filter='critic']", "")
        page.select_option("select[data-filter='outcome']", "valid")
        page.wait_for_function("document.querySelectorAll('#episode-list tbody tr').length === 1")
        assert "sound/" in page.locator("#episode-list tbody tr").first.get_attribute("data-episode")
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        page.close()
    assert errors == []


def test_viewer_uses_no_network(tmp_path: Path) -> None:
    """Every script and style the page loads is one of the site's own files."""
    run_dir = record_run(tmp_path)
    site = build_site([run_dir], tmp_path / "site")
    text = "\n".join((site.out_dir / name).read_text() for name in ("index.html", "viewer.js", "viewer.css"))
    assert "http://" not in text and "https://" not in text and "//cdn" not in text
