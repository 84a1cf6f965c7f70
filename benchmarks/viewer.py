"""Run viewer on a 10,000-episode synthetic run: build time, time to first paint, time to open an episode.

The run: 100 Blocks World instances (problems/blocksworld/3-5) x 4 conditions x 25 seeds, 1-3 rounds
each, with prompts of realistic length and plans that fail at some step (so every round has a state
trace). Timings are taken in headless Chromium (Debian's ``chromium``) through playwright, from
``file://`` (no server): first paint = navigation start to the tables drawn; open = click on an
episode in the list to its transcript drawn (its chunk file loaded on demand). Median of ``--repeat``.

    .venv/bin/python benchmarks/viewer.py [--episodes 10000] [--repeat 5] [--append]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from planner_loop.viewer import build_site  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CONDITIONS = (("llm-only", "llm-only", "none"), ("llm+llm", "llm+llm", "llm"),
              ("sound-binary", "llm+sound", "symbolic"), ("sound-first-error", "llm+sound", "symbolic"))
STEPS = ("(unstack {0} {1})", "(put-down {0})", "(pick-up {0})", "(stack {0} {1})")
RULES = ("I am arranging a set of blocks into stacks on a table, using one hand. " * 30).strip()


def synthetic_run(directory: Path, episodes: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    manifest_rows = [json.loads(line) for line in (ROOT / "problems/blocksworld/3-5/manifest.jsonl").read_text().splitlines() if line]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({"name": "viewer-benchmark", "config": {
        "domain": "blocksworld", "conditions": [{"name": c[0]} for c in CONDITIONS]}}))
    lines = []
    per_condition = episodes // len(CONDITIONS)
    for name, system, kind in CONDITIONS:
        for index in range(per_condition):
            row = manifest_rows[index % len(manifest_rows)]
            seed_no = index // len(manifest_rows)
            blocks = "abcdefg"[:int(row["blocks"])]
            n_rounds = 1 if system == "llm-only" else rng.randint(1, 3)
            rounds = []
            for number in range(1, n_rounds + 1):
                plan = [rng.choice(STEPS).format(*rng.sample(blocks, 2)) for _ in range(rng.randint(3, 10))]
                valid = rng.random() < 0.2
                said = None if kind == "none" else (valid or rng.random() < 0.4)
                rounds.append({
                    "round": number,
                    "messages": [{"role": "system", "content": "You are an expert planner."},
                                 {"role": "user", "content": f"{RULES}\n[STATEMENT] instance {row['id']} round {number}"}],
                    "reply": "\n".join(plan) + "\n[PLAN END]", "plan": plan, "parse_error": None,
                    "verdict": {"valid": said, "feedback": "" if said else "The plan is invalid.", "detail": {}},
                    "ground_truth": {"valid": valid, "failed_step": None if valid else 1, "action": None,
                                     "unmet_preconditions": [], "unmet_goals": [], "errors": []},
                    "call_ids": [],
                })
            last = rounds[-1]
            lines.append(json.dumps({
                "key": f"{name}/{row['id']}/seed{seed_no}", "condition": name, "system": system,
                "verifier": {"kind": kind, "feedback": "binary", "critic_model": "fake" if kind == "llm" else None,
                             "critic_mode": "binary" if kind == "llm" else None, "stepwise": False, "votes": 1},
                "generator_model": "fake", "context_policy": "last",
                "instance": {"id": row["id"], "set": "blocksworld/3-5", "problem": f"problems/blocksworld/3-5/{row['file']}",
                             "blocks": int(row["blocks"]), "optimal_length": row.get("optimal_length")},
                "seed": seed_no, "max_rounds": 3, "rounds": rounds,
                "termination": "accepted" if last["verdict"]["valid"] else "max_rounds", "error": None,
                "final": {"round": n_rounds, "valid": last["ground_truth"]["valid"],
                          "accepted": bool(last["verdict"]["valid"]), "critic_valid": last["verdict"]["valid"] if kind == "llm" else None},
            }))
    (directory / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    return directory


def measure(site_index: Path, repeat: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    paints, opens = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for attempt in range(repeat):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(site_index.as_uri())
            page.wait_for_selector("#data-accuracy")
            paints.append(page.evaluate("performance.now()") / 1000)
            page.goto(site_index.as_uri() + "#/episodes?page=" + str(20 + attempt))
            page.wait_for_selector("#episode-list tbody tr")
            started = time.perf_counter()
            page.locator("#episode-list tbody tr a").nth(attempt).click()
            page.wait_for_selector("section.round .states")
            opens.append(time.perf_counter() - started)
            page.close()
        browser.close()
    return paints, opens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--append", action="store_true", help="append the figures to benchmarks/RESULTS.md")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        run = synthetic_run(root / "run", options.episodes)
        started = time.perf_counter()
        site = build_site([run], root / "site")
        build_s = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in (root / "site").rglob("*") if p.is_file()) / 1e6
        index_mb = (root / "site" / "data" / "index.js").stat().st_size / 1e6
        paints, opens = measure(site.index, options.repeat)
    paint, opened = statistics.median(paints), statistics.median(opens)
    text = (f"`benchmarks/viewer.py` ({site.episodes:,} episodes, {site.chunks} chunk files, site {size_mb:.0f} MB, "
            f"index.js {index_mb:.1f} MB; headless Chromium from file://, 2 shared cores): build {build_s:.1f} s; "
            f"first paint (tables drawn) {paint * 1000:.0f} ms median (max {max(paints) * 1000:.0f}); open an episode "
            f"from the list {opened * 1000:.0f} ms median (max {max(opens) * 1000:.0f}); target < 1 s each.")
    print(text)
    if options.append:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + text + "\n")
    sys.exit(0 if paint < 1 and opened < 1 else 1)


if __name__ == "__main__":
    main()
