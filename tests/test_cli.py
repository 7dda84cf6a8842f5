"""The validate, analyze and schema commands: exit codes and output formats."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from journeymap.cli import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from conftest import ALL_EXAMPLES, DATA, EXAMPLES, ROOT

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
