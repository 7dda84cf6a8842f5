"""The main job (journeymap/pipeline.py): every output for every file, errors reported, pairs compared."""

from __future__ import annotations

import json
import shutil

import pytest

from journeymap.pipeline import comparison_pairs, run_all
from journeymap.validation import load_journey

from conftest import JOURNEYS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


@needs_dot
@pytest.mark.exe
def test_main_job_writes_every_output_and_compares_an_overlay(tmp_path):
    src = tmp_path / "journeys"
    src.mkdir()
    shutil.copy(JOURNEYS / "acme-cio.yaml", src / "acme-cio.yaml")
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
        for f in ("analysis.json", "analysis.txt", "simulation.json", "simulation.txt", "map.svg", "map.png",
                  "blueprint.svg", "handoffs.svg", "cycle_time.png", "stage_breakdown.png", "utilisation.png"):
            assert (folder / f).stat().st_size > 0, f
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
