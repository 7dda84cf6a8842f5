"""journeymap import: a workshop's sheet of steps (CSV, .xlsx) to a journey file, problems at the sheet's row
and column, and the round trip import -> write -> load -> export rows -> import that gives the same journey."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import yaml
from helpers import EXAMPLES, JOURNEYS, example_ids
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from journeymap.cli import main
from journeymap.distributions import DAY, HOUR, Fixed, Triangular, Uniform
from journeymap.interop.sheet import (
    EXPORT_HEADER,
    SheetInvalid,
    XlsxUnavailable,
    import_sheet,
    journey_to_rows,
    parse_duration_cell,
    read_table,
    rows_to_csv,
)
from journeymap.interop.yamlout import STEP_KEYS, scalar
from journeymap.validation import load_journey

BOARD = JOURNEYS / "data" / "workshop-board.csv"

try:
    import openpyxl
except ImportError:  # only the .xlsx tests skip; CI installs the test extra, which has openpyxl
    openpyxl = None


def needs_openpyxl(name: str = ".xlsx") -> None:
    if name.endswith(".xlsx") and openpyxl is None:
        pytest.skip("openpyxl is not installed (pip install 'journeymap[xlsx]')")

HEADER = "Stage,Name,Department,Duration,Next,Emotion"


def sheet(tmp_path: Path, *rows: str, name: str = "board.csv", header: str = HEADER) -> str:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def xlsx(tmp_path: Path, rows: list[list], name: str = "board.xlsx", merge: str | None = None) -> str:
    needs_openpyxl()
    book = openpyxl.Workbook()
    ws = book.active
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    path = tmp_path / name
    book.save(path)
    return str(path)


def problems(path: str, **kw) -> list[tuple[int, int, str, str]]:
    with pytest.raises(SheetInvalid) as exc:
        import_sheet(path, **kw)
    return [(p.line, p.column, p.rule, p.message) for p in exc.value.problems]


GOOD = ("Sell,Ask for a quote,customer,30min,,0",
        ",Send the quote,Sales,2h,,1",
        ",Review,Legal,1h / 2h / 5h,,",
        ",Sign,customer,1h,,2")


# --------------------------------------------------------------------------- the sample board


def test_the_sample_board_imports_to_a_valid_journey_with_its_rows_as_comments(tmp_path):
    out = tmp_path / "board.yaml"
    assert main(["import", str(BOARD), "-o", str(out), "--name", "Acme onboarding", "--persona", "IT buyer"]) == 0
    j = load_journey(out)
    assert (j.name, j.persona.name, j.persona.id) == ("Acme onboarding", "IT buyer", "it_buyer")
    assert [s.id for s in j.stages] == ["discover", "evaluate", "buy", "onboard"]
    assert [d.id for d in j.departments] == ["sales", "security", "legal", "implementation", "customer_success"]
    assert len(j.steps) == 15 and j.steps[0].id == "finds_us_at_a_trade_fair" and j.steps[0].owner == "customer"
    assert set(j.ends) == {"lead_not_a_fit", "go_live"}
    by = {(f.source, f.target): f for f in j.flows}
    assert by["qualify_the_lead", "book_the_demo"].probability == pytest.approx(0.8)
    assert by["review_the_answers", "answer_the_questionnaire"].probability == pytest.approx(0.3)
    assert by["book_the_demo", "product_demo"].delay == Fixed(2 * DAY)
    step = j.step_by_id
    assert step["qualify_the_lead"].duration == Triangular(30, 60, 240)
    assert step["answer_the_questionnaire"].duration == Uniform(2 * HOUR, 6 * HOUR)
    assert step["asks_for_a_demo_on_the_website"].duration == Fixed(15)
    assert step["lead_not_a_fit"].emotion == -2 and step["finds_us_at_a_trade_fair"].emotion == 1
    assert step["product_demo"].value_adding and not step["qualify_the_lead"].value_adding
    text = out.read_text(encoding="utf-8")
    assert "  # row 4: Qualify the lead | backstage | Sales | 30min / 1h / 4h |" in text
    # keys in the order docs/format.md gives them
    block = yaml.safe_load(text)["steps"][3]
    assert list(block) == [k for k in STEP_KEYS if k in block]
    assert list(yaml.safe_load(text))[:4] == ["journey", "persona", "stages", "departments"]


def test_a_bom_and_semicolons_are_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffStage;Name;Department;Duration\nSell;Ask;customer;30min\n;Send;Sales;2h\n".encode())
    assert [s.id for s in import_sheet(str(path)).journey.steps] == ["ask", "send"]


# --------------------------------------------------------------------------- forgiving headers and cells


@pytest.mark.parametrize("header", [
    "Stage,Name,Department,Duration",                   # the documented names
    "STAGE , NAME , DEPARTMENT , DURATION",             # case and spacing
    "Phase,Step name,Owner,Duration (estimate)",        # synonyms and a parenthesis
    "journey_stage,Activity,Team,time-estimate",        # underscores and dashes
    "Area title,Content,Who,How long",                  # a sticky-note board's export
])
def test_headers_are_matched_forgivingly(tmp_path, header):
    path = sheet(tmp_path, "Sell,Ask for a quote,customer,30min", ",Send the quote,Sales,2h", header=header)
    j = import_sheet(path).journey
    assert [(s.id, s.owner, s.duration.mean) for s in j.steps] == [("ask_for_a_quote", "customer", 30),
                                                                   ("send_the_quote", "sales", 120)]


def test_unknown_columns_are_listed_not_used(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,30min,yellow", header="Stage,Name,Department,Duration,Colour")
    assert import_sheet(path).ignored == ("Colour",)


@pytest.mark.parametrize("cell,spec", [
    ("2h", "2h"),
    ("2 hours", "2h"),
    ("1,5h", "1.5h"),                                   # a decimal comma
    ("1h / 2h / 5h", {"triangular": ["1h", "2h", "5h"]}),
    ("1/2/5h", {"triangular": ["1h", "2h", "5h"]}),     # one unit for all three
    ("1h-5h", {"uniform": ["1h", "5h"]}),
    ("1 – 5 days", {"uniform": ["1d", "5d"]}),          # an en dash, a unit word
    ("30min to 2h", {"uniform": ["30min", "2h"]}),
    ("{exponential: 6h}", {"exponential": "6h"}),       # the journey's own notation
    ("4wh", "4wh"),
])
def test_duration_forms(cell, spec):
    assert parse_duration_cell(cell) == spec


@pytest.mark.parametrize("cell,says", [
    ("30", "has no unit"),
    ("1/2/5", "has no unit"),
    ("2 months", "unknown time unit"),
    ("5h-1h", "uniform"),                               # the validator's own check of the distribution
    ("soon", "cannot read"),
    ("{normal: 2h}", "unknown distribution"),
])
def test_bad_durations_say_why(cell, says):
    from journeymap.distributions import DurationError

    with pytest.raises(DurationError, match=says):
        parse_duration_cell(cell)


def test_cells_in_other_words(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,Client,30min,,frustrated,Front Stage,E-mail",
                 ",Send,Sales,2h,,−1,back,zoom",
                 header="Stage,Name,Department,Duration,Next,Emotion,Lane,Channel")
    a, b = import_sheet(path).journey.steps
    assert (a.owner, a.emotion, a.channel) == ("customer", -2, "email")
    assert (b.owner, b.emotion, b.lane, b.channel) == ("sales", -1, "backstage", "video")


@pytest.mark.parametrize("cell", ["70% Review; 30% Redo", "Review (70%) | Redo (30%)", "Review: 70%, Redo: 30%",
                                  "review 70%\nredo 30%"])
def test_other_ways_of_writing_a_choice(tmp_path, cell):
    path = sheet(tmp_path, f'Sell,Ask,customer,30min,"{cell}",', ",Review,Legal,1h,end,", ",Redo,Sales,1h,end,")
    flows = {f.target: f.probability for f in import_sheet(path).journey.flows}
    assert flows == pytest.approx({"review": 0.7, "redo": 0.3})


def test_next_steps_by_name_or_id_with_percentages_and_delays(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,30min,,",
                 ",Review,Legal,1h,ok 70% ; REDO 30%,",   # ids and names in any case, spaces around ';'
                 ",Redo,Sales,1h,review after 1d,",
                 ",OK,customer,1h,end,")
    j = import_sheet(path).journey
    flows = {(f.source, f.target): f for f in j.flows}
    assert flows["review", "ok"].probability == pytest.approx(0.7)
    assert flows["redo", "review"].delay == Fixed(DAY)
    assert j.ends == ("ok",)


def test_a_step_called_end_is_a_step(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,30min,End 50%; Wait 50%,", ",Wait,Sales,2h,,", ",End,customer,1h,,")
    j = import_sheet(path).journey
    assert ("ask", "end") in [(f.source, f.target) for f in j.flows] and j.ends == ("end",)


# --------------------------------------------------------------------------- bad input, located


def test_a_missing_column_is_named(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer", header="Stage,Name,Department")
    assert problems(path) == [(1, 1, "missing-column", "no duration column (the header has: 'Stage, Name, "
                                                       "Department')")]
    with pytest.raises(SheetInvalid) as exc:
        import_sheet(path)
    # the hint names the other headers as people write them, not as they are compared
    assert "(also recognised: duration estimate, estimate, time, time estimate, effort, how long)" \
        in exc.value.problems[0].hint


def test_a_misspelt_column_gets_a_did_you_mean_at_its_letter(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,2h", header="Stage,Name,Department,Durration")
    assert problems(path) == [(1, 4, "missing-column", "no duration column; did you mean column D (Durration)?")]


def test_a_next_step_that_does_not_exist_gets_the_closest_name(tmp_path):
    path = sheet(tmp_path, "Sell,Ask for a quote,customer,30min,Send the qoute,", ",Send the quote,Sales,2h,,")
    assert problems(path) == [(2, 5, "unknown-step", "column E (Next): there is no step 'Send the qoute' — did you "
                                                     "mean 'Send the quote'?")]


def test_duplicate_names_point_at_the_first(tmp_path):
    path = sheet(tmp_path, *GOOD[:2], ",Send the quote,Legal,1h,,")
    assert problems(path) == [(4, 2, "duplicate-name", "column B (Name): two steps are called 'Send the quote' "
                                                       "(first on row 3)")]


def test_durations_without_units_at_each_row(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,30,,", ",Send,Sales,,,", ",Sign,customer,1/2/5,,")
    found = problems(path)
    assert [(r, c, rule) for r, c, rule, _ in found] == [(2, 4, "invalid-duration"), (3, 4, "missing-value"),
                                                         (4, 4, "invalid-duration")]
    assert found[0][3].startswith("column D (Duration): duration '30' has no unit: 30 what?")


def test_a_csv_that_is_not_utf8_is_located_at_the_byte(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\nSell,Ask,customer,30min,,\n,Caf\xe9 visit,Sales,2h,,\n".encode("latin-1"))
    ((line, column, rule, message),) = problems(str(path))
    assert (line, column, rule) == (3, 2, "file")
    assert message.startswith("column B (Name): the file is not UTF-8 text: byte 0xe9")


@pytest.mark.parametrize("text,rule", [
    ("", "empty-file"),                                 # nothing at all
    ("\n\n  \n", "empty-file"),                         # blank lines only
    (HEADER + "\n", "empty-file"),                      # a header, no steps
])
def test_an_empty_sheet(tmp_path, text, rule):
    path = tmp_path / "empty.csv"
    path.write_text(text, encoding="utf-8")
    assert [p[2] for p in problems(str(path))] == [rule]


@pytest.mark.parametrize("cell,rule,says", [
    ("Send 70%; Sign 20%", "probability-sum", "sum to 90%"),
    ("Send; Sign", "invalid-next", "not each with a percentage"),
    ("Send 60%; Send 40%", "invalid-next", "named twice"),
    ("Send 70%; end 30%", "invalid-next", "'end' cannot be one of several branches"),
    ("Send 170%", "out-of-range", "outside 0..100%"),
    (" ; | ", "invalid-next", "names no step"),
    ("parallel: Send; Sign", "invalid-next", "without its join step"),
])
def test_bad_next_cells(tmp_path, cell, rule, says):
    path = sheet(tmp_path, f'Sell,Ask,customer,30min,"{cell}",', ",Send,Sales,2h,,", ",Sign,customer,1h,,")
    ((line, column, got, message),) = problems(path)
    assert (line, column, got) == (2, 5, rule) and says in message


def test_bad_lane_channel_and_emotion(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,30min,,5,frontstge,pigeon",
                 header="Stage,Name,Department,Duration,Next,Emotion,Lane,Channel")
    found = {(r, c, rule): m for r, c, rule, m in problems(path)}
    assert "emotion 5 is outside the scale -3..+3" in found[2, 6, "out-of-range"]
    assert "did you mean 'frontstage'?" in found[2, 7, "invalid-value"]
    assert found[2, 8, "invalid-value"].startswith("column H (Channel): 'pigeon' is not a channel")


def test_the_validators_problems_come_back_at_the_row(tmp_path):
    # Ask and Send loop for ever; Sign, the last row and the end, can never be reached
    path = sheet(tmp_path, "Sell,Ask,customer,30min,Send,", ",Send,Sales,2h,Ask,", ",Sign,customer,1h,,")
    found = problems(path)
    assert (4, 2, "unreachable-step") in [(r, c, rule) for r, c, rule, _ in found]
    assert all(r in (2, 3, 4) for r, *_ in found)


def test_every_problem_is_found_in_one_pass_in_the_sheets_order(tmp_path):
    path = sheet(tmp_path, "Sell,Ask for a quote,customer,30,Send the qoute,0",
                 ",Send the quote,Sales,2h,Review 70%; Ask for a quote 30%,1", ",Send the quote,Legal,1h,,")
    assert [(r, c, rule) for r, c, rule, _ in problems(path)] == [
        (2, 4, "invalid-duration"), (2, 5, "unknown-step"), (3, 5, "unknown-step"), (4, 2, "duplicate-name")]


def test_a_warning_about_a_department_points_at_the_first_row_it_owns(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,30min,,0", ",Review,Legal,3d,,", ",Sign,customer,1h,,1")
    result = import_sheet(path)
    ((row, column, message),) = [(p.line, p.column, p.message) for p in result.warnings
                                 if p.rule == "overloaded-department"]
    assert (row, column) == (3, 3) and message.startswith("column C (Department): department 'legal' would be 300%")


def test_a_journey_without_an_end_is_refused(tmp_path):
    path = sheet(tmp_path, "Sell,Ask,customer,30min,Send,", ",Send,Sales,2h,Ask,")
    assert [p[2] for p in problems(path)] == ["no-end"]


def test_nothing_is_written_on_error_and_an_old_output_is_kept(tmp_path, capsys):
    out = tmp_path / "out.yaml"
    out.write_text("old", encoding="utf-8")
    bad = sheet(tmp_path, "Sell,Ask,customer,30,,")
    assert main(["import", bad, "-o", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "old"
    err = capsys.readouterr().err
    assert f"{bad}:2:4: error [invalid-duration] column D (Duration)" in err and "nothing was written" in err


def test_the_output_may_not_be_the_input(tmp_path, capsys):
    path = sheet(tmp_path, *GOOD)
    before = Path(path).read_bytes()
    assert main(["import", path, "-o", path]) == 2
    assert Path(path).read_bytes() == before
    assert "is the input file" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["fifo.csv", "fifo.xlsx"])
def test_a_fifo_is_refused_at_once(tmp_path, name):
    needs_openpyxl(name)
    import os

    path = tmp_path / name
    os.mkfifo(path)
    ((line, column, rule, message),) = problems(str(path))
    assert (line, column, rule) == (1, 1, "file") and "FIFO" in message


@pytest.mark.parametrize("name", ["missing.csv", "missing.xlsx"])
def test_a_missing_sheet(tmp_path, name):
    needs_openpyxl(name)
    assert problems(str(tmp_path / name)) == [(1, 1, "file", "file not found")]


def test_a_sheet_without_a_stage_column_has_one_stage(tmp_path):
    j = import_sheet(sheet(tmp_path, "Ask,customer,30min", header="Name,Department,Duration")).journey
    assert [(s.id, s.name) for s in j.stages] == [("journey", "Journey")]


def test_the_size_limits(tmp_path, monkeypatch):
    import journeymap.interop.sheetfile as sheet_module

    path = sheet(tmp_path, *GOOD)
    monkeypatch.setattr(sheet_module, "MAX_FILE_BYTES", 50)
    assert problems(path)[0][2:] == ("file", "the sheet is larger than 0 MB, the limit for a sheet")
    monkeypatch.undo()
    monkeypatch.setattr(sheet_module, "MAX_STEPS", 2)
    assert problems(path)[0][:3] == (4, 1, "too-large")  # the third step
    monkeypatch.undo()
    monkeypatch.setattr(sheet_module, "MAX_UNPACKED_BYTES", 1000)
    assert "unpacks to" in problems(xlsx(tmp_path, [HEADER.split(",")]))[0][3]


def test_text_a_map_cannot_carry_is_refused_at_its_cell(tmp_path):
    path = sheet(tmp_path, "Sell,Ask\ufffe,customer,30min,,0")
    ((line, column, rule, _),) = problems(path)
    assert (line, column, rule) == (2, 2, "invalid-character")


# --------------------------------------------------------------------------- xlsx


def test_an_xlsx_sheet_imports_like_its_csv(tmp_path):
    rows = [h.split(",") for h in (HEADER, *GOOD)]
    path = xlsx(tmp_path, [[c or None for c in r] for r in rows])
    from_xlsx, from_csv = import_sheet(path, name="A"), import_sheet(sheet(tmp_path, *GOOD), name="A")
    assert from_xlsx.text.replace("board.xlsx", "board.csv") == from_csv.text


def test_xlsx_numbers_without_units_and_a_second_sheet(tmp_path):
    needs_openpyxl()
    book = openpyxl.Workbook()
    book.active.append(["not", "this"])
    ws = book.create_sheet("Steps")
    ws.append(["Stage", "Name", "Department", "Duration"])
    ws.append(["Sell", "Ask", "customer", 30])
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert problems(str(path), sheet="Steps")[0][:3] == (2, 4, "invalid-duration")
    assert problems(str(path), sheet="Stpes")[0][3] == "the workbook has no sheet 'Stpes' (did you mean 'Steps'?)"


def test_merged_cells_are_located(tmp_path):
    rows = [HEADER.split(","), ["Sell", "Ask", "customer", "30min"], [None, "Send", "Sales", "2h"]]
    path = xlsx(tmp_path, rows, merge="C2:C3")
    assert problems(path) == [(2, 3, "merged-cells", "column C (Department): cells C2:C3 are merged")]


def test_formulas_are_located_not_computed(tmp_path):
    rows = [HEADER.split(","), ["Sell", "Ask", "customer", "30min", None, "=1+1"], [None, "Send", "Sales", "2h"]]
    path = xlsx(tmp_path, rows)
    assert problems(path) == [(2, 6, "formula", "column F (Emotion): a formula, not a value: '=1+1'")]


def test_a_file_that_is_not_a_workbook(tmp_path):
    needs_openpyxl()
    path = tmp_path / "fake.xlsx"
    path.write_text("Stage,Name\n", encoding="utf-8")
    assert problems(str(path))[0][2:] == ("file", "not an .xlsx workbook (an .xlsx file is a zip archive)")


def test_without_openpyxl_the_message_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    path = xlsx(tmp_path, [HEADER.split(",")])
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(XlsxUnavailable):
        read_table(path)
    assert main(["import", path, "-o", str(tmp_path / "x.yaml")]) == 3
    assert "pip install 'journeymap[xlsx]'" in capsys.readouterr().err
    assert main(["import", sheet(tmp_path, *GOOD), "-o", str(tmp_path / "x.yaml")]) == 0  # CSV needs nothing


# --------------------------------------------------------------------------- round trips


def _same_journey(a, b) -> None:
    """The same steps, owners, flows, durations and emotions (and every other field a sheet carries)."""
    step_fields = ("id", "name", "stage", "owner", "lane", "channel", "duration", "emotion", "value_adding",
                   "moment_of_truth", "notes", "basis")
    assert [tuple(getattr(s, f) for f in step_fields) for s in a.steps] == \
        [tuple(getattr(s, f) for f in step_fields) for s in b.steps]
    assert [(d.id, d.name) for d in a.departments] == [(d.id, d.name) for d in b.departments]
    assert [(s.id, s.name) for s in a.stages] == [(s.id, s.name) for s in b.stages]
    assert sorted((f.source, f.target, f.probability, f.delay) for f in a.flows) == \
        sorted((f.source, f.target, f.probability, f.delay) for f in b.flows)
    assert (a.start, set(a.ends)) == (b.start, set(b.ends))


def _round_trip(sheet_path: str, tmp_path: Path, suffix: str = ".csv"):
    """import -> write YAML -> load -> export rows -> import: the first and the last journey."""
    first = tmp_path / "first.yaml"
    assert main(["import", sheet_path, "-o", str(first), "--name", "Trip"]) == 0
    loaded = load_journey(first)
    rows = journey_to_rows(loaded)
    if suffix == ".csv":
        again = tmp_path / "again.csv"
        again.write_text(rows_to_csv(rows), encoding="utf-8")
    else:
        again = Path(xlsx(tmp_path, [list(EXPORT_HEADER)] + [list(r.values()) for r in rows], name="again.xlsx"))
    second = import_sheet(str(again), name="Trip")
    return loaded, second.journey


def test_round_trip_of_the_sample_board(tmp_path):
    loaded, back = _round_trip(str(BOARD), tmp_path)
    _same_journey(loaded, back)


def test_round_trip_through_xlsx(tmp_path):
    loaded, back = _round_trip(str(BOARD), tmp_path, ".xlsx")
    _same_journey(loaded, back)


def test_round_trip_on_the_command_line(tmp_path, capsys):
    """What a user runs: import the board, export the journey as a sheet (.csv names the format), import that
    sheet: the same journey; the exported sheet is what journey_to_rows gives."""
    first, sheet, second = tmp_path / "first.yaml", tmp_path / "board-again.csv", tmp_path / "second.yaml"
    assert main(["import", str(BOARD), "-o", str(first), "--name", "Trip"]) == 0
    assert main(["export", str(first), "-o", str(sheet)]) == 0
    assert sheet.read_text(encoding="utf-8") == rows_to_csv(journey_to_rows(load_journey(first)))
    assert main(["import", str(sheet), "-o", str(second), "--name", "Trip"]) == 0
    _same_journey(load_journey(first), load_journey(second))
    assert main(["export", str(first), "--to", "sheet", "-o", str(tmp_path / "x.md")]) == 2  # --to and -o disagree
    assert "--to sheet does not match the file name" in capsys.readouterr().err


@pytest.mark.parametrize("path", EXAMPLES, ids=example_ids())
def test_bundled_journeys_export_and_import_with_the_same_steps_and_flows(tmp_path, path):
    """Every example journey (overlays loaded as the journey they make): the same steps, owners (by name),
    durations and their kind of time, emotions, flows with probabilities and delays, forks and their joins."""
    j = load_journey(path)
    csv_path = tmp_path / "sheet.csv"
    csv_path.write_text(rows_to_csv(journey_to_rows(j)), encoding="utf-8")
    try:
        back = import_sheet(str(csv_path)).journey
    except SheetInvalid as exc:  # pragma: no cover - shows the problems when it fails
        raise AssertionError("\n".join(p.message for p in exc.problems)) from exc
    dept = {d.id: d.name for d in j.departments} | {"customer": "customer"}
    back_dept = {d.id: d.name for d in back.departments} | {"customer": "customer"}
    stage = {s.id: s.name for s in j.stages}
    back_stage = {s.id: s.name for s in back.stages}

    def steps(journey, stages, depts):
        return sorted((s.id, s.name, stages[s.stage], depts[s.owner], s.lane, s.channel, s.duration, s.basis,
                       s.emotion, s.value_adding, s.moment_of_truth, s.notes, s.join) for s in journey.steps)

    def flows(journey):
        return sorted((f.source, f.target, round(f.probability, 12), f.delay, f.delay_basis, f.parallel)
                      for f in journey.flows)

    assert steps(back, back_stage, back_dept) == steps(j, stage, dept)
    assert flows(back) == flows(j)
    assert (back.start, set(back.ends)) == (j.start, set(j.ends))


def test_a_parallel_block_in_the_next_column(tmp_path):
    path = sheet(tmp_path, "Go,Kick-off,Sales,1h,parallel: SSO setup; ERP integration after 1d; join: Go live,",
                 ",SSO setup,IT,2h,Go live,", ",ERP integration,IT,1d,,", ",Go live,Success,1h,,")
    j = import_sheet(path).journey
    assert j.step_by_id["kick-off"].join == "go_live"
    fork = {f.target: f for f in j.flows if f.source == "kick-off"}
    assert set(fork) == {"sso_setup", "erp_integration"} and all(f.parallel for f in fork.values())
    assert fork["erp_integration"].delay == Fixed(DAY)


@pytest.mark.parametrize("cell,says", [
    ("parallel: SSO setup; join: Go live", "at least two branches"),
    ("parallel: SSO setup 50%; ERP integration 50%; join: Go live", "take no percentage"),
    ("parallel: SSO setup; ERP integraton; join: Go live", "did you mean 'ERP integration'?"),
])
def test_bad_parallel_blocks(tmp_path, cell, says):
    path = sheet(tmp_path, f"Go,Kick-off,Sales,1h,{cell},", ",SSO setup,IT,2h,Go live,", ",ERP integration,IT,1d,,",
                 ",Go live,Success,1h,,")
    ((line, column, _, message),) = problems(path)
    assert (line, column) == (2, 5) and says in message


_names = st.text(alphabet=st.characters(categories=("L", "N", "Zs", "P")), min_size=1, max_size=20).filter(
    lambda s: s.strip() and s.strip().casefold() not in {"end", "(end)", "[end]", "done", "finish", "stop"}
    and not any(c in s for c in ";|%\n\r\"") and " after " not in s.casefold())


@settings(max_examples=40, deadline=None)
@given(names=st.lists(_names, min_size=2, max_size=6, unique_by=lambda s: " ".join(s.split()).casefold()),
       minutes=st.lists(st.integers(1, 5000), min_size=6, max_size=6),
       emotions=st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=6, max_size=6),
       share=st.integers(1, 99))
# two names that are the same in any case once made ids (':A' is a, 'A' is a_2): CI's Hypothesis found them
@example(names=[":A", "A"], minutes=[1] * 6, emotions=[None] * 6, share=1)
@example(names=["0", ":A", "A"], minutes=[1] * 6, emotions=[None] * 6, share=1)
def test_round_trip_of_any_small_sheet(tmp_path_factory, names, minutes, emotions, share):
    """Any names (letters, digits, punctuation, spaces), durations and emotions; the first step branches back."""
    tmp_path = tmp_path_factory.mktemp("trip")
    n = len(names)
    rows = []
    for i, name in enumerate(names):
        nxt = f"{names[1]} {share}%; {names[0]} {100 - share}%" if i == 0 and n > 1 and share else ""
        emotion = "" if emotions[i] is None else str(emotions[i])
        rows.append([f"Stage {i // 2}", name, "customer" if i % 3 == 0 else f"Team {i % 2}", f"{minutes[i]}min",
                     nxt, emotion])
    path = tmp_path / "any.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER.split(","), *rows])
    loaded, back = _round_trip(str(path), tmp_path)
    _same_journey(loaded, back)
    assert [s.duration.mean for s in back.steps] == [float(m) for m in minutes[:n]]


@given(st.text(max_size=40))
def test_any_text_is_written_so_that_yaml_reads_it_back(text):
    assert yaml.safe_load(f"k: {scalar(text)}\n") == {"k": text}


# --------------------------------------------------------------------------- the documentation


DOCS = JOURNEYS.parent / "docs" / "interop.md"


def test_every_rule_is_documented_and_only_those():
    import re

    from journeymap.interop.sheet import RULES

    problems_section = DOCS.read_text(encoding="utf-8").split("### Problems", 1)[1].split("###", 1)[0]
    table = re.findall(r"^\| `([a-z-]+)` \|", problems_section, flags=re.MULTILINE)
    assert sorted(table) == sorted(RULES)


def test_the_documented_example_is_what_the_sample_board_gives():
    text = DOCS.read_text(encoding="utf-8")
    example = text[text.index("```yaml\nsteps:\n") + len("```yaml\n"):]
    example = example[: example.index("```")]
    written = import_sheet(str(BOARD)).text.splitlines()
    lines = [line for line in example.splitlines() if line.strip() != "..."]
    assert len(lines) > 10 and all(line in written for line in lines)


def test_the_command_help_has_an_example(capsys):
    assert main(["import", "--help"]) == 0
    assert "Example:\n  journeymap import journeys/data/workshop-board.csv" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["yes", "No", "on", "~", "null", "1.5", "0x1f", "2027-01-01", "12:30", "1e3", ".inf",
                                  "True", "1_000", "1:20:30", "0o17", "Sales team", "2h", "-", "a #b", "x: y"])
def test_text_that_yaml_would_read_as_something_else_is_quoted(text):
    assert yaml.safe_load(f"k: {scalar(text)}\n") == {"k": text}


@pytest.mark.parametrize("number", [0.7, 1e-07, 1e16, -2.5e-12, 3, -1.0, 1 / 3])
def test_numbers_read_back_as_the_same_numbers(number):
    assert yaml.safe_load(f"k: {scalar(number)}\n") == {"k": number}


@pytest.mark.parametrize("name,args,says", [
    ("board.txt.json", [], "cannot tell what"),                 # not a sheet's extension
    ("board.xls", [], "old binary .xls workbook"),              # the pre-2007 format
    ("board.csv", ["--sheet", "Steps"], "a CSV file has one sheet"),
])
def test_command_line_mistakes_exit_2(tmp_path, capsys, name, args, says):
    path = tmp_path / name
    path.write_text(HEADER + "\n" + "\n".join(GOOD) + "\n", encoding="utf-8")
    out = tmp_path / "out.yaml"
    assert main(["import", str(path), "-o", str(out), *args]) == 2
    assert says in capsys.readouterr().err and not out.exists()


#: Cells a column may hold: mostly plausible values, some mistakes, and any text.
_POOLS = {
    "Name": ["Ask", "Send", "Sign", "Review", "Ask", ""],
    "Department": ["customer", "Sales", "Legal", "client", ""],
    "Duration": ["2h", "1/2/5h", "1h-5h", "30min to 2h", "{exponential: 2h}", "30", "{", "5h-1h", ""],
    "Next": ["", "", "", "Send", "Sign 70%; Review 30%", "end", "parallel: Send; Sign; join: Review", "Ask after 1d",
             "Sign 50%", ";", "parallel: Send"],
    "Stage": ["Buy", "", "Use"],
    "Emotion": ["", "+2", "−1", "9", "nan", "pleased"],
    "Lane": ["", "frontstage", "back", "sideways"],
    "Channel": ["", "email", "zoom", "pigeon"],
    "Id": ["", "a1", "1a", "a1"],
    "Value adding": ["", "x", "maybe"],
    "Notes": ["", "Form has 14 fields"],
    "Colour": ["yellow"],
}


@settings(max_examples=150, deadline=None)
@given(header=st.lists(st.sampled_from(["Stage", "Next", "Emotion", "Lane", "Channel", "Id", "Value adding", "Notes",
                                        "Colour"]), max_size=5, unique=True).flatmap(
           lambda extra: st.permutations(["Name", "Department", "Duration", *extra])),
       data=st.data())
def test_any_sheet_imports_or_says_where_it_is_wrong(tmp_path_factory, header, data):
    """Bad input never gives a traceback: the import gives a journey that loads, or problems inside the sheet."""
    cell = {h: st.one_of(st.sampled_from(pool), st.text(max_size=8)) if h != "Next" else st.sampled_from(pool)
            for h, pool in _POOLS.items()}
    rows = data.draw(st.lists(st.tuples(*[cell[h] for h in header]), min_size=1, max_size=6))
    path = tmp_path_factory.mktemp("any") / "any.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    try:
        result = import_sheet(str(path))
    except SheetInvalid as exc:
        assert exc.problems and all(p.file == str(path) and p.line >= 1 and p.column >= 1 for p in exc.problems)
        assert all(p.rule != "internal-error" for p in exc.problems)
        event(f"refused: {exc.problems[0].rule}")  # --hypothesis-show-statistics shows which rules were reached
    else:
        event("imported")
        assert load_journey_text(result.text).steps == result.journey.steps


def load_journey_text(text: str):
    from journeymap.validation import check_text

    checked = check_text(text)
    assert checked.journey is not None
    return checked.journey
