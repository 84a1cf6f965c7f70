"""Every kind of bad input to the tool subcommands: ``export``, ``view``, ``critic-bench``, ``problems generate``
and ``cache stats|clear|check|repair`` (``test_refusal_messages.py`` walks the other commands).

Each case is run through the console entry point in this process. It must exit non-zero with no traceback and
name the offending path, option or setting. It must also leave ``tmp_path`` exactly as it was, so no partial
output is left behind. Refusals of our own give one line, ``planner-loop: error: ...``. Values that typer itself
rejects (a non-number, a number outside an option's ``min``/``max``, a missing argument) give typer's usage
block, whose boxed message is held to at most three lines.

Kinds walked: a missing path, a file where a folder is expected and the reverse, files that are not what the
command reads (garbage bytes, empty, the wrong JSON or YAML), run folders without records or with damaged ones,
bad option values (negative, zero, out of range, not a number, unknown choice), output paths under a file or in
a read-only folder (a read-only tmpfs when the tests may mount one, else a ``chmod 555`` folder; skipped when
neither works), and a busy ``--port``. critic-bench talks only to the fake OpenAI server, and only when a case
fails to refuse."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import string
import subprocess
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers.cli_refusals import call_cli, one_line
from planner_loop.llm.cache import ResponseCache
from planner_loop.llm.fake_server import FakeOpenAIServer

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "runs" / "v1" / "run"
GARBAGE = b"\x89PNG\r\n\x1a\n\xff\xfe\x00garbage\n"
CONFIGS = {   # critic-bench --config files
    "cfg_not_mapping": "- a\n- b\n",
    "cfg_unknown_key": "bogus: 1\n",
    "cfg_negative_concurrency": "concurrency: -1\n",
    "cfg_unknown_encoding": "encoding: klingon\n",
    "cfg_unknown_domain": "domain: nope\n",
    "cfg_bad_yaml": "conditions: [\n  {name: x\n",
    "cfg_duplicate_condition": "conditions:\n  - {name: a}\n  - {name: a}\n",
}




def usage_box(output: str) -> str:
    """typer's refusal of a value it parses itself: usage, a hint, then the message in a box of <= 3 lines."""
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines[0].startswith("Usage: ") and "planner-loop" in lines[0], output
    inside = [line.strip("│ ") for line in lines if line.startswith("│")]
    assert 1 <= len(inside) <= 3 and len(lines) <= 3 + len(inside) + 2, output
    return " ".join(inside)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder)."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


def _run_copy(root: Path, name: str, episodes: bytes | None = None, manifest: bytes | None = None,
              drop: tuple[str, ...] = ()) -> Path:
    folder = root / name
    shutil.copytree(FIXTURE_RUN, folder)
    for child in drop:
        (folder / child).unlink()
    if episodes is not None:
        (folder / "episodes.jsonl").write_bytes(episodes)
    if manifest is not None:
        (folder / "manifest.json").write_bytes(manifest)
    return folder


def _read_only(root: Path, name: str, with_cache: bool) -> Path:
    """A read-only folder: a tmpfs mounted ro (root), else chmod 555 (other users); skips when neither holds."""
    folder = root / name
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True,
                             check=False).returncode == 0
    if with_cache:
        with ResponseCache(folder / "c.sqlite") as cache:
            cache.stats()
    if mounted:
        if subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, check=False).returncode:
            pytest.skip("cannot remount a tmpfs read-only here")
    elif os.geteuid() != 0:
        folder.chmod(0o555)
    else:
        pytest.skip("cannot mount a read-only tmpfs here, and root ignores chmod")
    return folder


def _busy_port(stack: list[Callable[[], None]]) -> str:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stack.append(listener.close)
    return str(listener.getsockname()[1])


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``place(name)`` makes the input called ``name`` under ``tmp_path`` (once) and returns its path or value."""
    made: dict[str, str] = {"tmp": str(tmp_path)}
    cleanup: list[Callable[[], None]] = []
    makers: dict[str, Callable[[], object]] = {
        "run": lambda: _run_copy(tmp_path, "run"),
        "run_empty": lambda: _run_copy(tmp_path, "run-empty", episodes=b""),
        "run_garbage": lambda: _run_copy(tmp_path, "run-garbage", episodes=b'{"key": "a"}\n' + GARBAGE),
        "run_wrong_json": lambda: _run_copy(tmp_path, "run-wrong-json", episodes=b'{"episode": 1}\n'),
        "run_list_json": lambda: _run_copy(tmp_path, "run-list-json", episodes=b"[1, 2]\n"),
        "run_no_episodes": lambda: _run_copy(tmp_path, "run-no-episodes", drop=("episodes.jsonl",)),
        "run_no_manifest": lambda: _run_copy(tmp_path, "run-no-manifest", drop=("manifest.json",)),
        "run_bad_manifest": lambda: _run_copy(tmp_path, "run-bad-manifest", manifest=b"not json\n"),
        "run_garbage_manifest": lambda: _run_copy(tmp_path, "run-garbage-manifest", manifest=GARBAGE),
        "folder": lambda: (tmp_path / "folder").mkdir() or tmp_path / "folder",
        "afile": lambda: (tmp_path / "afile").write_text("hello\n", encoding="utf-8") and tmp_path / "afile",
        "garbage": lambda: (tmp_path / "garbage.bin").write_bytes(GARBAGE) and tmp_path / "garbage.bin",
        "empty_file": lambda: (tmp_path / "empty.txt").write_bytes(b"") or tmp_path / "empty.txt",
        "json_file": lambda: (tmp_path / "c.json").write_text('{"responses": []}\n') and tmp_path / "c.json",
        "set_garbage": lambda: _set(tmp_path / "set-garbage", GARBAGE),
        "set_empty_pddl": lambda: _set(tmp_path / "set-empty-pddl", b""),
        "old_set": lambda: _set(tmp_path / "old-set", b"(define (problem p) (:domain d))\n", manifest=True),
        "ro": lambda: _read_only(tmp_path, "ro", with_cache=False),
        "ro_cache": lambda: _read_only(tmp_path, "ro-cache", with_cache=True),
        "port": lambda: _busy_port(cleanup),
        **{name: _config_maker(tmp_path, name, text) for name, text in CONFIGS.items()},
    }

    def get(name: str) -> str:
        if name not in made:
            made[name] = str(makers[name]())
        return made[name]

    yield get
    for step in cleanup:
        step()
    for name in ("ro", "ro_cache"):
        if name in made:
            subprocess.run(["umount", "-l", made[name]], capture_output=True, check=False)
            Path(made[name]).chmod(0o755)


def _config_maker(root: Path, name: str, text: str) -> Callable[[], Path]:
    def make() -> Path:
        path = root / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return make


def _set(folder: Path, content: bytes, *, manifest: bool = False) -> Path:
    folder.mkdir()
    (folder / "instance-1.pddl").write_bytes(content)
    if manifest:
        (folder / "manifest.jsonl").write_text(json.dumps({"id": "instance-1", "file": "instance-1.pddl"}) + "\n")
    return folder


def fill(texts: list[str] | tuple[str, ...], place: Callable[[str], str]) -> list[str]:
    """Put the inputs named in ``{...}`` in place and substitute their paths."""
    names = {field for text in texts for _, field, _, _ in string.Formatter().parse(text) if field}
    values = {name: place(name) for name in sorted(names, key=lambda n: n != "tmp")}
    return [text.format(**values) for text in texts]


def case(ident: str, argv: str, needles: tuple[str, ...] | str, kind: str = "line", marks: object = ()) -> object:
    return pytest.param(argv.split(), (needles,) if isinstance(needles, str) else needles, kind, id=ident,
                        marks=marks)


NO_INSPECT = pytest.mark.skipif(importlib.util.find_spec("inspect_ai") is None, reason="inspect_ai not installed")
OUT = "--out {tmp}/out"

EXPORT = [
    case("missing-run", f"export {{tmp}}/absent --format csv {OUT}", "{tmp}/absent"),
    case("run-is-a-file", f"export {{afile}} --format csv {OUT}", "{afile}"),
    case("folder-not-a-run", f"export {{folder}} --format csv {OUT}", ("{folder}", "episodes.jsonl")),
    case("no-episodes-file", f"export {{run_no_episodes}} --format csv {OUT}", ("{run_no_episodes}", "episodes.jsonl")),
    case("no-manifest", f"export {{run_no_manifest}} --format csv {OUT}", ("{run_no_manifest}", "manifest.json")),
    case("manifest-not-json", f"export {{run_bad_manifest}} --format csv {OUT}", "{run_bad_manifest}/manifest.json:1"),
    case("manifest-garbage", f"export {{run_garbage_manifest}} --format csv {OUT}",
         "{run_garbage_manifest}/manifest.json"),
    case("episodes-garbage", f"export {{run_garbage}} --format csv {OUT}", "{run_garbage}/episodes.jsonl:2"),
    case("episodes-wrong-json", f"export {{run_wrong_json}} --format csv {OUT}", "{run_wrong_json}/episodes.jsonl:1"),
    case("episodes-not-objects", f"export {{run_list_json}} --format inspect {OUT}", "{run_list_json}/episodes.jsonl:1"),
    case("run-without-records", f"export {{run_empty}} --format csv {OUT}", "{run_empty}/episodes.jsonl"),
    case("run-without-records-inspect", f"export {{run_empty}} --format inspect {OUT}", "{run_empty}/episodes.jsonl"),
    case("unknown-format", f"export {{run}} --format xml {OUT}", ("--format", "xml")),
    case("missing-format", f"export {{run}} {OUT}", "--format", kind="usage"),
    case("out-is-a-file", "export {run} --format csv --out {afile}", "{afile}"),
    case("out-under-a-file", "export {run} --format csv --out {afile}/x", "{afile}/x"),
    case("out-under-a-file-inspect", "export {run} --format inspect --out {afile}/x", "{afile}/x", marks=NO_INSPECT),
    case("out-read-only", "export {run} --format csv --out {ro}", "{ro}"),
    case("out-in-read-only", "export {run} --format csv --out {ro}/out", "{ro}/out"),
]

SITE = "--out {tmp}/site"
VIEW = [
    case("missing-run", f"view {{tmp}}/absent {SITE}", "{tmp}/absent"),
    case("missing-run-served", "view {tmp}/absent", "{tmp}/absent"),
    case("run-is-a-file", f"view {{afile}} {SITE}", "{afile}"),
    case("folder-not-a-run", f"view {{folder}} {SITE}", ("{folder}", "episodes.jsonl")),
    case("second-run-missing", f"view {{run}} {{tmp}}/absent {SITE}", "{tmp}/absent"),
    case("manifest-not-json", f"view {{run_bad_manifest}} {SITE}", "{run_bad_manifest}/manifest.json:1"),
    case("episodes-garbage", f"view {{run_garbage}} {SITE}", "{run_garbage}/episodes.jsonl:2"),
    case("episodes-wrong-json", f"view {{run_wrong_json}} {SITE}", "{run_wrong_json}/episodes.jsonl:1"),
    case("run-without-records", f"view {{run_empty}} {SITE}", "{run_empty}/episodes.jsonl"),
    case("same-run-twice", f"view {{run}} {{run}} {SITE}", ("{run}", "twice")),
    case("no-run-given", f"view {SITE}", "run_dirs", kind="usage"),
    case("out-is-a-file", "view {run} --out {afile}", "{afile}"),
    case("out-under-a-file", "view {run} --out {afile}/x", "{afile}/x"),
    case("out-in-read-only", "view {run} --out {ro}/site", "{ro}/site"),
    case("port-negative", f"view {{run}} {SITE} --port -1", "--port", kind="usage"),
    case("port-too-big", f"view {{run}} {SITE} --port 70000", "--port", kind="usage"),
    case("port-not-a-number", f"view {{run}} {SITE} --port http", "--port", kind="usage"),
    case("port-in-use", f"view {{run}} {SITE} --port {{port}}", "--port {port}"),
    case("port-in-use-served", "view {run} --port {port}", "--port {port}"),
]

BENCH = "--out {tmp}/bench --model {model}"
SET = "--set blocksworld/3-5 --limit 1"
CRITIC_BENCH = [
    case("set-unknown-name", f"critic-bench --set nope/none {BENCH}", ("--set", "nope/none")),
    case("set-missing-folder", f"critic-bench --set {{tmp}}/absent {BENCH}", "{tmp}/absent"),
    case("set-is-a-file", f"critic-bench --set {{afile}} {BENCH}", "{afile}"),
    case("set-empty-folder", f"critic-bench --set {{folder}} {BENCH}", ("--set", "{folder}")),
    case("set-garbage-pddl", f"critic-bench --set {{set_garbage}} {BENCH}", "{set_garbage}/instance-1.pddl"),
    case("set-empty-pddl", f"critic-bench --set {{set_empty_pddl}} {BENCH}", "{set_empty_pddl}/instance-1.pddl:1"),
    case("missing-set", f"critic-bench {BENCH}", "--set", kind="usage"),
    case("missing-out", f"critic-bench {SET} --model {{model}}", "--out", kind="usage"),
    case("limit-zero", f"critic-bench {SET} {BENCH} --limit 0", "--limit", kind="usage"),
    case("limit-negative", f"critic-bench {SET} {BENCH} --limit -3", "--limit", kind="usage"),
    case("limit-not-a-number", f"critic-bench {SET} {BENCH} --limit few", "--limit", kind="usage"),
    case("model-unknown-spec", f"critic-bench {SET} --out {{tmp}}/bench --model nope:x", "nope:x"),
    case("model-without-key", f"critic-bench {SET} --out {{tmp}}/bench --model openai:gpt-4o", "OPENAI_API_KEY"),
    case("model-missing-gguf", f"critic-bench {SET} --out {{tmp}}/bench --model local:{{tmp}}/absent.gguf",
         "{tmp}/absent.gguf"),
    case("config-missing", f"critic-bench {SET} {BENCH} --config {{tmp}}/absent.yaml", "{tmp}/absent.yaml"),
    case("config-is-a-folder", f"critic-bench {SET} {BENCH} --config {{folder}}", "{folder}"),
    case("config-garbage", f"critic-bench {SET} {BENCH} --config {{garbage}}", "{garbage}"),
    case("config-not-a-mapping", f"critic-bench {SET} {BENCH} --config {{cfg_not_mapping}}", "{cfg_not_mapping}:1"),
    case("config-bad-yaml", f"critic-bench {SET} {BENCH} --config {{cfg_bad_yaml}}", "{cfg_bad_yaml}:"),
    case("config-unknown-key", f"critic-bench {SET} {BENCH} --config {{cfg_unknown_key}}",
         ("{cfg_unknown_key}", "bogus")),
    case("config-negative-concurrency", f"critic-bench {SET} {BENCH} --config {{cfg_negative_concurrency}}",
         ("{cfg_negative_concurrency}", "concurrency")),
    case("config-unknown-encoding", f"critic-bench {SET} {BENCH} --config {{cfg_unknown_encoding}}",
         ("{cfg_unknown_encoding}", "encoding")),
    case("config-unknown-domain", f"critic-bench {SET} {BENCH} --config {{cfg_unknown_domain}}",
         ("{cfg_unknown_domain}", "domain", "nope")),
    case("config-duplicate-condition", f"critic-bench {SET} {BENCH} --config {{cfg_duplicate_condition}}",
         ("{cfg_duplicate_condition}", "condition names")),
    case("out-is-a-file", f"critic-bench {SET} --out {{afile}} --model {{model}}", "{afile}"),
    case("out-under-a-file", f"critic-bench {SET} --out {{afile}}/x --model {{model}}", "{afile}/x"),
    case("out-in-read-only", f"critic-bench {SET} --out {{ro}}/bench --model {{model}}", "{ro}/bench"),
]

GEN = "problems generate --seed 1 --no-optimal --out {tmp}/set"
BW = f"{GEN} --blocks 3 --count 2"
LOGISTICS = f"{GEN} --domain logistics --count 2"
PROBLEMS_GENERATE = [
    case("count-negative", f"{GEN} --blocks 3 --count -1", "--count"),
    case("count-zero", f"{GEN} --blocks 3 --count 0", "--count"),
    case("count-not-a-number", f"{GEN} --blocks 3 --count many", "--count", kind="usage"),
    case("count-more-than-exist", f"{GEN} --blocks 2 --count 20", "--blocks 2"),
    case("seed-not-a-number", f"{BW} --seed x", "--seed", kind="usage"),
    case("missing-count", f"{GEN} --blocks 3", "--count", kind="usage"),
    case("missing-blocks", f"{GEN} --count 2", "--blocks"),
    case("blocks-zero", f"{GEN} --count 2 --blocks 0", "--blocks"),
    case("blocks-negative", f"{GEN} --count 2 --blocks -3", "--blocks"),
    case("blocks-empty-range", f"{GEN} --count 2 --blocks 5-3", "--blocks"),
    case("blocks-not-a-number", f"{GEN} --count 2 --blocks many", "--blocks"),
    case("blocks-too-big", f"{GEN} --count 2 --blocks 1000000", "--blocks"),
    case("unknown-domain", f"{BW} --domain nope", ("--domain", "nope")),
    case("unknown-goal", f"{BW} --goal nope", "goal style 'nope'"),
    case("weights-malformed", f"{BW} --weights 3=x", "--weights"),
    case("weights-negative", f"{BW} --weights 3=-1", "--weights"),
    case("weights-all-zero", f"{BW} --weights 3=0", "--weights"),
    case("weights-outside-blocks", f"{BW} --weights 3=1,9=1", "--weights"),
    case("weights-size-twice", f"{BW} --weights 3=1,3=2", "--weights"),
    case("size-malformed", f"{LOGISTICS} --size packages", "--size"),
    case("size-unknown-name", f"{LOGISTICS} --size wheels=2", "wheels"),
    case("size-twice", f"{LOGISTICS} --size packages=2 --size packages=3", ("--size", "packages")),
    case("size-zero", f"{LOGISTICS} --size packages=0", "--size packages"),
    case("min-length-negative", f"{BW} --min-length -1", "--min-length"),
    case("time-limit-negative", f"{BW} --min-length 3 --time-limit -1", "--time-limit"),
    case("time-limit-not-a-number", f"{BW} --time-limit soon", "--time-limit", kind="usage"),
    case("out-is-a-file", "problems generate --seed 1 --no-optimal --blocks 3 --count 2 --out {afile}", "{afile}"),
    case("out-under-a-file", "problems generate --seed 1 --no-optimal --blocks 3 --count 2 --out {afile}/x",
         "{afile}/x"),
    case("out-holds-a-set", "problems generate --seed 1 --no-optimal --blocks 3 --count 2 --out {old_set}",
         ("{old_set}", "--force")),
    case("out-in-read-only", "problems generate --seed 1 --no-optimal --blocks 3 --count 2 --out {ro}/set",
         "{ro}/set"),
]

CACHE = [
    *(case(f"{command}-is-a-folder", f"cache {command} --cache {{folder}}", "{folder}")
      for command in ("stats", "clear", "check", "repair")),
    *(case(f"{command}-under-a-file", f"cache {command} --cache {{afile}}/c.sqlite", "{afile}/c.sqlite")
      for command in ("stats", "clear", "check", "repair")),
    *(case(f"{command}-missing", f"cache {command} --cache {{tmp}}/absent/c.sqlite", "{tmp}/absent/c.sqlite")
      for command in ("clear", "check", "repair")),
    *(case(f"{command}-{name.replace('_', '-')}", f"cache {command} --cache {{{name}}}", f"{{{name}}}")
      for command in ("stats", "clear") for name in ("garbage", "json_file")),
    case("clear-read-only", "cache clear --cache {ro_cache}/c.sqlite", "{ro_cache}/c.sqlite"),
    case("repair-read-only", "cache repair --cache {ro_cache}/c.sqlite", "{ro_cache}/c.sqlite"),
    case("unknown-subcommand", "cache purge", "purge", kind="usage"),
]


def _walk(argv: list[str], needles: tuple[str, ...], kind: str, place: Callable[[str], str], tmp_path: Path,
          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("PLANNER_LOOP_CACHE", str(tmp_path / "never" / "default.sqlite"))

    def never_serve(self: ThreadingHTTPServer) -> None:
        raise AssertionError("the viewer started serving instead of refusing")

    monkeypatch.setattr(ThreadingHTTPServer, "serve_forever", never_serve)
    args = fill(argv, place)
    expected = fill(needles, place)
    before = snapshot(tmp_path)
    code, output = call_cli(args, capsys, monkeypatch)
    message = one_line(output) if kind == "line" else usage_box(output)
    assert code != 0, output
    if kind == "usage":
        assert code == 2, output
    for needle in expected:
        assert needle in message, (needle, message)
    assert snapshot(tmp_path) == before, "the refusal left files behind or changed some"


@pytest.mark.parametrize(("argv", "needles", "kind"), EXPORT)
def test_export_refusals(argv: list[str], needles: tuple[str, ...], kind: str, place: Callable[[str], str],
                         tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _walk(argv, needles, kind, place, tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize(("argv", "needles", "kind"), VIEW)
def test_view_refusals(argv: list[str], needles: tuple[str, ...], kind: str, place: Callable[[str], str],
                       tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _walk(argv, needles, kind, place, tmp_path, capsys, monkeypatch)


@pytest.fixture(scope="module")
def fake_critic() -> Iterator[str]:
    """Where a case that failed to refuse would send its critic calls (never a real model)."""
    with FakeOpenAIServer(lambda request: "Verdict: valid") as server:
        yield f"openai:fake@{server.base_url}"


@pytest.mark.parametrize(("argv", "needles", "kind"), CRITIC_BENCH)
def test_critic_bench_refusals(argv: list[str], needles: tuple[str, ...], kind: str, place: Callable[[str], str],
                               fake_critic: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [fake_critic if part == "{model}" else part for part in argv]
    _walk(argv, needles, kind, place, tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize(("argv", "needles", "kind"), PROBLEMS_GENERATE)
def test_problems_generate_refusals(argv: list[str], needles: tuple[str, ...], kind: str, place: Callable[[str], str],
                                    tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _walk(argv, needles, kind, place, tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize(("argv", "needles", "kind"), CACHE)
def test_cache_refusals(argv: list[str], needles: tuple[str, ...], kind: str, place: Callable[[str], str],
                        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _walk(argv, needles, kind, place, tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize("name", ["garbage", "json_file", "empty_file"])
def test_cache_check_reports_a_file_that_is_not_a_cache(name: str, place: Callable[[str], str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``cache check`` is a report, not a refusal: exit 1 (documented), the file named, the problem said, the
    file left alone."""
    path = place(name)
    before = snapshot(tmp_path)
    code, output = call_cli(["cache", "check", "--cache", path], capsys, monkeypatch)
    assert code == 1 and "Traceback" not in output, output
    assert f"cache:   {path}" in output and "problem: " in output and f"cache repair --cache {path}" in output
    assert snapshot(tmp_path) == before


def test_cache_stats_of_a_missing_file_says_so_and_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """No cache yet is not an error for ``stats`` (a fresh machine has none), but it must not create one."""
    path = tmp_path / "absent" / "c.sqlite"
    code, output = call_cli(["cache", "stats", "--cache", str(path)], capsys, monkeypatch)
    assert code == 0 and f"{path} (no cache file yet)" in output and "entries: 0" in output, output
    assert not (tmp_path / "absent").exists()
