"""Every kind of refusal a user can trigger through the CLI, beyond configs and model specs (those are
in ``test_config_refusals.py``): one line naming the file (and the line, where there is one), the
command's documented exit code, no traceback.

Kinds walked: bad PDDL (``validate``, ``solve``), bad plan files (``validate``: exit 1, the plan is
reported invalid with the file or line named), bad price files (``run --prices``), files that are not
PlanBench results (``planbench rescore``), folders that are not runs (``report``, ``show``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli_refusals import call_cli, one_line
from planner_loop.resources import builtin_dir

DOMAIN = builtin_dir("domains") / "blocksworld" / "domain.pddl"
PROBLEM = builtin_dir("problems") / "blocksworld" / "3-5" / "instance-1.pddl"
GOOD_PROBLEM = "(define (problem x) (:domain blocksworld-4ops)\n (:objects a b)\n (:init (clear a) (clear b) (handempty)\n  (ontable a) (ontable b))\n (:goal (on a b)))\n"
DOMAIN_TEXT = DOMAIN.read_text(encoding="utf-8")




# (case, which file is bad, its content, "file:line" suffix the message must hold, words it must hold)
PDDL_CASES: list[tuple[str, str, bytes, str, str]] = [
    ("undeclared-predicate", "problem", GOOD_PROBLEM.replace("(clear b)", "(ghost b)").encode(), ":3:",
     "undeclared predicate 'ghost'"),
    ("undeclared-object", "problem", GOOD_PROBLEM.replace("(ontable b)", "(ontable z)").encode(), ":4:",
     "undeclared object 'z'"),
    ("arity", "problem", GOOD_PROBLEM.replace("(on a b)", "(on a)").encode(), ":5:", "takes 2 argument(s)"),
    ("wrong-domain", "problem", GOOD_PROBLEM.replace("blocksworld-4ops", "gripper").encode(), ":1:", "domain 'gripper'"),
    ("misspelt-keyword", "problem", GOOD_PROBLEM.replace(":objects", ":objectsx").encode(), ":2:",
     "unknown keyword :objectsx"),
    ("syntax", "problem", GOOD_PROBLEM.replace("(on a b)))", "(on a b))").encode(), ":", "end of file"),
    ("binary", "problem", b"\x89PNG\r\n\x1a\n\xff", "", "cannot read file"),
    ("requirement", "domain", DOMAIN_TEXT.replace("(:requirements :strips)", "(:requirements :strips :adl)").encode(),
     ":5:", "unsupported requirement :adl"),
    ("disjunction", "domain", DOMAIN_TEXT.replace("(and (clear ?ob) (ontable ?ob) (handempty))",
                                                  "(or (clear ?ob) (ontable ?ob))").encode(), ":", "disjunction"),
    ("predicate-twice", "domain", DOMAIN_TEXT.replace("(handempty)\n", "(handempty)\n    (handempty)\n", 1).encode(),
     ":", "predicate 'handempty' declared twice"),
    ("parameter-twice", "domain", DOMAIN_TEXT.replace("(?ob ?underob)", "(?ob ?u ?u ?underob)", 1).encode(), ":",
     "parameter ?u declared twice"),
    ("glued-variables", "domain", DOMAIN_TEXT.replace("(?ob ?underob)", "(?ob?underob)", 1).encode(), ":",
     "'?' must start a variable name"),
    ("undeclared-in-action", "domain", DOMAIN_TEXT.replace("(holding ?ob)\n", "(gripping ?ob)\n", 1).encode(), ":",
     "undeclared predicate 'gripping'"),
]


@pytest.mark.parametrize("command", ["validate", "solve"])
@pytest.mark.parametrize(("case", "which", "content", "where", "words"), PDDL_CASES, ids=[c[0] for c in PDDL_CASES])
def test_bad_pddl_names_file_and_line(command: str, case: str, which: str, content: bytes, where: str, words: str,
                                      tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    domain, problem = tmp_path / "domain.pddl", tmp_path / "problem.pddl"
    domain.write_text(DOMAIN_TEXT, encoding="utf-8")
    problem.write_text(GOOD_PROBLEM, encoding="utf-8")
    bad = problem if which == "problem" else domain
    bad.write_bytes(content)
    plan = tmp_path / "p.plan"
    plan.write_text("(pick-up a)\n(stack a b)\n", encoding="utf-8")
    args = [command, str(domain), str(problem)] + ([str(plan)] if command == "validate" else [])
    code, output = call_cli(args, capsys, monkeypatch)
    line = one_line(output)
    assert code == 2
    assert f"{bad}{where}" in line, line
    if where == ":":  # a line number must follow the file name
        assert line.split(f"{bad}:", 1)[1].split(":", 1)[0].isdigit(), line
    assert words in line, line


def test_missing_pddl_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = call_cli(["solve", str(DOMAIN), str(tmp_path / "absent.pddl")], capsys, monkeypatch)
    assert code == 2
    assert str(tmp_path / "absent.pddl") in one_line(output)


@pytest.mark.parametrize(("content", "words"), [
    (b"\xff\xfe\x00(pick-up a)\n", "cannot read plan"),
    (b"(pick-up a)\n(stack a b\n", "line 2"),
    (b"(pick-up a)\n(fly a b)\n", "fly"),
])
def test_bad_plan_file_is_invalid_not_a_crash(content: bytes, words: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    problem = tmp_path / "problem.pddl"
    problem.write_text(GOOD_PROBLEM, encoding="utf-8")
    plan = tmp_path / "bad.plan"
    plan.write_bytes(content)
    code, output = call_cli(["validate", "--all-errors", str(DOMAIN), str(problem), str(plan)], capsys, monkeypatch)
    assert code == 1  # documented: 1 when any plan is invalid; 2 is kept for unusable domain/problem
    assert "Traceback" not in output
    assert "INVALID" in output and "bad.plan" in output
    assert words in output, output


CONFIG = ("name: t\ninstances: {set: blocksworld/3-5, limit: 1}\nconditions:\n  - {name: c, system: llm+sound}\n"
          'generator: {model: "openai:gpt-4o"}\n')


@pytest.mark.parametrize(("content", "where", "words"), [
    (b"gpt-x: {input: abc, output: 1}\n", ":1:", "input must be a number"),
    (b"gpt-x: {input: 1, output: 1}\ngpt-x: {input: 2, output: 2}\n", ":2:", "gpt-x"),
    (b"- a\n- b\n", ":1:", ""),
    (b"\xff\xfe\x00", "", ""),
])
def test_bad_price_file_names_file_and_line(content: bytes, where: str, words: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    config, prices = tmp_path / "c.yaml", tmp_path / "prices.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    prices.write_bytes(content)
    out = tmp_path / "run"
    code, output = call_cli(["run", str(config), "--prices", str(prices), "--dry-run", "--out", str(out)],
                            capsys, monkeypatch)
    line = one_line(output)
    assert code == 2
    assert f"{prices}{where}" in line and words in line, line
    assert not out.exists()


@pytest.mark.parametrize(("content", "words"), [
    (b"nope", "not JSON"),
    (b'{"x": 1}', "no 'instances' list"),
    (b'{"instances": [{"foo": 1}]}', "not a PlanBench result file"),
    (b'{"instances": [{"instance_id": 1, "llm_raw_response": "x", "llm_correct": true}, 3]}', "instance 2"),
    (b"[" * 100_000 + b"]" * 100_000, "not"),
    (b"\xff\xfe\x00", "not JSON"),
])
def test_not_a_planbench_file_is_named(content: bytes, words: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "results.json"
    results.write_bytes(content)
    code, output = call_cli(["planbench", "rescore", str(results), "--instances", str(tmp_path)], capsys, monkeypatch)
    line = one_line(output)
    assert code == 2
    assert str(results) in line and words in line, line


@pytest.mark.parametrize("args", [["report", "{dir}", "--out", "{tmp}/report"], ["show", "{dir}"]])
@pytest.mark.parametrize("setup", ["empty", "missing", "file"])
def test_not_a_run_directory_is_named(args: list[str], setup: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "notarun"
    if setup == "empty":
        folder.mkdir()
    elif setup == "file":
        folder.write_text("hello\n", encoding="utf-8")
    argv = [a.format(dir=folder, tmp=tmp_path) for a in args]
    code, output = call_cli(argv, capsys, monkeypatch)
    line = one_line(output)
    assert code == 2
    assert str(folder) in line or "notarun" in line, line
    assert not (tmp_path / "report").exists()


def test_report_out_under_a_file_is_one_line_and_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    run = Path(__file__).parent / "fixtures" / "runs" / "v1" / "run"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    code, output = call_cli(["report", str(run), "--out", str(blocker / "report")], capsys, monkeypatch)
    line = one_line(output)
    assert code == 2 and str(blocker) in line and "not a folder" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"
