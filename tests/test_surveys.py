"""journeymap surveys: survey scores per touchpoint -> sample sizes, CIs, emotions, an overlay of the journey."""

from __future__ import annotations

import datetime
import importlib.util
import json
import math
import os
import re
from pathlib import Path

import pytest
import yaml
from helpers import JOURNEYS, ROOT, copy_journey, dedent

from journeymap.cli import main
from journeymap.surveys import SCALES, SurveyInvalid, emotion_of, read_scores, summarize_surveys
from journeymap.validation import load_journey

#: A help desk: four touchpoints (customer or frontstage steps) and one backstage step.
DESK = """
    journey: {id: desk, name: Help desk}
    persona: {id: buyer}
    stages: [ask, fix]
    departments: [{id: desk, capacity: 1}]
    steps:
      - {id: ask, stage: ask, owner: customer, channel: web, duration: 5min, emotion: 0}
      - {id: answer, stage: ask, owner: desk, channel: phone, duration: 10min, emotion: -1}
      - {id: fix, stage: fix, owner: desk, duration: 30min}
      - {id: confirm, stage: fix, owner: desk, channel: email, duration: 5min, emotion: 1}
      - {id: close, stage: fix, owner: customer, channel: web, duration: 1min, emotion: 0.5}
    """

#: Worked out by hand in test_counts_means_and_intervals_are_exact.
SCORES = """
    touchpoint,date,scale,score
    ask,2027-01-04,csat,5
    ask,2027-01-05,csat,4
    answer,2027-01-04,nps,10
    ask,2027-01-06,csat,4
    answer,2027-01-04,nps,9
    answer,2027-01-05,nps,8
    ask,2027-01-07T09:30:00,csat,3
    answer,2027-01-05,nps,6
    answer,2027-01-06,nps,0
    confirm,2027-01-08,csat,2
    """

#: Student's t 0.975 quantiles (scipy.stats.t.ppf(0.975, df)).
T975 = {3: 3.182446305284263, 4: 2.7764451051977987}


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(dedent(DESK), encoding="utf-8")
    return path


def write(tmp_path: Path, text: str, name: str = "scores.csv") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def run(*args: object) -> int:
    return main(["surveys", *map(str, args)])


# --------------------------------------------------------------------------- counts, means, intervals


def test_counts_means_and_intervals_are_exact(desk, tmp_path):
    journey = load_journey(desk)
    result = summarize_surveys(journey, read_scores(str(write(tmp_path, SCORES)), journey), min_answers=2)
    by = {t.step: t for t in result.touchpoints}
    assert [t.step for t in result.touchpoints] == ["ask", "answer", "confirm", "close"]  # journey order, no 'fix'
    assert result.answers == 10
    ask, answer, confirm, close = by["ask"], by["answer"], by["confirm"], by["close"]
    # ask: 5, 4, 4, 3 on CSAT 1-5: mean 4, sd sqrt(2/3); the t interval's top (5.30) clipped to the scale's 5
    assert (ask.n, ask.mean, ask.sd) == (4, 4.0, pytest.approx(math.sqrt(2 / 3)))
    half = T975[3] * math.sqrt(2 / 3) / 2
    assert ask.ci95 == (pytest.approx(4 - half), 5.0)
    assert ask.emotion_exact == pytest.approx(1.5) and ask.emotion == 1.5 and ask.previous == 0
    assert ask.emotion_ci95 == (pytest.approx(-3 + 6 * (3 - half) / 4), 3.0)
    assert (ask.first_date, ask.last_date, ask.status) == ("2027-01-04", "2027-01-07", "set")
    # answer: 10, 9, 8, 6, 0 on NPS: mean 6.6; 2 promoters, 1 passive, 2 detractors: NPS 0, its sd exactly 100
    assert (answer.n, answer.mean) == (5, pytest.approx(6.6))
    assert (answer.promoters, answer.passives, answer.detractors, answer.nps) == (2, 1, 2, 0.0)
    assert answer.nps_ci95 == (-100.0, 100.0)  # 0 ± 124.2, clipped to the NPS range
    assert answer.emotion_exact == pytest.approx(0.96) and answer.emotion == 1.0 and answer.status == "set"
    # confirm: one answer, fewer than --min-answers: summarised, kept
    assert (confirm.n, confirm.mean, confirm.ci95, confirm.status, confirm.emotion) == (
        1, 2.0, (None, None), "too-few", pytest.approx(-1.5))
    assert (close.n, close.mean, close.status, close.previous) == (0, None, "no-answers", 0.5)


def test_nps_interval_is_the_t_interval_of_each_answers_contribution(desk, tmp_path):
    rows = "\n".join(f"answer,2027-02-01,{s}" for s in [10] * 6 + [7] * 3 + [2])
    journey = load_journey(desk)
    t = summarize_surveys(journey, read_scores(str(write(tmp_path, "touchpoint,date,score\n" + rows)), journey,
                                               scale="nps"), min_answers=2).touchpoints[1]
    # 6 promoters, 1 detractor of 10: NPS +50; contributions 6 x 100, 3 x 0, 1 x -100
    sd = math.sqrt((6 * 50**2 + 3 * 50**2 + 150**2) / 9)
    assert t.nps == pytest.approx(50.0)
    assert t.nps_ci95 == (pytest.approx(50 - 2.2621571627409915 * sd / math.sqrt(10)),
                          pytest.approx(min(100.0, 50 + 2.2621571627409915 * sd / math.sqrt(10))))


# --------------------------------------------------------------------------- the mapping


@pytest.mark.parametrize("scale, score, emotion", [
    # per scale: the two ends, the middle, the quarter points
    ("nps", 0, -3.0), ("nps", 10, 3.0), ("nps", 5, 0.0), ("nps", 2.5, -1.5), ("nps", 7.5, 1.5),
    ("csat", 1, -3.0), ("csat", 5, 3.0), ("csat", 3, 0.0), ("csat", 2, -1.5), ("csat", 4, 1.5),
    ("ces", 1, -3.0), ("ces", 7, 3.0), ("ces", 4, 0.0), ("ces", 2.5, -1.5), ("ces", 5.5, 1.5),
])
def test_mapping_at_its_end_points_and_mid_points(scale, score, emotion):
    assert emotion_of(score, SCALES[scale]) == pytest.approx(emotion, abs=1e-12)


@pytest.mark.parametrize("scale", list(SCALES))
def test_mapping_is_increasing_and_stays_on_the_emotion_scale(scale):
    s = SCALES[scale]
    grid = [s.low + (s.high - s.low) * i / 100 for i in range(101)]
    values = [emotion_of(x, s) for x in grid]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert min(values) == -3.0 and max(values) == 3.0


# --------------------------------------------------------------------------- the overlay


def test_overlay_validates_loads_with_the_new_emotions_and_leaves_the_base_alone(desk, tmp_path, capsys):
    before = desk.read_bytes()
    overlay = tmp_path / "surveyed.yaml"
    assert run(desk, write(tmp_path, SCORES), "-o", overlay, "--min-answers", 2) == 0
    assert desk.read_bytes() == before
    journey = load_journey(overlay)
    emotions = {s.id: s.emotion for s in journey.steps}
    assert emotions == {"ask": 1.5, "answer": 1.0, "fix": None, "confirm": 1.0, "close": 0.5}  # too few, none: kept
    data = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    assert data == {"extends": "desk.yaml", "steps": [{"id": "ask", "emotion": 1.5}, {"id": "answer", "emotion": 1.0}]}
    text = overlay.read_text(encoding="utf-8")
    assert "# ask: n=4, CSAT mean 4.00 (95% CI 2.70 to 5.00) -> emotion +1.5 (95% CI -0.4 to +3.0); was 0" in text
    assert "# confirm: n=1, CSAT mean 2.00 (95% CI n/a): fewer than 2 answers, emotion left at +1" in text
    assert "# close: no answers; emotion left at +0.5" in text
    assert f"wrote {overlay}" in capsys.readouterr().err


def test_an_emotion_the_scores_confirm_is_not_written_and_says_so(desk, tmp_path):
    desk.write_text(desk.read_text(encoding="utf-8").replace("emotion: 0}", "emotion: 1.5}", 1), encoding="utf-8")
    overlay = tmp_path / "surveyed.yaml"
    assert run(desk, write(tmp_path, SCORES), "-o", overlay, "--min-answers", 2) == 0
    text = overlay.read_text(encoding="utf-8")
    assert "-> emotion +1.5 (95% CI -0.4 to +3.0), as before: unchanged" in text
    assert [s["id"] for s in yaml.safe_load(text)["steps"]] == ["answer"]


def test_no_change_at_all_is_an_overlay_that_only_extends(desk, tmp_path):
    overlay = tmp_path / "surveyed.yaml"
    assert run(desk, write(tmp_path, SCORES), "-o", overlay) == 0  # default --min-answers 30: every one kept
    assert yaml.safe_load(overlay.read_text(encoding="utf-8")) == {"extends": "desk.yaml"}
    assert load_journey(overlay).step_by_id["ask"].emotion == 0


def test_overlay_in_a_parent_folder_extends_by_a_relative_path(tmp_path):
    (tmp_path / "j").mkdir()
    base = tmp_path / "j" / "desk.yaml"
    base.write_text(dedent(DESK), encoding="utf-8")
    overlay = tmp_path / "surveyed.yaml"
    assert run(base, write(tmp_path, SCORES), "-o", overlay, "--min-answers", 2) == 0
    assert yaml.safe_load(overlay.read_text(encoding="utf-8"))["extends"] == "j/desk.yaml"
    assert load_journey(overlay).step_by_id["ask"].emotion == 1.5


def test_the_table_shows_the_numbers_of_the_json(desk, tmp_path, capsys):
    out_json = tmp_path / "surveys.json"
    assert run(desk, write(tmp_path, SCORES), "-o", tmp_path / "s.yaml", "--min-answers", 2,
               "--json-output", out_json) == 0
    table = capsys.readouterr().out.splitlines()
    data = json.loads(out_json.read_text(encoding="utf-8"))
    rows = {line.split()[0]: line for line in table[3:] if line and line.split()[0] in {"ask", "answer", "confirm",
                                                                                          "close"}}
    assert len(rows) == len(data["touchpoints"]) == 4

    def num(x, fmt="{:.2f}"):
        return "n/a" if x is None else fmt.format(x)

    for t in data["touchpoints"]:
        cells = re.split(r"\s{2,}", rows[t["step"]].strip())
        e = t["emotion"]
        expected = [t["step"], {"csat": "CSAT", "nps": "NPS", None: "-"}[t["scale"]], str(t["n"]), num(t["mean"]),
                    "n/a" if None in t["ci95"] else f"{t['ci95'][0]:.2f} to {t['ci95'][1]:.2f}"]
        if t["nps"]:
            expected += [f"{t['nps']['value']:+.0f}", f"{t['nps']['ci95'][0]:+.0f} to {t['nps']['ci95'][1]:+.0f}"]
        expected += [f"{e['previous']:+g}" if e["previous"] else "0", num(e["new"], "{:+.1f}"),
                     "n/a" if None in e["ci95"] else f"{e['ci95'][0]:+.1f} to {e['ci95'][1]:+.1f}"]
        assert cells[:len(expected)] == expected, t["step"]
    assert data["touchpoints"][0]["n"] == 4 and data["touchpoints"][0]["mean"] == 4.0  # and the JSON is right


def test_json_on_stdout_is_the_json_file(desk, tmp_path, capsys):
    out_json = tmp_path / "surveys.json"
    assert run(desk, write(tmp_path, SCORES), "-o", tmp_path / "s.yaml", "--json", "--json-output", out_json) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(out_json.read_text(encoding="utf-8"))


def test_headers_match_whatever_their_case_and_spacing_and_other_columns_are_ignored(desk, tmp_path):
    text = ("\ufeffRespondent, Touch Point ,DATE,Survey_Score ,comment\r\n"
            'r1,ask,2027-01-04,5,"great,\r\nthanks"\r\n' "r2,ask,2027-01-05,3,\r\n")
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(SurveyInvalid) as bad:  # 'Survey_Score' is not 'score': said, with the header it saw
        read_scores(str(path), load_journey(desk), scale="csat")
    assert bad.value.problems[0].rule == "missing-column" and "'score'" in bad.value.problems[0].message
    path.write_bytes(text.replace("Survey_Score", " S c o r e").encode("utf-8"))
    scores = read_scores(str(path), load_journey(desk), scale="csat")
    assert scores.answers["ask"].scores == (5, 3)
    assert scores.answers["ask"].lines == (2, 4)  # a quoted line break: the next row is on line 4


# --------------------------------------------------------------------------- bad input

BAD = [
    # (case, file text, extra arguments, line, column, rule)
    ("empty file", "", [], 1, 1, "empty-file"),
    ("blank lines only", "\n  \n\n", [], 1, 1, "empty-file"),
    ("a header and no answers", "touchpoint,date,score\n", ["--scale", "csat"], 2, 1, "no-answers"),
    ("no score column", "touchpoint,date,rating\nask,2027-01-04,3\n", ["--scale", "csat"], 1, 1, "missing-column"),
    ("a column twice", "touchpoint,date,score,Score\nask,2027-01-04,3,3\n", ["--scale", "csat"], 1, 4,
     "duplicate-column"),
    ("no scale anywhere", "touchpoint,date,score\nask,2027-01-04,3\n", [], 1, 1, "missing-scale"),
    ("CSAT score above 5", "touchpoint,date,score\nask,2027-01-04,3\nask,2027-01-05,6\n", ["--scale", "csat"], 3, 3,
     "out-of-range"),
    ("NPS score below 0", "touchpoint,date,scale,score\nask,2027-01-04,nps,-1\n", [], 2, 4, "out-of-range"),
    ("CES score of 0", "touchpoint,date,scale,score\nask,2027-01-04,CES,0\n", [], 2, 4, "out-of-range"),
    ("a score that is not a number", "touchpoint,date,score\nask,2027-01-04,good\n", ["--scale", "csat"], 2, 3,
     "invalid-score"),
    ("a half score", "touchpoint,date,score\nask,2027-01-04,3.5\n", ["--scale", "csat"], 2, 3, "invalid-score"),
    ("an empty score", "touchpoint,date,score\nask,2027-01-04,\n", ["--scale", "csat"], 2, 3, "invalid-score"),
    ("an unknown step", "touchpoint,date,score\naks,2027-01-04,3\n", ["--scale", "csat"], 2, 1, "unknown-step"),
    ("a backstage step", "touchpoint,date,score\nfix,2027-01-04,3\n", ["--scale", "csat"], 2, 1, "not-a-touchpoint"),
    ("an empty touchpoint", "touchpoint,date,score\n,2027-01-04,3\n", ["--scale", "csat"], 2, 1, "missing-value"),
    ("a day that does not exist", "touchpoint,date,score\nask,2027-02-30,3\n", ["--scale", "csat"], 2, 2,
     "invalid-date"),
    ("a date in another format", "touchpoint,date,score\nask,04/01/2027,3\n", ["--scale", "csat"], 2, 2,
     "invalid-date"),
    ("an empty date", "touchpoint,date,score\nask,,3\n", ["--scale", "csat"], 2, 2, "invalid-date"),
    ("an unknown scale", "touchpoint,date,scale,score\nask,2027-01-04,stars,3\n", [], 2, 3, "invalid-scale"),
    ("a row against --scale", "touchpoint,date,scale,score\nask,2027-01-04,nps,3\n", ["--scale", "csat"], 2, 3,
     "scale-mismatch"),
    ("one touchpoint on two scales", "touchpoint,date,scale,score\nask,2027-01-04,csat,3\nask,2027-01-05,nps,3\n", [],
     3, 3, "scale-mismatch"),
    ("a row too short", "touchpoint,date,score\nask,2027-01-04\n", ["--scale", "csat"], 2, 2, "missing-field"),
    ("an unclosed quote", 'touchpoint,date,score\nask,2027-01-04,3\n"ask,2027-01-05,3\n', ["--scale", "csat"], 3, 1,
     "csv-syntax"),
]


@pytest.mark.parametrize("text, extra, line, column, rule", [case[1:] for case in BAD], ids=[c[0] for c in BAD])
def test_bad_scores_are_located_exit_2_and_nothing_is_written(desk, tmp_path, capsys, text, extra, line, column,
                                                              rule):
    scores = tmp_path / "scores.csv"
    scores.write_text(text, encoding="utf-8")
    before = desk.read_bytes()
    overlay, out_json = tmp_path / "surveyed.yaml", tmp_path / "surveys.json"
    assert run(desk, scores, "-o", overlay, "--json-output", out_json, *extra) == 2
    err = capsys.readouterr().err
    assert f"{scores}:{line}:{column}: error [{rule}] " in err
    assert "hint: " in err and "nothing was written" in err
    assert not overlay.exists() and not out_json.exists() and desk.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["desk.yaml", "scores.csv"]  # no temporary file left either


def test_every_bad_row_is_reported_with_its_column_named(desk, tmp_path, capsys):
    scores = write(tmp_path, """
        touchpoint,date,score
        ask,2027-01-04,3
        fix,2027-01-05,9
        enquiry,someday,2
        """)
    assert run(desk, scores, "-o", tmp_path / "s.yaml", "--scale", "csat") == 2
    err = capsys.readouterr().err
    assert f"{scores}:3:1: error [not-a-touchpoint] column A (touchpoint): step 'fix' is backstage" in err
    assert f"{scores}:3:3: error [out-of-range] column C (score): score 9 is outside the CSAT 1–5 scale" in err
    assert f"{scores}:4:1: error [unknown-step] column A (touchpoint): the journey has no step 'enquiry'" in err
    assert f"{scores}:4:2: error [invalid-date] column B (date): date 'someday' is not a date" in err


def test_an_unknown_step_close_to_a_touchpoint_is_suggested(desk, tmp_path, capsys):
    assert run(desk, write(tmp_path, "touchpoint,date,score\nconfrim,2027-01-04,3\n"), "-o", tmp_path / "s.yaml",
               "--scale", "csat") == 2
    assert "the journey has no step 'confrim' — did you mean 'confirm'?" in capsys.readouterr().err


def test_a_long_value_is_never_quoted_whole(desk, tmp_path, capsys):
    assert run(desk, write(tmp_path, f"touchpoint,date,score\n{'x' * 500},2027-01-04,3\n"), "-o",
               tmp_path / "s.yaml", "--scale", "csat") == 2
    assert "x" * 61 not in capsys.readouterr().err


def test_a_folder_as_scores_is_a_located_problem(desk, tmp_path, capsys):
    (tmp_path / "scores.csv").mkdir()
    assert run(desk, tmp_path / "scores.csv", "-o", tmp_path / "s.yaml", "--scale", "csat") == 2
    assert f"{tmp_path / 'scores.csv'}:1:1: error [file] " in capsys.readouterr().err


@pytest.mark.parametrize("target", ["journey", "scores"])
def test_the_output_is_never_an_input(desk, tmp_path, capsys, target):
    scores = write(tmp_path, SCORES)
    before = {p: p.read_bytes() for p in (desk, scores)}
    assert run(desk, scores, "-o", desk if target == "journey" else scores, "--min-answers", 2) == 2
    assert "never writes to the files it reads" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (desk, scores)} == before


def test_an_overlay_that_could_not_reach_its_base_is_refused(desk, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    assert run(desk, write(tmp_path, SCORES), "-o", tmp_path / "out" / "s.yaml", "--min-answers", 2) == 2
    assert "an overlay's base must be in the overlay's folder or below it" in capsys.readouterr().err
    assert os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize("value", ["1", "0", "many"])
def test_min_answers_gives_an_interval(desk, tmp_path, capsys, value):
    assert run(desk, write(tmp_path, SCORES), "-o", tmp_path / "s.yaml", "--min-answers", value) == 2
    assert "--min-answers" in capsys.readouterr().err


# --------------------------------------------------------------------------- the bundled sample


def _sample_script():
    spec = importlib.util.spec_from_file_location("make_sample_surveys", JOURNEYS / "data" / "make_sample_surveys.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sample_file_is_the_scripts_output_byte_for_byte():
    assert _sample_script().sample_csv().encode("utf-8") == (JOURNEYS / "data" / "claims-surveys.csv").read_bytes()


def test_the_sample_sets_the_insurance_journeys_emotions(tmp_path, capsys):
    script = _sample_script()
    base = copy_journey(JOURNEYS / "insurance-before.yaml", tmp_path / "insurance-before.yaml")
    out_json = tmp_path / "surveys.json"
    assert run(base, JOURNEYS / "data" / "claims-surveys.csv", "-o", tmp_path / "surveyed.yaml",
               "--json-output", out_json) == 0
    data = {t["step"]: t for t in json.loads(out_json.read_text(encoding="utf-8"))["touchpoints"]}
    surveyed = load_journey(tmp_path / "surveyed.yaml")
    for step, scale, n, shares in script.TOUCHPOINTS:
        t = data[step]
        assert (t["scale"], t["n"]) == (scale, n)
        low = script.LOWEST[scale]
        mean = sum((low + i) * w for i, w in enumerate(shares)) / sum(shares)
        sd = math.sqrt(sum((low + i - mean) ** 2 * w for i, w in enumerate(shares)) / sum(shares))
        # the sample mean lies within 4 standard errors of the mean the script drew from (chance of a miss ~6e-5)
        assert abs(t["mean"] - mean) < 4 * sd / math.sqrt(n), step
        expected = t["emotion"]["new"] if n >= 30 else t["emotion"]["previous"]
        assert surveyed.step_by_id[step].emotion == expected
    assert {s for s, t in data.items() if t["status"] == "no-answers"} == {
        "buyer_info_reply", "quote_review", "policy_pack", "limit_request", "log_limit"}
    assert (ROOT / "journeys" / "insurance-before.yaml").read_bytes() == base.read_bytes()


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_exports_are_read(desk, tmp_path, sep):
    path = write(tmp_path, "touchpoint,date,score\nask,2027-01-04,5\nask,2027-01-05,2\n".replace(",", sep))
    assert read_scores(str(path), load_journey(desk), scale="csat").answers["ask"].scores == (5, 2)


def test_a_file_above_the_size_limit_is_refused_unread(desk, tmp_path, capsys):
    from journeymap.loading import MAX_FILE_BYTES

    path = tmp_path / "scores.csv"
    path.write_bytes(b"touchpoint,date,score\n" + b"ask,2027-01-04,3\n" * (MAX_FILE_BYTES // 17 + 1))
    assert run(desk, path, "-o", tmp_path / "s.yaml", "--scale", "csat") == 2
    assert f"{path}:1:1: error [file] the scores file is larger than 10 MB" in capsys.readouterr().err


def test_problems_stop_being_listed_after_the_limit(desk, tmp_path):
    from journeymap.surveys import MAX_PROBLEMS

    path = write(tmp_path, "touchpoint,date,score\n" + "fix,2027-01-04,3\n" * 500)
    with pytest.raises(SurveyInvalid) as bad:
        read_scores(str(path), load_journey(desk), scale="csat")
    assert len(bad.value.problems) == MAX_PROBLEMS + 1 and bad.value.problems[-1].rule == "too-many-problems"


def test_the_mean_interval_covers_the_true_mean_95_times_in_100():
    """2,000 samples of 30 CSAT answers from known shares: the t interval (clipped to the scale) covers the
    true mean in 95% of them, within 4 binomial standard errors (±0.02)."""
    import numpy as np

    from journeymap.model import Step
    from journeymap.surveys import Answers, _survey

    shares = np.array([5, 10, 30, 35, 20]) / 100
    truth = float((np.arange(1, 6) * shares).sum())
    rng = np.random.default_rng(14)
    step = Step(id="ask", name="Ask", stage="ask", lane="customer", owner="customer", duration=None)  # type: ignore[arg-type]
    day = (datetime.date(2027, 1, 4),) * 30
    covered = 0
    for sample in rng.choice(np.arange(1, 6), size=(2000, 30), p=shares):
        answers = Answers("ask", SCALES["csat"], tuple(int(v) for v in sample), day, tuple(range(2, 32)))
        lo, hi = _survey(step, answers, 30).ci95
        covered += lo <= truth <= hi
    assert abs(covered / 2000 - 0.95) < 0.02


@pytest.mark.parametrize("option", ["-o", "--json-output"])
def test_a_folder_as_an_output_is_refused_before_anything_is_written(desk, tmp_path, capsys, option):
    (tmp_path / "out.yaml").mkdir()
    paths = {"-o": tmp_path / "s.yaml", "--json-output": tmp_path / "s.json"}
    paths[option] = tmp_path / "out.yaml"
    assert run(desk, write(tmp_path, SCORES), "-o", paths["-o"], "--json-output", paths["--json-output"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["desk.yaml", "out.yaml", "scores.csv"]


def test_a_scores_file_name_with_a_line_break_cannot_break_the_overlay(desk, tmp_path):
    scores = write(tmp_path, SCORES, "odd\nname.csv")
    overlay = tmp_path / "s.yaml"
    assert run(desk, scores, "-o", overlay, "--min-answers", 2) == 0
    assert "from 'odd\\nname.csv' (10 answers)" in overlay.read_text(encoding="utf-8")
    assert load_journey(overlay).step_by_id["ask"].emotion == 1.5
