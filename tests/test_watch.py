"""Re-rendering on save (journeymap/watch.py), with real file-system events."""

from __future__ import annotations

import os
import threading
import time

import pytest

from journeymap.watch import folder_files, watch, watched_files


class Watching:
    """``watch`` in a thread, counting its calls; the test edits files and waits for the calls it expects."""

    def __init__(self, paths, action=None):
        self.calls: list[float] = []
        self.stop = threading.Event()
        self._action = action

        def run() -> None:
            self.returned = watch(paths, self._call, stop_event=self.stop)

        self.thread = threading.Thread(target=run, daemon=True)

    def _call(self) -> None:
        if self._action:
            self._action()
        self.calls.append(time.monotonic())

    def __enter__(self):
        self.thread.start()
        self.wait_for(1)
        time.sleep(0.3)          # the watcher is set up just after the first call
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "watch did not stop when asked"

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.calls) >= n:
                return True
            time.sleep(0.02)
        return False


def test_watch_runs_now_and_after_each_change(tmp_path):
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    seen = []
    with Watching(lambda: [str(path)], lambda: seen.append(path.read_text())) as w:
        path.write_text("a longer text", encoding="utf-8")
        assert w.wait_for(2), "no run after the save"
        time.sleep(0.5)
        path.write_text("the third text", encoding="utf-8")
        assert w.wait_for(3), "no run after the second save"
    assert seen == ["a", "a longer text", "the third text"]
    assert w.returned == 3


def test_a_save_by_rename_is_seen(tmp_path):
    """Editors that write a new file and rename it over the old one (vim, many IDEs)."""
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    with Watching(lambda: [str(path)]) as w:
        (tmp_path / ".j.yaml.swp").write_text("b", encoding="utf-8")
        os.replace(tmp_path / ".j.yaml.swp", path)
        assert w.wait_for(2)


def test_an_extends_parent_in_another_folder_re_renders(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "designs").mkdir()
    base = tmp_path / "base" / "before.yaml"
    base.write_text("journey: {id: b}\n", encoding="utf-8")
    after = tmp_path / "designs" / "after.yaml"
    after.write_text("extends: ../base/before.yaml\n", encoding="utf-8")
    assert os.path.normpath(str(base)) in watched_files(str(after))
    with Watching(lambda: watched_files(str(after))) as w:
        base.write_text("journey: {id: b, name: Changed}\n", encoding="utf-8")
        assert w.wait_for(2), "a change to the base did not re-render the overlay"


def test_a_parent_named_later_is_watched_from_then_on(tmp_path):
    (tmp_path / "base").mkdir()
    base = tmp_path / "base" / "before.yaml"
    base.write_text("journey: {id: b}\n", encoding="utf-8")
    after = tmp_path / "after.yaml"
    after.write_text("journey: {id: a}\n", encoding="utf-8")
    with Watching(lambda: watched_files(str(after))) as w:
        after.write_text("extends: base/before.yaml\n", encoding="utf-8")   # the designer adds extends:
        assert w.wait_for(2)
        time.sleep(0.5)
        base.write_text("journey: {id: b, name: Changed}\n", encoding="utf-8")
        assert w.wait_for(3), "the new base is not watched"


def test_several_writes_of_one_save_are_one_run(tmp_path):
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    with Watching(lambda: [str(path)]) as w:
        for i in range(5):                   # an editor writing a save in several pieces
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"part {i}\n")
            time.sleep(0.02)
        assert w.wait_for(2)
        time.sleep(1.0)
    assert len(w.calls) == 2


def test_other_files_in_the_folder_do_not_count(tmp_path):
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    with Watching(lambda: [str(path)]) as w:
        (tmp_path / "notes.txt").write_text("not a journey", encoding="utf-8")
        (tmp_path / "map.svg").write_text("<svg/>", encoding="utf-8")   # what the render writes
        time.sleep(1.0)
    assert len(w.calls) == 1


def test_a_deleted_file_counts_as_a_change_and_does_not_crash(tmp_path):
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    with Watching(lambda: [str(path)]) as w:
        path.unlink()
        assert w.wait_for(2)
        time.sleep(0.3)
        path.write_text("back", encoding="utf-8")
        assert w.wait_for(3), "a file written again after a delete is not watched"


def test_an_action_that_raises_stops_the_watch(tmp_path):
    """The CLI catches what it expects (a journey with errors); anything else is not swallowed."""
    path = tmp_path / "j.yaml"
    path.write_text("a", encoding="utf-8")
    with pytest.raises(RuntimeError):
        watch(lambda: [str(path)], lambda: (_ for _ in ()).throw(RuntimeError("boom")))


def test_folder_files_include_the_neighbours(tmp_path):
    for name in ("base.yaml", "after.yaml", "notes.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    files = folder_files(str(tmp_path / "after.yaml"))
    assert files[0].endswith("after.yaml") and sum(f.endswith("base.yaml") for f in files) == 1
    assert not any(f.endswith(".txt") for f in files)
