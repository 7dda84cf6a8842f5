"""Portfolio files (journeymap.portfolio, journeymap.validation.portfolio): the bundled book loads as written,
revenue is read through the distribution parser exactly, and every bad input of issue 17 is an error (or a
warning) at its line and column with a fix."""

from __future__ import annotations

import json

import pytest
from helpers import JOURNEYS, ROOT, copy_journey, dedent

from journeymap.cli import main
from journeymap.distributions import YEAR, DurationError, Fixed, LogNormal, Triangular, Uniform
from journeymap.errors import EXIT_INVALID, EXIT_OK, JourneyInvalid
from journeymap.portfolio import (
    PortfolioInvalid,
    RevenueError,
    check_portfolio,
    is_portfolio_file,
    load_portfolio,
    parse_horizon,
    parse_revenue,
)
from journeymap.problems import format_problem
from journeymap.schema import portfolio_schema_json

# --------------------------------------------------------------------------- the bundled book


def test_the_bundled_book_loads_as_written():
    checked = check_portfolio(JOURNEYS / "book.yaml")
    assert checked.errors == [], "\n".join(map(format_problem, checked.errors))
    book = checked.portfolio
    assert book is not None and book.currency == "EUR" and book.horizon == YEAR and book.accounts == 400
    assert [(t.id, t.accounts, t.priority) for t in book.tiers] == [
        ("strategic", 20, "strategic"), ("key", 60, "key"), ("growth", 120, "growth"),
        ("transactional", 200, "transactional")]
    assert book.tiers[0].revenue == LogNormal(1_500_000.0, 600_000.0)
    assert book.tiers[3].revenue == Uniform(3000.0, 20000.0)
    strategic = book.tiers[0]
    assert [(t.ref, t.kind, t.per_year, t.label) for t in strategic.templates] == [
        ("acme-account.yaml", "account", 0.25, "new_deal"), ("book-renewal.yaml", "journey", 1.0, "renewal"),
        ("book-support.yaml", "journey", 6.0, "support")]
    assert strategic.targets[0].within == 10 * 1440 and strategic.targets[0].goal == 0.9
    assert strategic.targets[0].scope == "journey"
    assert set(book.journeys) == {"acme-account.yaml", "book-renewal.yaml", "book-support.yaml"}
    assert book.meetings["acme-account.yaml"] is not None and book.meetings["book-support.yaml"] is None
    m = book.management
    assert m is not None and m.department == "sales" and m.policy == "by_revenue" and m.capacity == 80
    assert [(lv.level, lv.people, lv.relationships, lv.cost_per_hour) for lv in m.levels] == [
        ("senior", 2, 20, 130.0), ("junior", 1, 40, 90.0)]
    assert (m.pool_capacity, m.pool_cost_per_hour) == (1, 70.0)
    depts = {d.id: d for d in book.departments}
    assert depts["support"].capacity == 4 and depts["legal"].cost_per_hour == 150   # the portfolio's override
    assert depts["sales"].capacity == 3                                             # the templates' own
    assert book.start is not None and book.start.isoformat() == "2027-01-04T09:00:00+01:00"
    assert book.money == {"handoff_overhead": "10min", "churn": {"below": 60, "per_point": [0.5, 1.5]},
                          "expansion": {"above": 55, "per_point": [0.5, 1.5]}}
    assert book.warmup == 8 * 7 * 1440
    # the only warning of the book is the point of the example: the long tail has no manager
    own = [p for p in checked.warnings if p.file.endswith("book.yaml")]
    assert [p.rule for p in own] == ["managers-short"]
    assert "need 11 managers" in own[0].message and "you have 3" in own[0].message


def test_is_portfolio_file_tells_the_kinds_apart():
    assert is_portfolio_file(JOURNEYS / "book.yaml")
    for other in ("acme-account.yaml", "book-support.yaml", "insurance-levers.yaml"):
        assert not is_portfolio_file(JOURNEYS / other)


def test_validate_takes_the_book_and_the_folder(capsys):
    assert main(["validate", str(JOURNEYS / "book.yaml")]) == EXIT_OK
    assert "1 file(s) checked: 1 valid" in capsys.readouterr().err
    assert main(["validate", str(JOURNEYS)]) == EXIT_OK          # holidays/ and data/ below it are not read
    assert "0 with errors" in capsys.readouterr().err


def test_the_schema_command_prints_the_docs_schema(capsys):
    assert main(["schema", "--portfolio"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert printed == portfolio_schema_json() == (ROOT / "docs" / "portfolio.schema.json").read_text()
    assert json.loads(printed)["required"] == ["portfolio", "tiers"]


# --------------------------------------------------------------------------- revenue and horizon


@pytest.mark.parametrize("value, expected", [
    (50000, Fixed(50000.0)),                                          # a plain number: every account the same
    ({"fixed": 2_000_000}, Fixed(2_000_000.0)),
    ({"uniform": [5000, 40000]}, Uniform(5000.0, 40000.0)),
    ({"triangular": [1000, 2500.5, 9000]}, Triangular(1000.0, 2500.5, 9000.0)),
    ({"lognormal": {"mean": 2_000_000, "sd": 800_000}}, LogNormal(2_000_000.0, 800_000.0)),
    ({"uniform": [0.01, 3e9]}, Uniform(0.01, 3e9)),                   # a cent to three billion, exactly
])
def test_revenue_is_read_exactly_through_the_distribution_parser(value, expected):
    assert parse_revenue(value) == expected


@pytest.mark.parametrize("value, message, where", [
    ("2M EUR", "has a currency or a multiplier", ()),
    ({"uniform": ["€5000", 40000]}, "has a currency", ("uniform", 0)),
    ("40000/year", "has a currency or a multiplier", ()),
    ("3d", "has a time unit", ()),
    ({"lognormal": {"mean": 100, "sd": -5}}, "is negative", ("lognormal", "sd")),
    ({"uniform": [40000, 5000]}, "uniform needs lowest < highest", ()),
    ({"normal": [1, 2]}, "unknown distribution 'normal'", ()),
    (True, "must be a number", ()),
    (1e308, "is more than 1e\\+12 per account per year", ()),
    ({"empirical": [10, 30, 20]}, "empirical amounts must not decrease: 20 \\(amount 3\\) is less than 30",
     ("empirical", 2)),
])
def test_bad_revenue_says_why(value, message, where):
    with pytest.raises(RevenueError, match=message) as caught:
        parse_revenue(value)
    assert caught.value.where == where


def test_horizon_takes_years_and_durations():
    assert parse_horizon("1y") == YEAR and parse_horizon("2 years") == 2 * YEAR
    assert parse_horizon("26w") == 26 * 7 * 1440
    for bad in ("0y", "11y", "soon"):
        with pytest.raises(DurationError):
            parse_horizon(bad)


# --------------------------------------------------------------------------- bad input, located

GOOD = """\
    portfolio: {id: small, name: Small book, currency: EUR, horizon: 1y}
    departments:
      - {id: support, capacity: 3}
    account_management:
      department: sales
      managers:
        - {level: senior, people: 1, relationships: 2}
      policy: by_revenue
      pool: {capacity: 1, cost_per_hour: 50}
    tiers:
      - id: key
        accounts: 3
        revenue: {uniform: [1000, 5000]}
        priority: key
        journeys:
          - {template: book-support.yaml, per_year: 2, as: support}
        targets: [{within: 5d, goal: 0.8}]
      - id: growth
        accounts: 4
        revenue: 2000
        priority: growth
        journeys:
          - {template: book-renewal.yaml, per_year: 1}
    money:
      churn: {below: 60, per_point: [0.5, 1.5]}
    """


@pytest.fixture
def folder(tmp_path):
    for name in ("book-support.yaml", "book-renewal.yaml", "insurance-levers.yaml", "insurance-before.yaml"):
        copy_journey(JOURNEYS / name, tmp_path / name)
    return tmp_path


def _check(folder, text):
    path = folder / "p.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return path, check_portfolio(path)


def _at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` in the dedented text."""
    body = dedent(text)
    i = -1
    for _ in range(nth + 1):
        i = body.index(needle, i + 1)
    line = body.count("\n", 0, i) + 1
    return line, i - (body.rfind("\n", 0, i) + 1) + 1


def test_the_small_book_is_valid(folder):
    path, checked = _check(folder, GOOD)
    assert checked.errors == [] and checked.portfolio is not None
    assert [p.rule for p in checked.warnings if p.file == str(path)] == ["managers-short"]
    growth = checked.portfolio.tiers[1]
    assert growth.revenue == Fixed(2000.0) and growth.templates[0].label == "book-renewal"


# (replace this, with that, the needle the problem points at, its rule, words of the message, words of the hint)
BAD = [
    # a tier with no accounts, or a negative count
    ("accounts: 3", "accounts: 0", "0\n", "out-of-range", "'accounts' is 0; it must be at least 1", "remove a tier"),
    ("accounts: 3", "accounts: -2", "-2", "out-of-range", "'accounts' is -2", "at least 1"),
    ("    accounts: 3\n", "", "id: key", "missing-key", "tier 'key' is missing the required key 'accounts'",
     "How many accounts"),
    # revenue without a currency, or with a unit or a currency in it
    ("currency: EUR, ", "", "revenue: {uniform", "missing-currency", "names no currency", "currency: EUR"),
    ("revenue: 2000", "revenue: 2k EUR", "2k EUR", "invalid-revenue", "has a currency", "plain numbers"),
    ("revenue: 2000", "revenue: 2000/y", "2000/y", "invalid-revenue", "has a currency or a multiplier",
     "per account per year"),
    ("[1000, 5000]", "[1000, 5d]", "5d", "invalid-revenue", "has a time unit", "plain numbers"),
    ("[1000, 5000]", "[1000, -5]", "-5", "invalid-revenue", "is negative", "plain numbers"),
    # a churn link outside 0-100% (the journey's money block, one definition: validation/money.py)
    ("per_point: [0.5, 1.5]", "per_point: [0.5, 150]", "150", "out-of-range", "'per_point' is 150; it must be at "
     "most 100", "Percentage points of annual churn (0-100)"),
    ("below: 60", "below: 120", "120", "out-of-range", "'below' is 120; it must be at most 100", "(0-100)"),
    ("per_point: [0.5, 1.5]", "per_point: [2, 1]", "[2, 1]", "out-of-range", "low end 2 is above its high end 1",
     "[low, high]"),
    ("per_point: [0.5, 1.5]", "per_point: [0.5, 2]", "[0.5, 2]", "out-of-range", "could churn 120% of revenue",
     "high at most 1.66"),
    # unknown template files, templates outside the project folder, a file that is no template
    ("book-support.yaml", "book-suport.yaml", "book-suport.yaml", "unknown-reference",
     "template file 'book-suport.yaml' does not exist (did you mean 'book-support.yaml'?)", "relative to this"),
    ("book-support.yaml", "../book-support.yaml", "../book-support.yaml", "outside-project",
     "a template must be in this folder", "one folder"),
    ("book-support.yaml", "insurance-levers.yaml", "insurance-levers.yaml", "invalid-template",
     "is a levers file, not a template", "account file"),
    # unknown priority, department, policy
    ("priority: key", "priority: kee", "kee", "unknown-reference",
     "priority 'kee' is not one of the templates' priority classes", "use one of them"),
    ("department: sales", "department: sale", "sale\n", "unknown-reference",
     "no template has a department 'sale' (did you mean 'sales'?)", "departments in the templates"),
    ("{id: support, capacity: 3}", "{id: suport, capacity: 3}", "suport", "unknown-reference",
     "no template has a department 'suport' (did you mean 'support'?)", "departments in the templates"),
    ("policy: by_revenue", "policy: by_mood", "by_mood", "invalid-value", "'by_mood' is not a valid policy",
     "by_revenue, by_tier, round_robin"),
    # the rest
    ("horizon: 1y", "horizon: 1 fortnight", "1 fortnight", "invalid-duration", "fortnight", "horizon: 1y"),
    # a warm-up that is negative, or that makes the run longer than 10 years
    ("horizon: 1y", "horizon: 1y, warmup: -2w", "-2w", "invalid-duration", "-2w", "warmup: 8w"),
    ("horizon: 1y", "horizon: 9y, warmup: 2y", "2y", "invalid-duration", "longer than 10 years", "warmup: 8w"),
    # the expansion link: inverted, or more than all revenue again
    ("churn: {below: 60, per_point: [0.5, 1.5]}", "expansion: {above: 70, per_point: [0.6, 0.2]}", "[0.6, 0.2]",
     "out-of-range", "expansion link's low end 0.6 is above its high end 0.2", "[low, high]"),
    ("churn: {below: 60, per_point: [0.5, 1.5]}", "expansion: {above: 50, per_point: [1, 3]}", "[1, 3]",
     "out-of-range", "could add 150% of revenue", "high at most 2"),
    ("- id: growth", "- id: key", "key\n    accounts: 4", "duplicate-id", "tier 'key' is listed twice", "own id"),
    ("relationships: 2", "relationships: 200", "200", "dunbar", "Dunbar's number", "150 or below"),
    ("per_year: 2", "per_year: 0", "0, as", "out-of-range", "'per_year' is 0; it must be more than 0",
     "How many of these journeys"),
    ("book-support.yaml", "holidays", "holidays", "invalid-template", "is not an ordinary file", "relative to"),
]


@pytest.mark.parametrize("old, new, needle, rule, message, hint", BAD, ids=[f"{r[3]}:{r[1]}" for r in BAD])
def test_bad_input_is_located_with_a_fix(folder, old, new, needle, rule, message, hint):
    assert old in dedent(GOOD)
    text = dedent(GOOD).replace(old, new, 1)
    path, checked = _check(folder, text)
    found = [p for p in checked.problems if p.rule == rule and p.file == str(path)]
    assert len(found) == 1, "\n".join(map(format_problem, checked.problems))
    p = found[0]
    assert (p.line, p.column) == _at(text, needle), format_problem(p)
    assert message in p.message and hint in p.hint
    if p.is_error:
        assert checked.portfolio is None
        with pytest.raises(PortfolioInvalid) as caught:
            load_portfolio(path)
        assert isinstance(caught.value, JourneyInvalid)   # the CLI reports it like every invalid input


def test_managers_of_a_department_without_steps_get_a_warning(folder):
    support = folder / "book-support.yaml"
    support.write_text(support.read_text().replace(
        "  - {id: sales,", "  - {id: marketing, name: Marketing, capacity: 1}\n  - {id: sales,"), encoding="utf-8")
    text = dedent(GOOD).replace("department: sales", "department: marketing")
    path, checked = _check(folder, text)
    (p,) = [p for p in checked.problems if p.file == str(path) and p.rule == "idle-managers"]
    assert (p.line, p.column) == _at(text, "marketing")
    assert p.message == "no template has a step done by 'marketing': the account managers would do nothing"


def test_the_managers_short_warning_has_the_numbers(folder):
    text = dedent(GOOD).replace("accounts: 4", "accounts: 400")
    path, checked = _check(folder, text)
    (p,) = [p for p in checked.problems if p.rule == "managers-short"]
    assert (p.line, p.column) == _at(text, "managers:")
    assert p.message == ("the 403 accounts need 202 managers at these limits (201 more senior at 2 relationships); "
                         "you have 1: 401 accounts go to the pool")
    assert checked.portfolio is not None             # a warning: the pool serves them, and the report says so


def test_a_template_with_errors_is_reported_in_its_own_file(folder):
    (folder / "book-support.yaml").write_text("journey: {name: x}\n", encoding="utf-8")
    path, checked = _check(folder, GOOD)
    assert any(p.file.endswith("book-support.yaml") and p.rule == "missing-key" for p in checked.errors)
    (p,) = [p for p in checked.errors if p.file == str(path)]
    assert p.rule == "invalid-template" and (p.line, p.column) == _at(GOOD, "book-support.yaml")


def test_validate_prints_each_problem_located_and_exits_1(folder, capsys):
    path, _ = _check(folder, dedent(GOOD).replace("accounts: 3", "accounts: -2"))
    assert main(["validate", str(path)]) == EXIT_INVALID
    out = capsys.readouterr().out
    line, col = _at(dedent(GOOD).replace("accounts: 3", "accounts: -2"), "-2")
    assert f"{path}:{line}:{col}: error [out-of-range] 'accounts' is -2; it must be at least 1" in out
    assert "hint:" in out and "Traceback" not in out


@pytest.mark.parametrize("text", [
    "portfolio: [1, 2]\ntiers: 3\n",
    "portfolio: {name: x}\ntiers: [{id: a, accounts: 1, revenue: {}, journeys: [{template: 3, per_year: x}]}]\n",
    "portfolio: {name: x, start: tomorrow}\ntiers: []\naccount_management: {department: 4, managers: [7]}\n",
    "portfolio:\n",
    "portfolio: {name: x}\ntiers: [{id: a, accounts: 1, revenue: {weibull: {shape: 1, scale: 5}}, "
    "journeys: [{template: book-support.yaml, per_year: 1}]}]\n",
])
def test_broken_files_give_problems_not_tracebacks(folder, text):
    path = folder / "p.yaml"
    path.write_text(text, encoding="utf-8")
    checked = check_portfolio(path)
    assert checked.portfolio is None and checked.errors
    assert all(p.rule != "internal-error" for p in checked.problems), "\n".join(map(format_problem, checked.problems))


def test_the_annotated_example_in_the_docs_is_the_bundled_book():
    import re

    import yaml

    text = (ROOT / "docs" / "portfolio.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    assert yaml.safe_load(block) == yaml.safe_load((JOURNEYS / "book.yaml").read_text(encoding="utf-8"))


def test_the_main_job_takes_a_portfolio_and_reports_its_errors(folder, tmp_path):
    from journeymap.pipeline import run_all

    path, _ = _check(folder, GOOD)
    lines: list[str] = []
    assert run_all([str(path)], str(tmp_path / "out"), quick=True, log=lines.append) == EXIT_OK
    assert any(line.startswith(f"{path}: ") for line in lines), lines     # its summary line (or a note)
    bad, _ = _check(folder, dedent(GOOD).replace("accounts: 3", "accounts: -2"))
    lines.clear()
    assert run_all([str(bad)], str(tmp_path / "out2"), quick=True, log=lines.append) == EXIT_INVALID
    assert any("error [out-of-range] 'accounts' is -2" in line for line in lines)
