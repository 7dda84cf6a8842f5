"""Helpers and constants shared by the test modules: paths of the examples, YAML written in a test, made-up results.

Test modules import these (``from helpers import EXAMPLES, dedent``); pytest's fixtures live in
``conftest.py``, which pytest loads itself and which is never imported by a test module.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import re
import shutil
import subprocess
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = ROOT / "journeys"


def _is_account(path: Path) -> bool:
    """Account files (a buying group of journeys) sit in journeys/ too; they are not journeys."""
    from journeymap.account import is_account_file

    return is_account_file(str(path))


def _is_levers(path: Path) -> bool:
    """Levers files (docs/levers.md) sit in journeys/ too, beside the journey they change; they are not journeys."""
    from journeymap.levers import is_levers_file

    return is_levers_file(str(path))


def _is_portfolio(path: Path) -> bool:
    """Portfolio files (docs/portfolio.md: a book of accounts) sit in journeys/ too; they are not journeys."""
    from journeymap.portfolio import is_portfolio_file

    return is_portfolio_file(str(path))


#: Every example file in journeys/: journeys, account, levers and portfolio files alike.
ALL_EXAMPLES = sorted(JOURNEYS.glob("*.yaml"))
#: The example levers files.
LEVERS_EXAMPLES = [p for p in ALL_EXAMPLES if _is_levers(p)]
#: The example portfolio files.
PORTFOLIOS = [p for p in ALL_EXAMPLES if _is_portfolio(p)]
#: The example journeys (not account, levers or portfolio files).
EXAMPLES = [p for p in ALL_EXAMPLES if not _is_account(p) and p not in LEVERS_EXAMPLES and p not in PORTFOLIOS]
#: What simulate, render and compare take: journeys and account files.
SUBJECTS = [p for p in ALL_EXAMPLES if p not in LEVERS_EXAMPLES and p not in PORTFOLIOS]
#: The example account files.
ACCOUNTS = [p for p in ALL_EXAMPLES if _is_account(p)]
DATA = Path(__file__).resolve().parent / "data"


# --------------------------------------------------------------------------- journey files


def copy_journey(source: Path, target: Path) -> Path:
    """Copy a bundled journey to ``target`` with the holiday lists it reads (``holidays/`` beside it)."""
    shutil.copy(source, target)
    holidays, found = Path(target).parent / "holidays", Path(source).parent / "holidays"
    if found.is_dir() and not holidays.exists():
        shutil.copytree(found, holidays)
    return Path(target)


def example_ids(paths=EXAMPLES) -> list[str]:
    """Test ids for parametrizing over the example journeys: their file names."""
    return [p.name for p in paths]


def dedent(text: str) -> str:
    """YAML written indented inside a test, as the file a designer would save."""
    return textwrap.dedent(text).lstrip("\n")


def graph_of(text: str):
    """The graph of a journey given as YAML text; fails the test with every problem if it is invalid."""
    from journeymap.graph import build_graph
    from journeymap.problems import format_problem
    from journeymap.validation import check_text

    checked = check_text(dedent(text), "test.yaml", lint=False)
    assert checked.journey is not None, "\n".join(format_problem(p) for p in checked.problems)
    return build_graph(checked.journey)


# --------------------------------------------------------------------------- validation (located problems)

#: Lines 1-7 of every small journey of tests/test_validation.py; steps start on line 8.
HEAD = dedent("""
    journey: {name: T}
    persona: {id: p}
    stages: [a, b]
    departments:
      - {id: sales}
      - {id: ops}
    steps:
    """)


def step_items(steps: str) -> str:
    """Step items written in a test, indented under 'steps:' as in the examples."""
    return textwrap.indent(dedent(steps), "  ")


def J(steps: str, tail: str = "") -> str:
    """HEAD, then the steps (line 8 on, items at column 3), then anything after them."""
    return HEAD + step_items(steps) + dedent(tail)


#: Two valid steps for J: s1 (stage a, sales), then s2 (stage b, ops).
TWO_STEPS = """
      - {id: s1, stage: a, owner: sales, duration: 1h}
      - {id: s2, stage: b, owner: ops, duration: 1h}
    """

#: A journey file with (at least) a dozen mistakes, each on its own line marked '# mistake:'.
DOZEN = DATA / "dozen-mistakes.yaml"


# --------------------------------------------------------------------------- loading


def alias_bomb(levels: int) -> str:
    """YAML of a 'billion laughs': ``levels`` anchors, each a list of nine aliases of the one before."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- overlays

#: The base journey the overlay tests extend (the ``base`` fixture writes it as base.yaml).
OVERLAY_BASE = """
journey: {id: base, name: Base}
persona: {id: buyer, name: Buyer}
stages: [evaluate, buy]
departments:
  - {id: sales, capacity: 2}
  - {id: legal, capacity: 1}
steps:
  - {id: ask, stage: evaluate, owner: customer, duration: 1h, emotion: 0}
  - {id: quote, stage: evaluate, owner: sales, channel: email, duration: 2h, emotion: 1}
  - {id: review, stage: buy, owner: legal, duration: 1d}
  - {id: sign, stage: buy, owner: customer, duration: 1h, emotion: 1, value_adding: true}
"""


# --------------------------------------------------------------------------- rendering (made-up results, labels)


def fake_results(journey, seed: int = 7) -> dict:
    """A small simulation summary in the contract's shape, made up for one journey (no simulator needed)."""
    import numpy as np

    from journeymap.graph import build_graph
    from journeymap.model import CUSTOMER

    rng = np.random.default_rng(seed)
    g = build_graph(journey)

    def s(mean: float) -> dict:
        return {"mean": mean, "p50": mean * 0.9, "p90": mean * 1.6, "p95": mean * 1.9, "std": mean * 0.4,
                "ci95": [mean * 0.95, mean * 1.05]}

    internal = [n for n in g if g.nodes[n]["owner"] != CUSTOMER]
    waits = {n: float(rng.uniform(0, 300)) for n in internal}
    if internal:
        waits[internal[len(internal) // 2]] = 3000.0  # one clear bottleneck
    total_wait = sum(waits.values()) or 1.0
    steps = {n: {"visits_per_case": 1.0, "time_per_case": g.nodes[n]["mean_duration"] + waits.get(n, 0.0),
                 "wait_per_visit": waits.get(n, 0.0), "wait_per_case": waits.get(n, 0.0),
                 "share_of_waiting": waits.get(n, 0.0) / total_wait} for n in g}
    depts: dict = {}
    for n in internal:
        d = depts.setdefault(g.nodes[n]["owner"], {"utilisation": s(0.0), "queue_length": s(0.5), "wait": s(0.0),
                                                   "share_of_waiting": 0.0})
        d["share_of_waiting"] += steps[n]["share_of_waiting"]
    for i, d in enumerate(depts.values()):
        d["utilisation"] = s(0.3 + 0.6 * ((i * 37) % 10) / 10)
        d["wait"] = s(d["share_of_waiting"] * total_wait)
    pairs: dict = {}
    for u, v, dd in g.edges(data=True):
        if dd["handoff"]:
            key = (g.nodes[u]["owner"], g.nodes[v]["owner"])
            pairs[key] = pairs.get(key, 0.0) + 1.0
    waste = [{"from": a, "to": b, "handoffs_per_case": c, "waste_per_case": 60.0 * c * (1 + i % 3)}
             for i, ((a, b), c) in enumerate(sorted(pairs.items()))]
    samples = sorted(float(x) for x in rng.gamma(4.0, 1500.0, size=400))
    mean = float(np.mean(samples))
    stages = {st.id: {"processing": 300.0 + 100 * i, "value_adding": 120.0 + 20 * i, "waiting": 900.0 - 100 * i,
                      "handoff_delay": 200.0 + 50 * (i % 2)} for i, st in enumerate(journey.stages)}
    bottleneck = internal[len(internal) // 2] if internal else None
    return {
        "journey": journey.id, "persona": journey.persona.id, "replications": 5, "cases": 400,
        "time_unit": "minutes",
        "case": {"cycle_time": {**s(mean), "p50": float(np.percentile(samples, 50)),
                                "p90": float(np.percentile(samples, 90))},
                 "processing_time": s(600.0), "waiting_time": s(mean - 900), "handoff_delay": s(300.0),
                 "handoffs": s(4.0), "rework": s(0.3), "flow_efficiency": s(0.12)},
        "handoff_waste": {"total": s(sum(p["waste_per_case"] for p in waste)), "share_of_cycle_time": s(0.18),
                          "pairs": waste},
        "steps": steps,
        "stages": stages,
        "departments": depts,
        "bottleneck": {"department": g.nodes[bottleneck]["owner"] if bottleneck else None, "step": bottleneck,
                       "share_of_waiting": steps[bottleneck]["share_of_waiting"] if bottleneck else 0.0,
                       "mean_wait_per_case": waits.get(bottleneck, 0.0) if bottleneck else 0.0},
        "cycle_time_samples": samples,
    }


def flow_labels(src: str) -> dict:
    """The label of every drawn flow, keyed by (from, to), whether it is a node beside the line or on the line.

    Loops are drawn through a waypoint (``"u" -> _loopN -> "v"``) and arrows to another row of stages
    as two stubs (``"u" -> _outN``, ``_inN -> "v"``); both are read back as one flow.
    """
    out = {}
    for m in re.finditer(r'^\s*_label\d+ \[(.*)comment="label of (\S+) -> (\S+)"\];$', src, re.M):
        if "from row" not in m.group(1):  # the second stub of an arrow to another row only says where it comes from
            out[(m.group(2), m.group(3))] = m.group(1)
    edge = re.compile(r'^\s*(?:"([^"]+)"|(_\w+?)(\d+)) -> (?:"([^"]+)"|(_\w+?)(\d+)) \[(.*)\];$', re.M)
    src_of, dst_of, found = {}, {}, []
    for m in edge.finditer(src):
        u, uvia, ui, v, vvia, vi, attrs = m.groups()
        if u and vvia:
            src_of[vi] = u
        if v and uvia:
            dst_of[ui] = v
        found.append((u, ui, v, vi, attrs))
    for u, ui, v, vi, attrs in found:
        if "label=" in attrs and "from row" not in attrs:
            out.setdefault((u or src_of[ui], v or dst_of[vi]), attrs)
    return out


def handoff_labels(src: str) -> dict:
    """Each drawn handoff arrow's H-number and time lost, keyed by (from, to)."""
    out = {}
    for key, attrs in flow_labels(src).items():
        label = re.search(r">(H\d+)<BR/>(.*?)</B>", attrs)
        if label:
            lost = re.search(r"([\d.]+\w+) lost/case", label.group(2))
            out[key] = (label.group(1), lost.group(1) if lost else None)
    return out


# --------------------------------------------------------------------------- simulation


def journey_of(text: str):
    """The journey of YAML text (dedented); fails the test with every problem if it is invalid."""
    from journeymap.problems import format_problem
    from journeymap.validation import check_text

    checked = check_text(dedent(text), "test.yaml", lint=False)
    assert checked.journey is not None, "\n".join(format_problem(p) for p in checked.problems)
    return checked.journey


def queue_journey(capacity: int, service: float, gap: float) -> str:
    """YAML of one department of ``capacity`` serving exponential(``service`` min) work, Poisson arrivals
    every ``gap`` min."""
    return f"""
        journey: {{id: queue, name: One queue}}
        persona: {{id: buyer}}
        stages: [serve]
        departments: [{{id: desk, capacity: {capacity}}}]
        steps:
          - {{id: work, stage: serve, owner: desk, duration: {{exponential: {service:g}min}}}}
        workload: {{arrivals: {{poisson: {gap:g}min}}, cases: 100}}
        """


#: Two cases at time 0; sales (1 person, 10 min, value adding) hands over to legal (1 person,
#: 20 min) through a 30 min inbox; then a 5 min value-adding customer step. Worked out by hand
#: in tests/test_simulation.py::test_deterministic_handoff_journey_is_exact.
HANDOFF_JOURNEY = """
    journey: {id: handoff, name: Deterministic handoff}
    persona: {id: buyer}
    stages: [sell, sign]
    departments: [{id: sales, capacity: 1}, {id: legal, capacity: 1}]
    steps:
      - {id: pitch, stage: sell, owner: sales, duration: 10min, value_adding: true,
         next: {to: redline, delay: 30min}}
      - {id: redline, stage: sign, owner: legal, duration: 20min}
      - {id: sign, stage: sign, owner: customer, duration: 5min, value_adding: true}
    workload: {arrivals: {schedule: [0min, 0min]}}
    """


def read_rows(path) -> list[dict]:
    """The rows of an event log (a CSV file), as dicts."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- accounts


def persona(pid: str, role: str, prep: str, *, extra_steps: str = "", tolerance: str = "", dept_cap: int = 1) -> str:
    """A small journey: prepare (customer, fixed), sign (the gate step), then onboard with shared staff."""
    return f"""
journey: {{name: {pid}}}
persona: {{id: {pid}, name: {pid.upper()}, role: {role}{', tolerance: ' + tolerance if tolerance else ''}}}
stages: [evaluate, buy, use, renew]
departments: [{{id: ops, capacity: {dept_cap}}}]
steps:
  - {{id: prepare, stage: evaluate, owner: customer, duration: {prep}, emotion: 1}}
  - {{id: sign, stage: buy, owner: customer, duration: 1h, emotion: 2}}
  - {{id: onboard, stage: use, owner: ops, channel: meeting, duration: 2h, emotion: 1}}
{extra_steps}"""


ACCOUNT = """
account: {{id: acme, name: Acme}}
personas:
  - {{journey: a.yaml, influence: 3}}
  - {{journey: b.yaml, influence: 1}}
  - {{journey: c.yaml, influence: 1}}
gates:
  - id: decision
    at: {{{at}}}
workload: {{arrivals: {{every: 30d}}, cases: 4}}
"""


# --------------------------------------------------------------------------- hostile input (issue 10): mutated examples

#: The text of every bundled example file, by file name, as it was when the tests started.
EXAMPLE_TEXTS = {f.name: f.read_text(encoding="utf-8") for f in ALL_EXAMPLES}

_odd_text = st.one_of(
    st.text(max_size=12),                                                      # any code point, surrogates included
    st.sampled_from(["", " ", "\x00", "\a", "\ufffe", "\uffff", "\U0010ffff", "\ud800", "\u202eevil", "a\u0301",
                     "🧑‍🤝‍🧑", "مرحبا", "漢字", "<b>&amp;</b>", "{{x}}", "%s%n", "\\", "'\"", "x" * 5000]),
)
_numbers = st.one_of(
    st.sampled_from([0, -1, 1, 10**12, -(10**12), 2**63, 10**400, 0.0, -0.0, 1e-9, 1e308, -1e308,
                     math.inf, -math.inf, math.nan, 0.5, 1.0000001, True, False]),
    st.integers(), st.floats(allow_nan=True, allow_infinity=True),
)
_replacement = st.one_of(
    _numbers, _odd_text, st.none(),
    st.sampled_from([[], {}, [None], [[]], [{}], {"id": {}}, {"": None}, ["a", 1, None]]),
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into ``data`` (mapping keys and list indices), the root excluded."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


#: Files that read another bundled file: mutate the one, validate the other too.
_READERS = {"insurance-before.yaml": "insurance-more-staff.yaml",
            **{n: "acme-account.yaml" for n in EXAMPLE_TEXTS if n.startswith("acme-") and n != "acme-account.yaml"}}


@st.composite
def mutation_cases(draw) -> tuple[str, str, str]:
    """(file to validate, file mutated, its new text): a mutated file, or a file that reads it."""
    name, text = draw(mutated())
    target = draw(st.sampled_from([name, _READERS.get(name, name)]))
    return target, name, text


@st.composite
def mutated(draw) -> tuple[str, str]:
    """(file name, new text): one bundled file with one to three mutations, the way careless editing, scripts
    and attackers do it (keys deleted, types swapped, huge, negative and non-finite numbers, empty collections,
    odd Unicode, cut files)."""
    name = draw(st.sampled_from(sorted(EXAMPLE_TEXTS)))
    kind = draw(st.sampled_from(["data", "data", "data", "text"]))
    if kind == "text":  # a cut, a stray character, a duplicated chunk
        text = EXAMPLE_TEXTS[name]
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "repeat"]))
        if how == "cut":
            return name, text[:at]
        if how == "insert":
            return name, text[:at] + draw(st.sampled_from(["\t", ":", "- ", "&a ", "*a", "!!python/name:os.system ",
                                                           "\"", "'", "[", "{", "\x00", "\ufeff", "---\n", "<<: "]))
        return name, text[:at] + text[max(0, at - 200):at] + text[at:]
    data = yaml.safe_load(EXAMPLE_TEXTS[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        op = draw(st.sampled_from(["delete", "replace", "replace", "wrap", "empty", "stringify"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = copy.deepcopy(draw(_replacement))  # sampled values are shared objects
        elif op == "wrap":
            value = parent[path[-1]]
            parent[path[-1]] = [value] if draw(st.booleans()) else {"x": value}
        elif op == "empty":
            parent[path[-1]] = type(parent[path[-1]])() if isinstance(parent[path[-1]], (list, dict, str)) else None
        else:
            parent[path[-1]] = str(parent[path[-1]])
    return name, yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition, timeout: float = 60.0) -> bool:
    """Poll ``condition`` until it is true (True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


# --------------------------------------------------------------------------- levers and uncertainty

#: A serial journey with fixed durations and nobody ever queueing (one case a day, minutes of work): every
#: replication is the same, and the cycle time of a setting is 60 x pitch factor + 120 x delay factor + 30 min
#: (tests of explore, optimise and screening).
SERIAL_JOURNEY = """
journey: {id: serial, name: Serial}
persona: {id: buyer}
stages: [buy]
departments: [{id: sales, capacity: 1, cost_per_hour: 60}, {id: legal, capacity: 1, cost_per_hour: 120}]
steps:
  - {id: pitch, stage: buy, owner: sales, duration: 60min, value_adding: true, next: {to: review, delay: 2h}}
  - {id: review, stage: buy, owner: legal, duration: 30min}
workload: {arrivals: {every: 1d}, cases: 20}
"""

#: One customer step (no staff, so no queue) of a fixed duration, a case a day: every cycle time is the
#: step's duration exactly (tests of uncertain inputs; ``.format(duration=..., extra=...)``).
ONE_STEP_JOURNEY = """\
journey: {{name: One step}}
persona: {{id: p}}
stages: [s]
workload: {{arrivals: {{every: 1d}}, cases: 4}}
steps:
  - id: a
    stage: s
    owner: customer
    duration: {duration}
{extra}"""


def find_npm() -> str | None:
    """npm, installed from Debian's packages when it is missing and we are root (as in CI's fresh container);
    None when it cannot be had. The bpmn-js and mermaid-cli tests install their packages with it: whichever
    runs first installs npm for both."""
    found = shutil.which("npm")
    if found or not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    subprocess.run(["sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm"],
                   capture_output=True, text=True, timeout=1200)
    return shutil.which("npm")


#: A serial path with fixed durations, no delays and staff enough that nobody ever queues: a case's cycle time is
#: exactly the sum of its steps' durations, so each speed-up saves exactly its own time (explain's tests).
SERIAL = """
journey: {id: serial, name: Serial}
persona: {id: buyer, name: Buyer}
stages: [buy]
departments:
  - {id: sales, capacity: 50}
  - {id: legal, capacity: 50}
steps:
  - {id: ask, stage: buy, owner: customer, duration: 60min}
  - {id: quote, stage: buy, owner: sales, duration: 120min}
  - {id: review, stage: buy, owner: legal, duration: 300min}
  - {id: sign, stage: buy, owner: customer, duration: 60min}
workload: {arrivals: {poisson: 1d}, cases: 20}
"""


# --------------------------------------------------------------------------- a small book of business

#: Two tiers: 2 key accounts with the one senior manager, 30 growth accounts left to a one-person pool (its
#: renewal offers take a working day each, so growth's renewals queue); :func:`small_book` fills in the rest.
SMALL_BOOK = """\
portfolio: {id: BOOK_ID, name: BOOK_NAME, currency: EUR, horizon: 1y}
departments:
  - {id: success, capacity: 2, cost_per_hour: 90}
account_management:
  department: sales
  managers:
    - {level: senior, people: 1, relationships: 2, cost_per_hour: 130}
JUNIORS
  policy: by_revenue
  pool: {capacity: 1, cost_per_hour: 70}
tiers:
  - id: key
    accounts: 2
    revenue: 100000
    priority: key
    journeys:
      - {template: book-renewal.yaml, per_year: 2}
  - id: growth
    accounts: 30
    revenue: GROWTH_REVENUE
    priority: growth
    journeys:
      - {template: book-renewal.yaml, per_year: 6}
money:
MONEY
"""


def small_book(*, book_id: str = "small", name: str = "Small book", juniors: bool = False,
               growth_revenue: str = "20000", money: Sequence[str] = ()) -> str:
    """:data:`SMALL_BOOK` (its template is journeys/book-renewal.yaml): ``juniors`` adds two junior managers who
    hold every growth account; ``money`` are the lines of its money: block."""
    text = SMALL_BOOK.replace("BOOK_ID", book_id).replace("BOOK_NAME", name).replace("GROWTH_REVENUE", growth_revenue)
    text = text.replace("JUNIORS\n", "    - {level: junior, people: 2, relationships: 15, cost_per_hour: 90}\n"
                        if juniors else "")
    return text.replace("MONEY\n", "".join(f"  {line}\n" for line in money))
