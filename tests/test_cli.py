"""The validate, analyze and schema commands: exit codes and output formats."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ALL_EXAMPLES, DATA, EXAMPLES, ROOT

from journeymap.cli import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main

PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning) "
                          r"\[(?P<rule>[a-z-]+)\] (?P<message>.+)$")
BAD = DATA / "dozen-mistakes.yaml"
CIO = ROOT / "journeys" / "acme-cio.yaml"


def test_validate_examples_exit_0(capsys):
    assert main(["validate", *map(str, EXAMPLES)]) == EXIT_OK
    out, err = capsys.readouterr()
    assert f"{len(EXAMPLES)} file(s) checked: {len(EXAMPLES)} valid, 0 with errors; 0 error(s)" in err
    for line in out.splitlines():     # warnings, if any, in the located format, hints indented
        assert PROBLEM_LINE.match(line) or line.startswith("    hint: "), line


def test_validate_a_folder_expands_to_its_yaml_files(capsys):
    assert main(["validate", str(ROOT / "journeys")]) == EXIT_OK
    assert f"{len(ALL_EXAMPLES)} file(s) checked" in capsys.readouterr().err


def test_validate_bad_file_exit_1_with_located_errors(capsys):
    assert main(["validate", str(BAD)]) == EXIT_INVALID
    out, _ = capsys.readouterr()
    problems = [PROBLEM_LINE.match(line) for line in out.splitlines() if not line.startswith("    hint: ")]
    assert all(problems), out
    assert {m["file"] for m in problems} == {str(BAD)}
    first = problems[0]
    assert (first["line"], first["column"], first["severity"], first["rule"]) == ("6", "3", "error", "unknown-key")
    assert first["message"] == "unknown key 'descripton' (did you mean 'description'?)"


def test_validate_json(capsys):
    assert main(["validate", "--json", str(BAD), str(CIO)]) == EXIT_INVALID
    data = json.loads(capsys.readouterr().out)
    assert data["files"][str(CIO)]["valid"] is True
    assert data["files"][str(BAD)]["valid"] is False
    assert data["errors"] >= 12
    p = data["files"][str(BAD)]["problems"][0]
    assert set(p) == {"file", "line", "column", "severity", "rule", "message", "hint"}


def test_validate_strict_and_no_lint(capsys, tmp_path):
    smelly = tmp_path / "smelly.yaml"
    smelly.write_text("journey: {name: T}\npersona: {id: p}\nstages: [a]\nsteps:\n"
                      "  - {id: s, stage: a, owner: customer, duration: 1h}\n", encoding="utf-8")
    assert main(["validate", str(smelly)]) == EXIT_OK                  # warnings only
    assert main(["validate", "--strict", str(smelly)]) == EXIT_INVALID  # warnings fail with --strict
    capsys.readouterr()
    assert main(["validate", "--no-lint", "--strict", str(smelly)]) == EXIT_OK
    assert capsys.readouterr().out == ""


def test_validate_missing_file_is_an_error_not_a_traceback(capsys, tmp_path):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == EXIT_INVALID
    assert "1:1: error [file] file not found" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys, tmp_path):
    assert main(["validate"]) == EXIT_USAGE                                   # no FILE
    assert main(["analyze", str(CIO), "--bogus"]) == EXIT_USAGE
    assert main(["simulate", str(CIO), "--cases", "0"]) == EXIT_USAGE        # counts are checked by the parser
    assert main(["validate", str(tmp_path)]) == EXIT_USAGE                    # a folder with no journey files
    assert "no journey files" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_analyze_text(capsys):
    assert main(["analyze", str(CIO)]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"== {CIO}\nJourney acme-cio (persona cio):")
    for heading in ("Steps per lane:", "Handoffs from (rows) to (columns):", "Rework loops:", "Most visited steps:"):
        assert heading in out


def test_analyze_json_keys(capsys):
    assert main(["analyze", "--json", str(CIO)]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    for key in ("touchpoints", "handoffs", "expected_handoffs", "handoff_matrix", "stages", "expected_visits",
                "expected_touch_time", "ping_pongs", "longest_backstage_chain", "rework_loops", "steps_per_lane"):
        assert key in data, key
    assert isinstance(data["touchpoints"], int) and isinstance(data["handoffs"], int)


def test_analyze_several_files_json_is_keyed_by_file(capsys):
    assert main(["analyze", "--json", *map(str, EXAMPLES[:2])]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    if len(EXAMPLES) >= 2:
        assert set(data) == {str(p) for p in EXAMPLES[:2]}


def test_analyze_invalid_file_exit_1_with_every_problem(capsys):
    assert main(["analyze", str(BAD)]) == EXIT_INVALID
    _, err = capsys.readouterr()
    located = [line for line in err.splitlines() if PROBLEM_LINE.match(line)]
    assert len(located) >= 12
    assert "Traceback" not in err


def test_schema_prints_json(capsys):
    assert main(["schema"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["title"] == "journeymap journey"


def test_schema_to_a_file(tmp_path, capsys):
    target = tmp_path / "schema.json"
    assert main(["schema", "-o", str(target)]) == EXIT_OK
    assert json.loads(target.read_text())["$schema"].endswith("2020-12/schema")


def test_schema_to_an_unwritable_place_exit_3(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["schema", "-o", str(blocker / "schema.json")]) == EXIT_ENVIRONMENT
    assert capsys.readouterr().err.startswith("journeymap: ")


def test_every_command_help_has_an_example(capsys):
    for command in ("validate", "analyze", "schema", "run", "simulate", "render", "compare"):
        assert main([command, "--help"]) == 0
        assert "Example:\n  journeymap " + command in capsys.readouterr().out


def test_python_dash_m_journeymap():
    result = subprocess.run([sys.executable, "-m", "journeymap", "validate", str(CIO)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1 file(s) checked: 1 valid" in result.stderr


# --------------------------------------------------------------------------- messages


def test_compare_help_shows_one_percent_sign(capsys):
    assert main(["compare", "--help"]) == 0      # the description is printed as written...
    out = capsys.readouterr().out
    assert "95% CI" in out and "%%" not in out
    assert main(["--help"]) == 0                 # ...and the command list %-formats the short help
    out = capsys.readouterr().out
    assert "95% CI" in out and "%%" not in out


# --------------------------------------------------------------------------- inputs are read-only

INSURANCE = ROOT / "journeys" / "insurance-before.yaml"
INSURANCE_AFTER = ROOT / "journeys" / "insurance-after.yaml"
QUICK = ["--cases", "5", "--replications", "2"]


@pytest.fixture
def inputs(tmp_path):
    """A folder of inputs: two journeys, a two-level overlay chain, an account with its personas, a symlink."""
    shutil.copy(INSURANCE, tmp_path / "a.yaml")
    shutil.copy(INSURANCE_AFTER, tmp_path / "b.yaml")
    (tmp_path / "o1.yaml").write_text("extends: a.yaml\njourney: {id: o1, name: O1}\n", encoding="utf-8")
    (tmp_path / "o2.yaml").write_text("extends: o1.yaml\njourney: {id: o2, name: O2}\n", encoding="utf-8")
    acc = tmp_path / "acc"
    acc.mkdir()
    for p in (ROOT / "journeys").glob("acme-*.yaml"):
        shutil.copy(p, acc / p.name)
    (tmp_path / "link.svg").symlink_to(tmp_path / "a.yaml")
    return tmp_path


def _snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv", [
    ["render", "{d}/a.yaml", "-o", "{d}/a.yaml", "--format", "dot"],     # the reproduction
    ["render", "{d}/a.yaml", "-o", "{d}/a.yaml"],                        # no format: the extension is not one
    ["render", "{d}/a.yaml", "-o", "{d}/link.svg"],                      # a symlink to the input
    ["render", "{d}/o2.yaml", "-o", "{d}/a.yaml", "--format", "dot"],    # the base of a base (extends, twice)
    ["render", "{d}/acc/acme-account.yaml", "-o", "{d}/acc/acme-cio.yaml", "--format", "dot"],  # a persona file
    ["render", "{d}/a.yaml", "--all", "-o", "{d}/a.yaml"],               # the folder of --all is the input
    ["simulate", "{d}/a.yaml", "--events", "{d}/a.yaml", *QUICK],        # the reproduction
    ["simulate", "{d}/o1.yaml", "--events", "{d}/link.svg", *QUICK],     # the base, through a symlink
    ["compare", "{d}/a.yaml", "{d}/b.yaml", "--report", "{d}/a.yaml", *QUICK],       # the reproduction
    ["compare", "{d}/a.yaml", "{d}/b.yaml", "--json-output", "{d}/a.yaml", *QUICK],  # the reproduction
    ["compare", "{d}/a.yaml", "{d}/o2.yaml", "--report", "{d}/o1.yaml", *QUICK],     # a base of the after design
    ["run", "{d}", "-o", "{d}", "--quick"],                              # run journeys/ -o journeys/
    ["run", "{d}/a.yaml", "-o", "{d}/..", "--quick"],                    # a folder above the inputs
    ["run", "{d}/acc/acme-account.yaml", "-o", "{d}/acc", "--quick"],    # the personas live in the output folder
])
def test_an_output_that_is_an_input_is_refused_before_anything_runs(inputs, argv, capsys):
    before = _snapshot(inputs)
    assert main([a.format(d=inputs) for a in argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "never writes" in err and "Traceback" not in err
    assert _snapshot(inputs) == before                   # nothing written, nothing replaced


def test_render_results_file_is_an_input_too(inputs, tmp_path, capsys):
    results = inputs / "results.json"
    results.write_text(json.dumps({"case": {}}), encoding="utf-8")
    assert main(["render", str(inputs / "a.yaml"), "--results", str(results), "-o", str(results),
                 "--format", "dot"]) == EXIT_USAGE


def test_an_output_beside_the_inputs_is_fine(inputs, capsys):
    assert main(["render", str(inputs / "o2.yaml"), "-o", str(inputs / "o2.dot")]) == EXIT_OK
    assert "digraph" in (inputs / "o2.dot").read_text()


# --------------------------------------------------------------------------- signals

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the workers")


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.split("/")[2]))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(condition, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _journeymap(*argv: str, cwd) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "journeymap", *argv], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@linux_only
@pytest.mark.parametrize("signum, code", [
    (signal.SIGTERM, 143),   # the reproduction: both workers were orphaned for ever
    (signal.SIGINT, 130),    # Ctrl-C, as before
])
def test_a_signal_stops_the_workers_too(tmp_path, signum, code):
    proc = _journeymap("simulate", str(INSURANCE), "--cases", "1000000", "--replications", "4", "--workers", "2",
                       "--events", "events.csv", "--no-progress", cwd=tmp_path)
    workers: list[int] = []
    try:
        assert _wait_for(lambda: len(workers.extend(_children(proc.pid)) or set(workers)) >= 2), "no workers started"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err
        assert "Traceback" not in err and "nothing half-written" in err
        assert _wait_for(lambda: not any(_alive(w) for w in workers), timeout=10), "a worker outlived the command"
        assert list(tmp_path.iterdir()) == []                 # no partial event log, no temporary file
    finally:
        proc.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


@linux_only
def test_workers_die_with_a_killed_parent(tmp_path):
    proc = _journeymap("simulate", str(INSURANCE), "--cases", "1000000", "--replications", "4", "--workers", "2",
                       "--no-progress", cwd=tmp_path)
    workers: list[int] = []
    try:
        assert _wait_for(lambda: len(workers.extend(_children(proc.pid)) or set(workers)) >= 2), "no workers started"
        proc.kill()                              # SIGKILL: no handler runs in the parent
        proc.communicate(timeout=30)
        assert _wait_for(lambda: not any(_alive(w) for w in workers), timeout=10), "a worker outlived its parent"
    finally:
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


@linux_only
def test_an_interrupted_run_leaves_the_output_folder_as_it_was(tmp_path):
    src = tmp_path / "journeys"
    src.mkdir()
    for name in ("a", "b", "c"):
        shutil.copy(INSURANCE, src / f"{name}.yaml")
    out = tmp_path / "outputs"
    (out / "a").mkdir(parents=True)
    (out / "a" / "simulation.json").write_text("old results\n")
    (out / "mine.txt").write_text("a file of the user's\n")
    before = _snapshot(out)
    proc = _journeymap("run", str(src), "-o", str(out), cwd=tmp_path)
    try:
        # wait until this run has written something, wherever it writes
        assert _wait_for(lambda: any(tmp_path.rglob("analysis.json"))), "the run wrote nothing"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert _snapshot(out) == before                          # no mix of old and new results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journeys", "outputs"]   # no staging folder left


def test_run_goes_on_past_a_journey_graphviz_cannot_draw(tmp_path, capsys):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is not installed")
    src = tmp_path / "journeys"
    src.mkdir()
    text = INSURANCE.read_text(encoding="utf-8")
    assert "    name: Apply\n" in text
    (src / "a-bad.yaml").write_text(text.replace("    name: Apply\n", '    name: "\\uFFFE Apply"\n'), encoding="utf-8")
    shutil.copy(CIO, src / "b-good.yaml")
    out = tmp_path / "out"
    code = main(["run", str(src), "-o", str(out), "--quick"])
    assert code in (EXIT_INVALID, EXIT_ENVIRONMENT)          # refused at validation, or failed to draw
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (out / "b-good" / "map.svg").stat().st_size > 0  # the later journey was processed
    assert (out / "a-bad" / "INCOMPLETE").exists()           # the failed one says so where its results would be


def test_render_checks_its_output_before_it_simulates(inputs, monkeypatch, capsys):
    def never(*a, **k):
        raise AssertionError("simulated before the output was checked")

    monkeypatch.setattr("journeymap.simulation.simulate", never)
    assert main(["render", str(inputs / "a.yaml"), "--simulate", "-o", str(inputs / "a.yaml"),
                 "--format", "dot"]) == EXIT_USAGE
    (inputs / "map.png").symlink_to(inputs / "a.yaml")              # --all writes map.png: into the journey
    before = _snapshot(inputs)
    assert main(["render", str(inputs / "a.yaml"), "--simulate", "--all", "-o", str(inputs)]) == EXIT_USAGE
    assert _snapshot(inputs) == before


# --------------------------------------------------------------------------- size limits


def test_render_refuses_a_whole_map_above_the_limit_and_points_at_stages(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("journeymap.rendering.output.MAX_RENDER_STEPS", 10)    # acme-cio has 14 steps
    assert main(["render", str(CIO), "-o", str(tmp_path / "m.dot")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "14 steps are too many to draw as one map (the limit is 10" in err and "--stage" in err
    assert "--view handoffs" in err
    assert not (tmp_path / "m.dot").exists()
    assert main(["render", str(CIO), "--stage", "evaluate", "-o", str(tmp_path / "e.dot")]) == EXIT_OK  # 5 steps
    assert main(["render", str(CIO), "--view", "handoffs", "-o", str(tmp_path / "h.dot")]) == EXIT_OK   # departments


def test_simulate_refuses_a_journey_above_the_limit(monkeypatch, capsys):
    monkeypatch.setattr("journeymap.simulation.runner.MAX_SIMULATED_STEPS", 10)
    assert main(["simulate", str(CIO), "--no-progress"]) == EXIT_USAGE
    assert "14 steps are too many to simulate (the limit is 10" in capsys.readouterr().err
