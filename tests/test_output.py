"""The one writer (journeymap/output.py): inputs are never overwritten, a folder of results is whole or absent."""

from __future__ import annotations

import os

import pytest

from journeymap.errors import OutputIsInput
from journeymap.output import INCOMPLETE, input_files, refuse_inputs, staged_folder, write_text


def test_input_files_follow_extends_and_personas(tmp_path):
    (tmp_path / "base.yaml").write_text("journey: {id: b}\n")
    (tmp_path / "mid.yaml").write_text("extends: base.yaml\n")
    (tmp_path / "top.yaml").write_text("extends: mid.yaml\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.yaml").write_text("extends: ../top.yaml\n")
    (tmp_path / "acc.yaml").write_text("account: {id: a}\npersonas: [{journey: sub/p.yaml}, {journey: base.yaml}]\n")
    found = input_files(str(tmp_path / "acc.yaml"))
    assert found == [os.path.normpath(str(tmp_path / n)) for n in
                     ("acc.yaml", "sub/p.yaml", "top.yaml", "mid.yaml", "base.yaml")]


def test_input_files_read_a_key_spelled_with_escapes(tmp_path):
    (tmp_path / "base.yaml").write_text("journey: {id: b}\n")
    (tmp_path / "sly.yaml").write_text('"ext\\x65nds": base.yaml\n')    # the loader reads this as extends
    assert input_files(str(tmp_path / "sly.yaml"))[-1] == os.path.normpath(str(tmp_path / "base.yaml"))


def test_input_files_stop_at_a_cycle_and_never_open_a_fifo(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    assert len(input_files(str(tmp_path / "a.yaml"))) == 2
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.yaml")
        (tmp_path / "c.yaml").write_text("extends: fifo.yaml\n")
        assert input_files(str(tmp_path / "c.yaml"))[-1].endswith("fifo.yaml")   # listed, not read (no hang)


@pytest.mark.parametrize("make_output", [
    lambda d: d / "in.yaml",                                        # the same path
    lambda d: d / "sub" / ".." / "in.yaml",                         # another spelling of it
    lambda d: (d / "link.svg").symlink_to(d / "in.yaml") or d / "link.svg",   # a symlink
    lambda d: os.link(d / "in.yaml", d / "hard.svg") or d / "hard.svg",       # a hard link
])
def test_refuse_inputs_sees_through_paths(tmp_path, make_output):
    (tmp_path / "sub").mkdir()
    (tmp_path / "in.yaml").write_text("x")
    with pytest.raises(OutputIsInput, match="never writes"):
        refuse_inputs([str(tmp_path / "in.yaml")], files=[str(make_output(tmp_path))])


def test_refuse_inputs_folders_holding_an_input(tmp_path):
    (tmp_path / "j").mkdir()
    (tmp_path / "j" / "in.yaml").write_text("x")
    inputs = [str(tmp_path / "j" / "in.yaml")]
    for folder in (tmp_path / "j", tmp_path, tmp_path / "j" / "in.yaml"):
        with pytest.raises(OutputIsInput):
            refuse_inputs(inputs, folders=[str(folder)])
    refuse_inputs(inputs, files=[None, str(tmp_path / "j" / "out.svg")],
                  folders=[None, str(tmp_path / "j2"), str(tmp_path / "j" / "out")])   # neighbours are fine


def test_staged_folder_marks_its_work_incomplete_until_moved_in(tmp_path):
    target = tmp_path / "out"
    with staged_folder(target) as stage:
        assert os.path.dirname(stage) == str(tmp_path) and os.path.basename(stage).startswith(".out.")
        assert os.path.exists(os.path.join(stage, INCOMPLETE))    # visible if we are killed now
        assert not target.exists()
        write_text(os.path.join(stage, "r.txt"), "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in target.iterdir()) == ["r.txt"]


def test_staged_folder_removes_its_work_on_an_error(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "r.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with staged_folder(target) as stage:
            write_text(os.path.join(stage, "r.txt"), "new")
            raise RuntimeError("boom")
    assert (target / "r.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staged_folder_through_a_symlinked_target(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep.txt").write_text("user")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with staged_folder(tmp_path / "link") as stage:
        write_text(os.path.join(stage, "r.txt"), "new")
    assert (tmp_path / "link").is_symlink()                               # the link is kept...
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["keep.txt", "r.txt"]   # ...results behind it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
