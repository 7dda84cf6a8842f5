"""The main job (journeymap/pipeline.py): every output for every file, errors reported, pairs compared."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from helpers import JOURNEYS, copy_journey

from journeymap.pipeline import DRAWN_FORMATS, comparison_pairs, run_all
from journeymap.validation import load_journey

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


@needs_dot
@pytest.mark.exe
def test_main_job_writes_every_output_and_compares_an_overlay(tmp_path):
    src = tmp_path / "journeys"
    src.mkdir()
    copy_journey(JOURNEYS / "acme-cio.yaml", src / "acme-cio.yaml")
    (src / "acme-cio-faster-legal.yaml").write_text(
        "extends: acme-cio.yaml\njourney: {id: faster-legal, name: Faster legal}\n"
        "departments: [{id: legal, capacity: 3}]\n", encoding="utf-8")
    (src / "broken.yaml").write_text("journey: {name: x}\n", encoding="utf-8")
    out = tmp_path / "outputs"
    lines: list[str] = []
    code = run_all(sorted(str(p) for p in src.glob("*.yaml")), str(out), quick=True, log=lines.append)
    assert code == 1                                            # broken.yaml has errors; the others still ran
    assert any("broken.yaml:1:1: error [missing-key]" in line for line in lines)
    for name in ("acme-cio", "acme-cio-faster-legal"):
        folder = out / name
        for f in ("analysis.json", "analysis.txt", "simulation.json", "simulation.txt", "map.svg", "overview.png",
                  "blueprint.svg", "handoffs.svg", "cycle_time.png", "stage_breakdown.png", "utilisation.png"):
            assert (folder / f).stat().st_size > 0, f
        # a PNG only where one is used (issue 11): maps are read as SVG, slides take the overview and charts
        assert sorted(p.name for p in folder.glob("*.png")) == sorted(
            f"{name}.png" for name, formats in DRAWN_FORMATS.items() if "png" in formats)
        assert not (folder / "map.png").exists() and not (folder / "blueprint.png").exists()
    summary = json.loads((out / "acme-cio" / "simulation.json").read_text())
    assert summary["replications"] == 3 and summary["seed"] == 1
    report = json.loads((out / "acme-cio-faster-legal-compare.json").read_text())
    rows = {r["key"]: r for r in report["metrics"]}
    assert rows["waiting_time_mean"]["change"] < 0             # more lawyers: less queueing
    assert (out / "acme-cio-faster-legal-compare.html").read_text().startswith("<!DOCTYPE html>")
    assert not list(out.rglob(".journeymap-*"))                 # no temporary files left behind


def test_comparison_pairs_match_overlays_and_before_after_names():
    files = {str(JOURNEYS / n): load_journey(JOURNEYS / n) for n in ("insurance-before.yaml", "insurance-after.yaml")}
    assert comparison_pairs(files) == [("insurance", str(JOURNEYS / "insurance-before.yaml"),
                                        str(JOURNEYS / "insurance-after.yaml"))]


# --------------------------------------------------------------------------- a run is whole or not at all


def _journeys(tmp_path, *names):
    src = tmp_path / "journeys"
    src.mkdir()
    for name in names:
        copy_journey(JOURNEYS / "insurance-before.yaml", src / f"{name}.yaml")
    return src


def test_run_replaces_its_own_entries_and_keeps_the_users_files(tmp_path, monkeypatch):
    monkeypatch.setattr("journeymap.rendering.render_all", lambda *a, **k: [])   # no Graphviz needed
    src = _journeys(tmp_path, "a")
    (src / "broken.yaml").write_text("journey: {name: x}\n", encoding="utf-8")
    out = tmp_path / "outputs"
    (out / "a").mkdir(parents=True)
    (out / "a" / "stale.txt").write_text("from an earlier run")
    (out / "broken").mkdir()
    (out / "broken" / "simulation.json").write_text("from when broken.yaml was valid")
    (out / "notes.txt").write_text("the user's")
    lines: list[str] = []
    assert run_all(sorted(map(str, src.glob("*.yaml"))), str(out), quick=True, log=lines.append) == 1
    assert not (out / "a" / "stale.txt").exists()                 # the journey's folder is this run's, whole
    assert (out / "a" / "simulation.json").exists()
    assert sorted(p.name for p in (out / "broken").iterdir()) == ["INCOMPLETE"]   # stale results replaced by a note
    assert "has errors" in (out / "broken" / "INCOMPLETE").read_text()
    assert (out / "notes.txt").read_text() == "the user's"        # what the run does not make is left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journeys", "outputs"]   # no staging folder left
    assert not list(out.rglob(".journeymap-*")) and not (out / "INCOMPLETE").exists()


def test_run_into_a_new_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("journeymap.rendering.render_all", lambda *a, **k: [])
    src = _journeys(tmp_path, "a")
    out = tmp_path / "deep" / "outputs"
    assert run_all([str(src / "a.yaml")], str(out), quick=True, log=lambda _: None) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["outputs"]


def test_a_failing_journey_is_reported_and_the_others_go_on(tmp_path, monkeypatch):
    from journeymap.rendering import RenderError

    def render_all(journey, folder, **_):
        if journey.source.endswith("a.yaml"):
            raise RenderError("Graphviz failed to draw the SVG: not well-formed")
        return []

    monkeypatch.setattr("journeymap.rendering.render_all", render_all)
    src = _journeys(tmp_path, "a", "b")
    out = tmp_path / "outputs"
    lines: list[str] = []
    assert run_all(sorted(map(str, src.glob("*.yaml"))), str(out), quick=True, log=lines.append) == 3
    assert any("a.yaml: failed: Graphviz failed" in line for line in lines)
    assert (out / "b" / "simulation.json").exists()                # the next journey ran
    assert "Graphviz failed" in (out / "a" / "INCOMPLETE").read_text()
    assert (out / "a" / "simulation.json").exists()                # what it did write is kept, marked
    assert "1 failed" in lines[-1]


def test_an_interrupted_run_leaves_the_folder_untouched(tmp_path, monkeypatch):
    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("journeymap.rendering.render_all", interrupt)
    src = _journeys(tmp_path, "a")
    out = tmp_path / "outputs"
    (out / "a").mkdir(parents=True)
    (out / "a" / "simulation.json").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        run_all([str(src / "a.yaml")], str(out), quick=True, log=lambda _: None)
    assert [p.name for p in out.rglob("*")] == ["a", "simulation.json"]
    assert (out / "a" / "simulation.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journeys", "outputs"]


def test_run_refuses_an_output_folder_holding_its_inputs(tmp_path):
    from journeymap.errors import OutputIsInput

    src = _journeys(tmp_path, "a")
    with pytest.raises(OutputIsInput, match="holds the input file"):
        run_all([str(src / "a.yaml")], str(src), quick=True, log=lambda _: None)
    assert sorted(p.name for p in src.iterdir()) == ["a.yaml", "holidays"]  # the journey and the lists it reads


# --------------------------------------------------------------------------- drawing in worker processes


def _files(folder, *, volatile=re.compile(rb"<dc:date>[^<]*</dc:date>|\b[hmp][0-9a-f]{10}\b")):
    """Every file's bytes; matplotlib's SVG carry the time they were saved and random ids (their own
    choice, in one process as in several), so those are blanked."""
    return {p.relative_to(folder).as_posix(): volatile.sub(b"", p.read_bytes()) if p.suffix in (".svg", ".html")
            else p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@needs_dot
@pytest.mark.exe
def test_outputs_and_log_do_not_depend_on_the_number_of_drawing_workers(tmp_path):
    src = tmp_path / "journeys"
    src.mkdir()
    copy_journey(JOURNEYS / "acme-cio.yaml", src / "acme-cio.yaml")
    (src / "acme-cio-faster-legal.yaml").write_text(
        "extends: acme-cio.yaml\njourney: {id: faster-legal, name: Faster legal}\n"
        "departments: [{id: legal, capacity: 3}]\n", encoding="utf-8")
    files, logs = [], []
    for n in (1, 2):
        lines: list[str] = []
        out = tmp_path / f"out{n}"
        assert run_all(sorted(str(p) for p in src.glob("*.yaml")), str(out), quick=True, draw_workers=n,
                       log=lines.append) == 0
        files.append(_files(out))
        logs.append([line.replace(str(out), "OUT") for line in lines])
    assert files[0] == files[1]
    assert logs[0] == logs[1]
