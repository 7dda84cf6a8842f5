"""journeymap.interop.mermaid and the ``export`` command: Mermaid text that says what the journey says, escapes
what the journey's text could break, and that mermaid-cli (in headless Chromium) parses and draws.

The mermaid-cli tests install ``@mermaid-js/mermaid-cli`` with npm into ``.cache/mermaid-cli`` (git-ignored) the
first time, without Puppeteer's own browser: Debian's Chromium draws, with ``--no-sandbox`` from a Puppeteer
config file. They skip, saying why, where npm or Chromium is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT, SUBJECTS, dedent, find_npm
from hypothesis import given
from hypothesis import strategies as st

from journeymap.analysis import handoffs
from journeymap.cli import main
from journeymap.graph import build_graph
from journeymap.interop import ExportPlan, export, plan, safe_ids
from journeymap.interop.mermaid import escape, flowchart, journey_diagram, markdown, mermaid_score
from journeymap.loading import load_subject
from journeymap.validation import load_journey

# --------------------------------------------------------------------------- the emotion rule


@pytest.mark.parametrize(("emotion", "score"), [
    (-3, 1),     # furious: Mermaid's lowest
    (-2, 2),     # 3 - 4/3 = 1.67
    (-1, 2),     # 3 - 2/3 = 2.33
    (-1.5, 2),   # exactly 2
    (-0.75, 3),  # 2.5 rounds up, not to even
    (0, 3),      # neutral: the middle
    (0.75, 4),   # 3.5 rounds up
    (1, 4),
    (2, 4),      # 4.33
    (3, 5),      # delighted: Mermaid's highest
    (None, 3),   # no emotion recorded: neutral
])
def test_emotion_maps_to_mermaid_scores(emotion, score):
    assert mermaid_score(emotion) == score


# --------------------------------------------------------------------------- what the diagrams hold

def _tasks(text: str) -> list[tuple[str, str, int, list[str]]]:
    """(section, task, score, actors) of every task of a journey diagram."""
    out, section = [], ""
    for line in text.splitlines()[2:]:
        line = line.strip()
        if line.startswith("section "):
            section = line[len("section "):]
        else:
            name, score, actors = line.rsplit(": ", 2) if line.count(": ") >= 2 else (*line.split(": "), "")
            out.append((section, name, int(score), [a.strip() for a in actors.split(",")]))
    return out


@pytest.mark.parametrize("path", SUBJECTS, ids=[p.name for p in SUBJECTS])
def test_every_touchpoint_is_a_task_with_its_score_and_actors(path):
    journey = load_subject(str(path)).journey
    tasks = _tasks(journey_diagram(journey))
    touchpoints = [s for st in journey.stages for s in journey.steps if s.stage == st.id and s.is_touchpoint]
    assert len(tasks) == len(touchpoints) > 0
    for (section, name, score, actors), step in zip(tasks, touchpoints, strict=True):
        assert section == escape(journey.stage_by_id[step.stage].name)
        assert name == escape(step.name)
        assert score == mermaid_score(step.emotion)
        persona = escape(step.persona_name or journey.persona.name, actor=True)
        expected = [persona] if step.is_customer else [persona, escape(journey.department_by_id[step.owner].name,
                                                                       actor=True)]
        assert actors == expected


@pytest.mark.parametrize("path", SUBJECTS, ids=[p.name for p in SUBJECTS])
def test_flowchart_has_every_step_flow_department_and_handoff(path):
    journey = load_subject(str(path)).journey
    text = flowchart(journey)
    ids = safe_ids((s.id for s in journey.steps), prefix="s_")
    for step in journey.steps:
        assert f'{ids[step.id]}["{escape(step.name)}"]' in text or f'{ids[step.id]}(["{escape(step.name)}"])' in text
    edges = re.findall(r"^    (s_\w+) (-->|==>|-\.->)(?:\|\"([^\"]*)\"\|)? (s_\w+)$", text, re.M)
    assert [(a, b) for a, _, _, b in edges] == [(ids[f.source], ids[f.target]) for f in journey.flows]
    for (_, arrow, label, _), flow in zip(edges, journey.flows, strict=True):
        assert (arrow == "-.->") == flow.rework
        if len(journey.flows_from[flow.source]) > 1 and not flow.parallel:
            assert label.endswith(f"{round(flow.probability * 100, 1):g}%")  # a choice's branch shows its chance
    owners = {s.owner for s in journey.steps}
    assert len(re.findall(r"^    subgraph ", text, re.M)) == len(owners)
    # the handoffs are the thick arrows, highlighted by one linkStyle, numbered as on the map
    found = handoffs(build_graph(journey))
    thick = [i for i, (_, arrow, _, _) in enumerate(edges) if arrow == "==>"]
    styled = re.search(r"^    linkStyle ([\d,]+) ", text, re.M)
    assert len(found) == len([f for f in journey.flows if journey.is_handoff(f)])
    if found:
        assert [int(i) for i in styled.group(1).split(",")] == [
            i for i, f in enumerate(journey.flows) if journey.is_handoff(f)]
        assert set(thick) <= {int(i) for i in styled.group(1).split(",")}
        labels = [label for _, _, label, _ in edges]
        assert sorted(int(m) for lab in labels for m in re.findall(r"\bH(\d+)\b", lab)) == list(
            range(1, len(found) + 1))
    else:
        assert styled is None


#: A journey whose every name tries to break the diagram: quotes, brackets, #, ;, :, %%, a script tag, a
#: Mermaid keyword as an id, ids that collide once made safe.
HOSTILE = dedent('''
    journey: {id: hostile, name: 'Say "hi" #1; <script>alert(1)</script> [x]'}
    persona: {id: p, name: 'Ann, "the buyer": %%{init}%%'}
    stages:
      - {id: a, name: 'Stage: one; #2 (a)'}
      - {id: b, name: "B `md` <b>bold</b> | pipe & amp"}
    departments:
      - {id: end, name: 'end'}
      - {id: ops, name: 'Ops, "quoted" [team]; #3'}
    steps:
      - {id: end, name: 'Call "us" #now; a:b <img src=x onerror=alert(1)>', stage: a, owner: customer,
         channel: phone, duration: 1h, emotion: -3, next: a-b}
      - {id: a-b, name: 'Reply [fast] {now} (ok) 100%', stage: a, owner: end, lane: frontstage, duration: 1h,
         emotion: 3, next: [{to: a_b, probability: 0.25, label: 'yes "really" #4'}, {to: x.y, probability: 0.75}]}
      - {id: a_b, name: "Check -->|x| end", stage: b, owner: ops, duration: 1h, next: {to: a-b, rework: true}}
      - {id: x.y, name: 'Done; `rm -rf` &amp;', stage: b, owner: customer, duration: 1h, emotion: 1}
    ''')


@pytest.fixture
def hostile(tmp_path) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    return path


def test_hostile_text_is_escaped_and_ids_are_safe_and_unique(hostile):
    journey = load_journey(str(hostile))
    for text in (journey_diagram(journey), flowchart(journey)):
        body = "\n".join(line for line in text.splitlines()  # the journey's text, not the colours of the styles
                         if not line.strip().startswith(("%%", "classDef ", "linkStyle ")))
        assert "<" not in body and ">" not in body.replace("-->", "").replace("==>", "").replace("-.->", "")
        assert "#now" not in body and "%%{init" not in text and "`" not in body
        # every '#' starts an entity code, every ';' ends one
        assert re.sub(r"#(\d+|[a-z]+);", "", body).count("#") == 0
        assert ";" not in re.sub(r"#(\d+|[a-z]+);", "", body)
    tasks = _tasks(journey_diagram(journey))
    assert [t[2] for t in tasks] == [1, 5, 4]
    assert tasks[0][3] == ["Ann#44; #34;the buyer#34;#58; #37;#37;{init}#37;#37;"]  # one actor, its comma escaped
    text = flowchart(journey)
    ids = safe_ids((s.id for s in journey.steps), prefix="s_")
    assert ids == {"end": "s_end", "a-b": "s_a_b", "a_b": "s_a_b_2", "x.y": "s_x_y"}
    assert re.search(r"^    subgraph g_end\[", text, re.M)  # the department called 'end' is a safe id too
    assert re.search(r"^    s_a_b_2 -\.->\|\"H2\"\| s_a_b$", text, re.M)  # the rework, a handoff too, back to a-b


@given(st.text(max_size=80))
def test_escape_leaves_nothing_mermaid_reads_and_decodes_back_to_the_text(text):
    escaped = escape(text, actor=True)
    bare = re.sub(r"#\d+;", "", escaped)
    assert not set(bare) & set('#;:%"`<>|&,\n\r\t')
    decoded = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), escaped)
    assert decoded == "".join(c for c in " ".join(text.split()) if c.isprintable())


@pytest.mark.parametrize(("names", "ids"), [
    (["a", "b"], ["p_a", "p_b"]),                          # plain ids stay readable
    (["a-b", "a_b", "a.b"], ["p_a_b", "p_a_b_2", "p_a_b_3"]),  # collisions once made safe are numbered
    (["a_b_2", "a-b", "a_b"], ["p_a_b_2", "p_a_b", "p_a_b_3"]),  # a number never reuses a taken id
    (["été", "ete"], ["p__t_", "p_ete"]),                   # non-ASCII letters become underscores
])
def test_safe_ids(names, ids):
    assert list(safe_ids(names, "p_").values()) == ids


def test_markdown_holds_both_diagrams_in_mermaid_blocks(hostile):
    journey = load_journey(str(hostile))
    text = markdown(journey)
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert blocks == [journey_diagram(journey), flowchart(journey)]
    assert "<script>" not in text and "\\<script\\>" in text  # the Markdown heading is escaped too


def test_the_example_in_docs_interop_is_what_the_export_writes():
    text = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    journey = load_journey(str(ROOT / "journeys" / "acme-cio.yaml"))
    assert re.findall(r"```mermaid\n(.*?)```", text, re.S) == [journey_diagram(journey), flowchart(journey)]


# --------------------------------------------------------------------------- the command

J = str(ROOT / "journeys" / "insurance-after.yaml")


@pytest.mark.parametrize(("to", "output", "fmt", "path"), [
    (None, "x/a.md", "mermaid", "x/a.md"),
    (None, "a.MMD", "mermaid", "a.MMD"),
    (None, "a.bpmn", "bpmn", "a.bpmn"),
    (None, "log.xes", "xes", "log.xes"),
    ("xes", "log.xes", "xes", "log.xes"),
    ("mermaid", None, "mermaid", os.path.join("outputs", "insurance-after.md")),
    ("prosimos", None, "prosimos", os.path.join("outputs", "insurance-after-prosimos")),
    ("prosimos", "scenario", "prosimos", "scenario"),
    ("bpmn", "some/folder/", "bpmn", os.path.join("some/folder/", "insurance-after.bpmn")),
])
def test_plan_infers_the_format_and_the_destination(to, output, fmt, path):
    assert plan(J, to, output) == ExportPlan(fmt, path)


@pytest.mark.parametrize(("argv", "message"), [
    (["--to", "pdf"], "unknown format 'pdf'"),
    (["-o", "out.txt"], "cannot tell the format of 'out.txt'"),
    (["--to", "xes", "-o", "out.md"], "--to xes does not match the file name 'out.md'"),
    (["--to", "prosimos", "-o", "out.bpmn"], "--to prosimos writes a folder"),
    (["-o", J], "cannot tell the format"),                            # the journey itself, by extension
    (["--to", "mermaid", "-o", J], "is the input file"),             # ... and by --to
    (["--to", "mermaid", "--diagram", "gantt", "-o", "x.mmd"], "unknown diagram 'gantt'"),
    (["--to", "xes", "--diagram", "journey", "-o", "x.xes"], "--diagram is for --to mermaid"),
])
def test_bad_arguments_exit_2_and_write_nothing(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = Path(J).read_bytes()
    assert main(["export", J, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [] and Path(J).read_bytes() == before


def test_export_writes_markdown_and_one_diagram_per_mmd(tmp_path, capsys):
    journey = load_journey(J)
    assert main(["export", J, "-o", str(tmp_path / "a.md")]) == 0
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == markdown(journey)
    assert main(["export", J, "-o", str(tmp_path / "f.mmd")]) == 0
    assert (tmp_path / "f.mmd").read_text(encoding="utf-8") == flowchart(journey)
    assert main(["export", J, "-o", str(tmp_path / "j.mmd"), "--diagram", "journey"]) == 0
    assert (tmp_path / "j.mmd").read_text(encoding="utf-8") == journey_diagram(journey)
    assert main(["export", J, "-o", str(tmp_path / "j.md"), "--diagram", "journey"]) == 0
    assert re.findall(r"```mermaid\n(.*?)```", (tmp_path / "j.md").read_text(encoding="utf-8"), re.S) == [
        journey_diagram(journey)]
    assert f"wrote {tmp_path / 'a.md'}" in capsys.readouterr().err


def test_export_dispatches_to_bpmn_and_prosimos(tmp_path, capsys):
    """The BPMN writers' own tests are tests/test_interop_bpmn.py; here the command reaches them and writes what
    they build: the BPMN file by its extension, the Prosimos folder whole (staged, then moved in)."""
    from journeymap.interop.bpmn import export_bpmn
    from journeymap.interop.prosimos import export_prosimos

    journey = load_journey(J)
    assert main(["export", J, "-o", str(tmp_path / "a.bpmn")]) == 0
    assert (tmp_path / "a.bpmn").read_text(encoding="utf-8") == export_bpmn(journey)
    assert main(["export", J, "--to", "prosimos", "-o", str(tmp_path / "scenario")]) == 0
    expected = [Path(p) for p in export_prosimos(journey, str(tmp_path / "direct"))]
    for path in expected:
        assert (tmp_path / "scenario" / path.name).read_bytes() == path.read_bytes()
    assert sorted(p.name for p in (tmp_path / "scenario").iterdir()) == sorted(p.name for p in expected)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left
    assert (tmp_path / "scenario").stat().st_mode & 0o777 == 0o755  # an ordinary folder, not mkdtemp's 0700
    err = capsys.readouterr().err
    assert f"wrote {tmp_path / 'scenario' / 'insurance-after.json'}" in err


def test_prosimos_never_writes_into_the_folder_of_its_input(tmp_path, capsys):
    journey = tmp_path / "j.yaml"
    journey.write_bytes(Path(J).read_bytes())
    shutil.copytree(ROOT / "journeys" / "holidays", tmp_path / "holidays")
    assert main(["export", str(journey), "--to", "prosimos", "-o", str(tmp_path)]) == 2
    assert "holds the input file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holidays", "j.yaml"]


def test_export_writes_atomically(tmp_path, monkeypatch):
    """A failure while writing leaves the old file as it was and no temporary file behind."""
    target = tmp_path / "a.md"
    target.write_text("old", encoding="utf-8")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        export(load_journey(J), ExportPlan("mermaid", str(target)))
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"] and target.read_text(encoding="utf-8") == "old"


# --------------------------------------------------------------------------- mermaid-cli draws them

MMDC_VERSION = "11.17.0"


@pytest.fixture(scope="session")
def mmdc(chromium) -> list[str]:
    """The mermaid-cli command with Debian's Chromium: installed with npm into .cache/mermaid-cli once."""
    folder = ROOT / ".cache" / "mermaid-cli"
    binary = folder / "node_modules" / ".bin" / "mmdc"
    if not binary.exists():
        npm = find_npm()
        if npm is None:
            pytest.skip("npm is not installed (Debian: apt-get install npm) and installing it needs root and "
                        "apt-get; mermaid-cli comes from npm")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", f"@mermaid-js/mermaid-cli@{MMDC_VERSION}"],
                              cwd=folder, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"})
        if proc.returncode != 0 or not binary.exists():
            pytest.skip(f"could not install mermaid-cli with npm (exit {proc.returncode}): {proc.stderr[-400:]}")
    config = folder / "puppeteer.json"
    config.write_text(json.dumps({"executablePath": chromium, "args": ["--no-sandbox", "--disable-gpu"],
                                  "headless": "shell"}), encoding="utf-8")
    return [str(binary), "--quiet", "--puppeteerConfigFile", str(config)]


@pytest.mark.browser
@pytest.mark.slow
def test_mermaid_cli_draws_both_diagrams_of_every_bundled_journey(mmdc, tmp_path, hostile):
    """One Markdown file with the export of every bundled journey (and the hostile one): mermaid-cli draws each
    block to an SVG, with no error, in one browser session (a launch per file would take a minute)."""
    paths = [*SUBJECTS, hostile]
    pages = []
    for path in paths:
        out = tmp_path / f"{path.stem}.md"
        assert main(["export", str(path), "-o", str(out)]) == 0
        pages.append(out.read_text(encoding="utf-8"))
    (tmp_path / "all.md").write_text("\n".join(pages), encoding="utf-8")
    proc = subprocess.run([*mmdc, "-i", str(tmp_path / "all.md"), "-o", str(tmp_path / "drawn.md")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    svgs = sorted(tmp_path.glob("drawn-*.svg"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(svgs) == 2 * len(paths)
    for path, (journey_svg, flow_svg) in zip(paths, zip(svgs[::2], svgs[1::2], strict=True), strict=True):
        journey = load_subject(str(path)).journey
        for svg in (journey_svg, flow_svg):
            text = svg.read_text(encoding="utf-8")
            assert "Syntax error" not in text and "<script" not in text.lower()
        first = next(s for s in journey.steps if s.is_touchpoint)
        words = first.name.split()[0]
        assert words in journey_svg.read_text(encoding="utf-8")
        assert flow_svg.read_text(encoding="utf-8").count('class="node ') >= len(journey.steps)
    # the hostile names come out as the journey wrote them, as text: never markup, never a broken diagram
    hostile_journey, hostile_flow = (p.read_text(encoding="utf-8") for p in svgs[-2:])
    call = 'Call "us" #now; a:b &lt;img src=x onerror=alert(1)&gt;'
    assert call in hostile_journey and call in hostile_flow and "<img" not in hostile_journey + hostile_flow
    assert "Stage: one; #2 (a)" in hostile_journey and 'Ann, "the buyer": %%{init}%%' in hostile_journey
    assert "Check --&gt;|x| end" in hostile_flow and "Reply [fast] {now} (ok) 100%" in hostile_flow
