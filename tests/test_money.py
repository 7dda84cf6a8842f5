"""Money (journeymap/money.py): the hand-computed examples of docs/money.md, the money: block's validation,
and the business case of compare in its JSON, terminal text and HTML report (the same numbers)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from helpers import JOURNEYS, dedent
from hypothesis import given, settings
from hypothesis import strategies as st
from test_report import parse

from journeymap.comparison import compare
from journeymap.money import (
    HOURS_PER_FTE,
    Band,
    ChurnLink,
    ExpansionLink,
    Investment,
    business_case_view,
    cost_per_case,
    expansion_gained,
    expansion_revenue,
    format_amount,
    fte,
    payback,
    revenue_at_risk,
    revenue_protected,
    staff_cost_by,
)
from journeymap.report import report_html
from journeymap.tables import comparison_text
from journeymap.validation import check_text

LINK = ChurnLink(below=60, low=0.5, high=1.5)
GROW = ExpansionLink(above=70, low=0.2, high=0.6)


# --------------------------------------------------------------------------- the examples of docs/money.md


def test_cost_per_case_adds_the_handoff_overhead_at_the_receivers_rate():
    """docs/money.md example 1: 30 min of sales (60/h), 15 min of legal (120/h), 2 handoffs sales->legal and 1
    back, 10 min each: staff 30 + 30 = 60, overhead 2 × 10/60 × 120 + 1 × 10/60 × 60 = 40 + 10 = 50."""
    c = cost_per_case({"sales": 30, "legal": 15}, {("sales", "legal"): 2, ("legal", "sales"): 1},
                      {"sales": 60, "legal": 120}, handoff_overhead=10)
    assert c["staff"] == pytest.approx(60)
    assert c["overhead"] == pytest.approx(50)
    assert c["total"] == pytest.approx(110)
    assert c["departments"] == pytest.approx({"sales": 40, "legal": 70})  # each with the overhead it receives
    assert c["minutes"] == pytest.approx({"sales": 40, "legal": 35})


def test_without_overhead_the_cost_per_case_is_compares_staff_cost():
    c = cost_per_case({"sales": 30, "legal": 15}, {("sales", "legal"): 2}, {"sales": 60, "legal": 120}, 0)
    assert c["total"] == c["staff"] == pytest.approx(60)


def test_a_handoff_to_an_unpriced_department_costs_nothing():
    c = cost_per_case({"sales": 30, "ops": 10}, {("sales", "ops"): 1}, {"sales": 60, "ops": None}, 10)
    assert c["overhead"] == 0 and c["total"] == pytest.approx(30)


def test_staff_cost_by_group_and_department():
    """docs/money.md example 2: per tier, minutes × rate / 60; an unpriced department costs 0."""
    out = staff_cost_by({"strategic": {"legal": 600, "sales": 120}, "growth": {"legal": 60}},
                        {"legal": 120, "sales": None})
    assert out == {"strategic": pytest.approx({"legal": 1200, "sales": 0, "total": 1200}),
                   "growth": pytest.approx({"legal": 120, "total": 120})}


def test_fte_of_a_years_minutes():
    assert fte(HOURS_PER_FTE * 60) == pytest.approx(1.0)
    assert fte(10 * 1000) == pytest.approx(10_000 / 60 / 1680)  # 10 min saved on 1,000 cases: 0.099 FTE


@pytest.mark.parametrize("index, ci, band", [
    # docs/money.md example 3: 10 points below at the mean (×1.0), 6 at the top of the CI (×0.5), 14 at its
    # bottom (×1.5), of 1,000,000
    (50, (46, 54), (100_000, 30_000, 210_000)),
    # above the line, even at the bottom of its interval: nothing at risk
    (70, (65, 75), (0, 0, 0)),
    # straddling the line: the low end is 0, the high end 5 points × 1.5
    (58, (55, 61), (20_000, 0, 75_000)),
    # no interval: the band spans the link only
    (50, None, (100_000, 50_000, 150_000)),
])
def test_revenue_at_risk_band(index, ci, band):
    got = revenue_at_risk(index, 1_000_000, LINK, index_ci=ci)
    assert (got.mean, got.low, got.high) == pytest.approx(band)


@pytest.mark.parametrize("before, change, ci, band", [
    # docs/money.md example 4: 50 -> 58 [56, 60]: 8 points (×1.0) = 80k; corners 6 × 0.5 = 3 -> 30k,
    # 10 × 1.5 = 15 -> 150k
    (50, 8, (6, 10), (80_000, 30_000, 150_000)),
    # past the line: only the 10 points below it count
    (50, 14, (12, 16), (100_000, 50_000, 150_000)),
    # a worse experience protects a negative amount
    (50, -4, (-6, -2), (-40_000, -90_000, -10_000)),
])
def test_revenue_protected_band(before, change, ci, band):
    got = revenue_protected(before, change, ci, 1_000_000, LINK)
    assert (got.mean, got.low, got.high) == pytest.approx(band)


def test_payback_months():
    """docs/money.md example 5: 120,000 once and 2,000 a month against 240,000 a year: 120,000 / (20,000 - 2,000)
    = 6.67 months; at 480,000 a year 120,000 / 38,000 = 3.16; at 48,000 a year 60 months."""
    got = payback(Investment(120_000, 2_000), Band(240_000, 48_000, 480_000))
    assert got["months"] == pytest.approx(120_000 / 18_000)
    assert got["fastest"] == pytest.approx(120_000 / 38_000)
    assert got["slowest"] == pytest.approx(60)


def test_a_benefit_that_does_not_cover_the_running_cost_never_pays_back():
    got = payback(Investment(120_000, 2_000), Band(24_000, 12_000, 36_000))
    assert got["months"] is None and got["slowest"] is None and got["fastest"] == pytest.approx(120_000 / 1_000)


@pytest.mark.parametrize("value, text", [
    (1_234_567, "EUR 1.23m"), (412_300, "EUR 412k"), (8_300, "EUR 8,300"), (7.5, "EUR 7.50"), (0, "EUR 0"),
    (-12_000, "−EUR 12,000"), (None, "n/a"),
])
def test_amounts_read_as_an_executive_reads_them(value, text):
    assert format_amount(value, "EUR") == text


# --------------------------------------------------------------------------- the money: block


HEAD = """\
journey: {name: Money}
persona: {id: buyer}
stages: [buy]
departments: [{id: sales, cost_per_hour: 60}]
steps:
  - {id: s1, stage: buy, owner: sales, duration: 1h}
"""


@pytest.mark.parametrize("index, ci, band", [
    # docs/money.md example 6: 10 points above 70 at the mean (×0.4) of 1,000,000 = 40,000; the low end takes the
    # bottom of the interval (5 points × 0.2 = 10,000), the high end its top (15 × 0.6 = 90,000)
    (80, (75, 85), (40_000, 10_000, 90_000)),
    # below the line, even at the top of its interval: no expansion
    (60, (55, 65), (0, 0, 0)),
    # no interval: the band spans the link only (10 × 0.2, 10 × 0.6)
    (80, None, (40_000, 20_000, 60_000)),
])
def test_expansion_revenue_band(index, ci, band):
    got = expansion_revenue(index, 1_000_000, GROW, index_ci=ci)
    assert (got.mean, got.low, got.high) == pytest.approx(band)


@pytest.mark.parametrize("before, change, ci, band", [
    # docs/money.md example 7: 65 -> 75 [73, 77]: 5 points over the line (×0.4) = 20,000; corners 3 × 0.2 = 6,000,
    # 7 × 0.6 = 42,000
    (65, 10, (8, 12), (20_000, 6_000, 42_000)),
    # already above: every point of the change counts
    (80, 5, (5, 5), (20_000, 10_000, 30_000)),
    # a worse experience loses expansion
    (80, -4, (-6, -2), (-16_000, -36_000, -4_000)),
])
def test_expansion_gained_band(before, change, ci, band):
    got = expansion_gained(before, change, ci, 1_000_000, GROW)
    assert (got.mean, got.low, got.high) == pytest.approx(band)


def _problems(money: str):
    checked = check_text(HEAD + money, "money.yaml", lint=False)
    return checked


@pytest.mark.parametrize("money, rule, line, column, words", [
    # the link's low end above its high end
    ("money: {currency: EUR, churn: {below: 60, per_point: [1.5, 0.5]}}\n", "out-of-range", 7, 54,
     "low end 1.5 is above its high end 0.5"),
    # a link that would churn more than all of the revenue: 80 × 1.5 = 120%
    ("money:\n  currency: EUR\n  churn: {below: 80, per_point: [0.5, 1.5]}\n", "out-of-range", 9, 33,
     "could churn 120% of revenue"),
    # a churn point outside 0-100
    ("money: {currency: EUR, churn: {below: 60, per_point: [0.5, 120]}}\n", "out-of-range", 7, 60, "at most 100"),
    # a negative churn point
    ("money: {currency: EUR, churn: {below: 60, per_point: [-0.5, 1]}}\n", "out-of-range", 7, 55, "at least 0"),
    # an index line outside 0-100
    ("money: {currency: EUR, churn: {below: 160, per_point: [0.5, 0.5]}}\n", "out-of-range", 7, 39, "at most 100"),
    # the expansion link's low end above its high end
    ("money: {currency: EUR, expansion: {above: 70, per_point: [0.6, 0.2]}}\n", "out-of-range", 7, 58,
     "expansion link's low end 0.6 is above its high end 0.2"),
    # an expansion link that could more than double every account: 50 points above 50, × 3 = 150%
    ("money: {currency: EUR, expansion: {above: 50, per_point: [1, 3]}}\n", "out-of-range", 7, 58,
     "could add 150% of revenue"),
    # an expansion line outside 0-100
    ("money: {currency: EUR, expansion: {above: 120, per_point: [0.2, 0.6]}}\n", "out-of-range", 7, 43,
     "at most 100"),
    # a negative overhead is not a duration
    ("money: {currency: EUR, handoff_overhead: -10min}\n", "invalid-duration", 7, 42, "-10min"),
    # a currency that is not an ISO code
    ("money: {currency: euro}\n", "invalid-value", 7, 19, "three-letter ISO 4217 code"),
    # revenue without a currency
    ("money: {revenue: 1000000}\n", "missing-key", 7, 8, "no currency"),
    # a negative investment
    ("money: {currency: EUR, investment: {one_off: -5}}\n", "out-of-range", 7, 46, "at least 0"),
])
def test_bad_money_is_located(money, rule, line, column, words):
    checked = _problems(money)
    assert checked.journey is None
    found = [p for p in checked.errors if p.rule == rule]
    assert found, [(p.line, p.column, p.rule, p.message) for p in checked.errors]
    assert any((p.line, p.column) == (line, column) and words in p.message for p in found), \
        [(p.line, p.column, p.message) for p in found]
    assert all(p.hint for p in found)


def test_a_good_money_block_reaches_the_journey():
    checked = _problems("money:\n  currency: GBP\n  handoff_overhead: 10min\n  cases_per_year: 1200\n"
                        "  revenue: 5000000\n  churn: {below: 60, per_point: [0.5, 1.5]}\n"
                        "  investment: {one_off: 100000}\n  hours_per_fte: 1600\n")
    assert checked.errors == [], checked.errors
    m = checked.journey.money
    assert (m.currency, m.handoff_overhead, m.cases_per_year, m.revenue) == ("GBP", 10, 1200, 5_000_000)
    assert m.churn == LINK and m.investment == Investment(100_000, 0) and m.hours_per_fte == 1600


def test_no_money_block_no_money():
    assert _problems("").journey.money is None


def test_an_overlay_adds_the_investment_to_the_bases_money(tmp_path):
    (tmp_path / "before.yaml").write_text(HEAD + "money: {currency: EUR, cases_per_year: 100}\n", encoding="utf-8")
    (tmp_path / "after.yaml").write_text("extends: before.yaml\nmoney: {investment: {one_off: 5000}}\n",
                                         encoding="utf-8")
    from journeymap.validation import check_file

    checked = check_file(str(tmp_path / "after.yaml"), lint=False)
    assert checked.errors == [], checked.errors
    m = checked.journey.money
    assert (m.currency, m.cases_per_year, m.investment) == ("EUR", 100, Investment(5000, 0))


# --------------------------------------------------------------------------- compare's business case

PAIR = """
journey: {{id: m-{side}, name: Money {side}}}
persona: {{id: buyer, tolerance: 4h}}
stages: [buy]
departments: [{{id: sales, capacity: 5, cost_per_hour: 60}}{legal}]
steps:
  - {{id: quote, stage: buy, owner: sales, duration: 30min}}
  - {{id: review, stage: buy, owner: {reviewer}, duration: 15min}}
  - {{id: sign, stage: buy, owner: customer, duration: 10min, emotion: {emotion}, moment_of_truth: true}}
workload: {{arrivals: {{every: 2h}}, cases: 30}}
money:
  currency: EUR
  handoff_overhead: 10min
  cases_per_year: 1000
  revenue: 1000000
  churn: {{below: 60, per_point: [0.5, 1.5]}}
{investment}"""


def _pair_journey(side: str):
    before = side == "before"
    text = PAIR.format(side=side, legal=", {id: legal, capacity: 5, cost_per_hour: 120}" if before else "",
                       reviewer="legal" if before else "sales", emotion=-1 if before else 1,
                       investment="" if before else "  investment: {one_off: 10000, per_month: 100}\n")
    checked = check_text(dedent(text), f"{side}.yaml", lint=False)
    assert checked.journey is not None, checked.problems
    return checked.journey


@pytest.fixture(scope="module")
def money_pair():
    before, after = _pair_journey("before"), _pair_journey("after")
    return compare(before, after, replications=3)


def test_the_business_case_of_a_hand_computed_pair(money_pair):
    """Fixed durations, one case every 2 h (no queue): before 30 min of sales (60/h) + 15 min of legal (120/h) +
    one handoff sales->legal (10 min at 120/h) = 30 + 30 + 20 = 80 a case; after 45 min of sales = 45. Saved 35 a
    case × 1,000 = 35,000 a year; 55 - 45 = 10 staff minutes a case × 1,000 / 60 / 1,680 = 0.0992 FTE."""
    bc = money_pair["business_case"]
    assert bc["before"]["cost_per_case"]["mean"] == pytest.approx(80)
    assert bc["before"]["overhead_per_case"]["mean"] == pytest.approx(20)
    assert bc["after"]["cost_per_case"]["mean"] == pytest.approx(45)
    assert bc["cost_saved_per_year"]["mean"] == pytest.approx(35_000)
    assert bc["cost_saved_per_year"]["ci95"] == pytest.approx([35_000, 35_000])  # the same in every replication
    assert bc["capacity_freed_fte"]["mean"] == pytest.approx(10 * 1000 / 60 / 1680)
    assert bc["before"]["staff_cost_per_year"] == pytest.approx({"sales": 30_000, "legal": 50_000, "total": 80_000})
    # the staff part is compare's own staff cost per case (existing figure, unchanged)
    row = next(r for r in money_pair["metrics"] if r["key"] == "cost_per_case")
    assert row["before"] == pytest.approx(bc["before"]["staff_cost_per_case"]["mean"]) == pytest.approx(60)


def test_revenue_at_risk_follows_the_experience_index_of_the_comparison(money_pair):
    bc = money_pair["business_case"]
    row = next(r for r in money_pair["metrics"] if r["key"] == "experience_index")
    risk = bc["revenue_at_risk"]
    assert risk["index_before"] == row["before"] and risk["index_after"] == row["after"]
    assert risk["before"]["mean"] == pytest.approx(1_000_000 * max(0, 60 - row["before"]) * 1.0 / 100)
    assert risk["before"]["low"] <= risk["before"]["mean"] <= risk["before"]["high"]
    p = bc["revenue_protected"]
    assert p["mean"] == pytest.approx(risk["before"]["mean"] - risk["after"]["mean"])
    assert p["low"] <= p["mean"] <= p["high"]
    benefit = bc["benefit_per_year"]
    assert benefit["mean"] == pytest.approx(35_000 + p["mean"])
    pb = bc["payback_months"]
    assert pb["months"] == pytest.approx(10_000 / (benefit["mean"] / 12 - 100))


@pytest.fixture(scope="module")
def grow_pair():
    """The hand-computed pair with an expansion link whose line sits between the two designs' indexes."""
    b, a = _pair_journey("before"), _pair_journey("after")

    def grown(j, above):
        return replace(j, money=replace(j.money, expansion=ExpansionLink(above, 0.2, 0.6)))

    probe = compare(b, a, replications=3)
    row = next(r for r in probe["metrics"] if r["key"] == "experience_index")
    line = (row["before"] + row["after"]) / 2
    return compare(grown(b, line), grown(a, line), replications=3), line


def test_expansion_gained_follows_the_experience_index_and_adds_to_the_benefit(grow_pair):
    """Expansion after − before through the link, its band over the paired change; the benefit adds it."""
    pair, line = grow_pair
    bc = pair["business_case"]
    row = next(r for r in pair["metrics"] if r["key"] == "experience_index")
    assert row["before"] < line < row["after"]
    exp = bc["expansion_revenue"]
    assert exp["before"]["mean"] == 0.0
    assert exp["after"]["mean"] == pytest.approx(1_000_000 * (row["after"] - line) * 0.4 / 100)
    g = bc["expansion_gained"]
    assert g["mean"] == pytest.approx(exp["after"]["mean"] - exp["before"]["mean"])
    assert g["low"] <= g["mean"] <= g["high"]
    assert bc["benefit_per_year"]["mean"] == pytest.approx(35_000 + bc["revenue_protected"]["mean"] + g["mean"])
    assert bc["assumptions"]["expansion"] == {"above": line, "per_point": [0.2, 0.6]}
    assert "of expansion revenue a year" in bc["headline"]


@pytest.fixture(scope="module")
def no_money_pair():
    b, a = _pair_journey("before"), _pair_journey("after")
    return compare(replace(b, money=None), replace(a, money=None), replications=3)


def test_without_a_money_block_compare_is_unchanged(money_pair, no_money_pair):
    """The money: block adds the business case and moves nothing else."""
    assert "business_case" not in no_money_pair
    assert {k: v for k, v in money_pair.items() if k != "business_case"} == no_money_pair


_NUMBER = re.compile(r"−?[A-Z]{3} [\d,.]+[mk]?|[\d.]+ (?:FTE|months)")


@pytest.mark.parametrize("grow", [False, True])
def test_every_figure_of_the_business_case_is_the_same_in_json_text_and_report(money_pair, grow_pair, grow):
    """The view's strings are made from the JSON numbers; the terminal text and the HTML show those strings."""
    money_pair = grow_pair[0] if grow else money_pair
    bc = money_pair["business_case"]
    view = business_case_view(bc)
    cur = bc["currency"]
    expected = {
        "Staff cost saved a year": format_amount(bc["cost_saved_per_year"]["mean"], cur),
        "Revenue protected a year": format_amount(bc["revenue_protected"]["mean"], cur),
        ("Benefit a year (saved + protected + expansion)" if grow else "Benefit a year (saved + protected)"):
            format_amount(bc["benefit_per_year"]["mean"], cur),
        "Payback of the investment": f"{bc['payback_months']['months']:.1f} months",
        "Capacity freed (full-time people)": f"{bc['capacity_freed_fte']['mean']:.1f} FTE",
        "Cost per case with handoff overhead, before": format_amount(bc["before"]["cost_per_case"]["mean"], cur),
        "Cost per case with handoff overhead, after": format_amount(bc["after"]["cost_per_case"]["mean"], cur),
        "Revenue at risk a year, before": format_amount(bc["revenue_at_risk"]["before"]["mean"], cur),
    }
    if grow:
        expected["Expansion revenue gained a year"] = format_amount(bc["expansion_gained"]["mean"], cur)
        expected["Expansion revenue a year, after"] = format_amount(bc["expansion_revenue"]["after"]["mean"], cur)
    central = {label: value for label, value, _, _ in view["rows"]}
    assert {k: central[k] for k in expected} == expected
    lo, hi = bc["revenue_protected"]["low"], bc["revenue_protected"]["high"]
    assert dict((r[0], r[2]) for r in view["rows"])["Revenue protected a year"] == \
        f"{format_amount(lo, cur)} … {format_amount(hi, cur)}"
    text = comparison_text(money_pair)
    html = report_html(money_pair)
    raw = html[html.index('id="business-case"'):html.index("</section>", html.index('id="business-case"'))]
    section = parse(raw).all_text
    for label, value, rng, _ in view["rows"]:
        assert f"{label}" in text and value in text and rng in text
        assert f"<td>{label}</td>" in raw and value in section and rng in section
    for label, value, rng in view["tiles"]:
        assert label in section and value in section and rng in section
    assert bc["headline"] in text and bc["headline"] in section
    # and nothing else that looks like an amount is in the section
    shown = set(_NUMBER.findall(raw))
    allowed = {m for r in view["rows"] for cell in r[1:3] for m in _NUMBER.findall(cell)}
    allowed |= set(_NUMBER.findall(" ".join(view["assumptions"] + [view["headline"]])))
    assert shown <= allowed, shown - allowed


def test_the_report_without_money_has_no_business_case(no_money_pair):
    assert 'id="business-case"' not in report_html(no_money_pair)
    assert "Business case" not in comparison_text(no_money_pair)


@settings(max_examples=200, deadline=None)
@given(index=st.floats(0, 100), spread=st.floats(0, 20), revenue=st.floats(0, 1e9), below=st.floats(0, 100),
       low=st.floats(0, 1), extra=st.floats(0, 1), change=st.floats(-40, 40), half=st.floats(0, 10))
def test_every_band_holds_its_central_figure(index, spread, revenue, below, low, extra, change, half):
    """Whatever the inputs, low <= central <= high, for revenue at risk and revenue protected."""
    link = ChurnLink(below, low, low + extra)
    risk = revenue_at_risk(index, revenue, link, index_ci=(index - spread, index + spread))
    assert risk.low <= risk.mean * (1 + 1e-12) + 1e-6 and risk.mean <= risk.high * (1 + 1e-12) + 1e-6
    kept = revenue_protected(index, change, (change - half, change + half), revenue, link)
    assert kept.low - 1e-6 <= kept.mean <= kept.high + 1e-6


def test_a_portfolio_gives_its_currency_to_its_money_block():
    """A portfolio states its currency at the top (portfolio: {currency}); its money: block need not repeat it."""
    from journeymap.validation.money import check_money

    said = []
    m = check_money({"handoff_overhead": "10min", "churn": {"below": 60, "per_point": [0.5, 1.5]}},
                    lambda *problem: said.append(problem), currency="EUR")
    assert said == [] and m is not None and (m.currency, m.handoff_overhead, m.churn) == ("EUR", 10, LINK)
    m = check_money({"churn": {"below": 80, "per_point": [0.5, 1.5]}}, lambda *problem: said.append(problem),
                    currency="EUR")
    assert m is None and [(path, rule) for path, rule, *_ in said] == [(("money", "churn", "per_point"),
                                                                          "out-of-range")]


def test_the_before_designs_volumes_and_revenue_make_the_case_and_a_difference_is_said():
    b, a = _pair_journey("before"), _pair_journey("after")
    a = replace(a, money=replace(a.money, revenue=2_000_000, cases_per_year=10))
    bc = compare(b, a, replications=2)["business_case"]
    assert bc["assumptions"]["revenue"] == 1_000_000 and bc["assumptions"]["cases_per_year"] == 1000
    assert bc["assumptions"]["investment"] == {"one_off": 10_000, "per_month": 100}  # the after design's
    assert any("cases_per_year, revenue differ" in n for n in bc["notes"])


def test_every_problem_of_a_money_block_is_reported_at_once():
    checked = _problems("money:\n  currency: euro\n  handoff_overhead: -10min\n"
                        "  churn: {below: 80, per_point: [1.5, 0.5]}\n  investment: {one_off: -5}\n")
    assert [(p.line, p.rule) for p in checked.errors] == [(8, "invalid-value"), (9, "invalid-duration"),
                                                           (10, "out-of-range"), (11, "out-of-range")]


def test_a_portfolios_money_block_is_read_with_its_currency():
    from journeymap.money import money_of
    from journeymap.portfolio import load_portfolio

    book = load_portfolio(str(JOURNEYS / "book.yaml"))
    m = money_of(book.money, book.currency)
    assert m is not None and m.currency == book.currency
    assert m.churn is not None and m.churn.low <= m.churn.high
    assert money_of(None, "EUR") is None
    with pytest.raises(ValueError, match="low end 2 is above its high end 1"):
        money_of({"churn": {"below": 10, "per_point": [2, 1]}}, "EUR")
