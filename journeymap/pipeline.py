"""The main job: everything journeymap can say about a set of journeys, written into one folder.

``journeymap run journeys/ -o outputs/`` validates every file (reporting all
problems), then for each valid journey writes ``<name>/analysis.json`` and
``<name>/analysis.txt``. Every file is written atomically.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

from .analysis import analyze
from .graph import build_graph
from .output import write_json, write_text
from .problems import format_problem
from .tables import analysis_text
from .validation import check_file

__all__ = ["run_all"]


def run_all(files: Sequence[str], out_dir: str, *, seed: int = 1, quick: bool = False,
            log: Callable[[str], None] = print) -> int:
    """Run the main job; returns the exit code (1 when any file has errors)."""
    failed = 0
    for f in files:
        checked = check_file(f)
        for p in checked.problems:
            log(format_problem(p))
        if checked.journey is None:
            failed += 1
            continue
        name = os.path.splitext(os.path.basename(f))[0]
        folder = os.path.join(out_dir, name)
        report = analyze(build_graph(checked.journey))
        write_json(os.path.join(folder, "analysis.json"), report)
        write_text(os.path.join(folder, "analysis.txt"), analysis_text(report) + "\n")
        log(f"{f}: {report['touchpoints']} touchpoints, {report['handoffs']} handoffs "
            f"-> {folder}/")
    log(f"{len(files)} journey(s): {len(files) - failed} done, {failed} with errors; outputs in {out_dir}/")
    return 1 if failed else 0
