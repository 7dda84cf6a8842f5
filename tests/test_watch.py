"""Re-rendering on save (journeymap/watch.py)."""

from __future__ import annotations

import os

from journeymap.watch import folder_files, watch


def test_watch_runs_now_and_after_each_change(tmp_path):
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    calls = []
    polls = []

    def sleep(_):
        polls.append(1)
        if len(polls) == 2:                      # the designer saves after the second poll
            path.write_text("a longer text", encoding="utf-8")
            os.utime(path, (1, 1))

    n = watch(lambda: [str(path)], lambda: calls.append(path.read_text()), rounds=5, sleep=sleep)
    assert n == 2 and calls == ["a", "a longer text"]


def test_a_deleted_file_counts_as_a_change_and_does_not_crash(tmp_path):
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    calls = []
    watch(lambda: [str(path)], lambda: calls.append(1), rounds=3,
          sleep=lambda _: path.exists() and path.unlink())
    assert len(calls) == 2


def test_folder_files_include_the_neighbours(tmp_path):
    for name in ("base.yaml", "after.yaml", "notes.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    files = folder_files(str(tmp_path / "after.yaml"))
    assert files[0].endswith("after.yaml") and sum(f.endswith("base.yaml") for f in files) == 1
    assert not any(f.endswith(".txt") for f in files)
