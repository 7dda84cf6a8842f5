"""Account-manager assignment (journeymap.assignment): each policy against a hand-worked book of ten accounts,
the shortfall reported with its numbers, and the accounts drawn from a portfolio."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest
from helpers import JOURNEYS
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.assignment import AccountRecord, account_ids, assign, assign_accounts, draw_accounts
from journeymap.distributions import Uniform
from journeymap.errors import InvalidArgument
from journeymap.portfolio import AccountManagement, ManagerLevel, load_portfolio

# Ten accounts in three tiers (tier order: strategic, key, growth). Two senior managers hold 2 accounts each,
# one junior holds 3: room for 7, so 3 go to the pool whatever the policy.
BOOK = [AccountRecord(i, t, r) for i, t, r in [
    ("s1", "strategic", 100), ("s2", "strategic", 10),
    ("k1", "key", 90), ("k2", "key", 80), ("k3", "key", 5),
    ("g1", "growth", 95), ("g2", "growth", 70), ("g3", "growth", 60), ("g4", "growth", 50), ("g5", "growth", 1)]]
TIERS = ["strategic", "key", "growth"]
LEVELS = (ManagerLevel("senior", 2, 2), ManagerLevel("junior", 1, 3))


def _assign(policy: str, accounts=BOOK, levels=LEVELS):
    return assign_accounts(AccountManagement("sales", levels, policy), accounts, tier_order=TIERS)


def _held(a) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    for account, manager in a.manager.items():
        out.setdefault(manager, []).append(account)
    return out


@pytest.mark.parametrize("policy, expected", [
    # by revenue: 100 95 90 80 to the seniors in turn (fewest held first), 70 60 50 to the junior, the tail pooled
    ("by_revenue", {"senior-1": ["s1", "k1"], "senior-2": ["k2", "g1"], "junior-1": ["g2", "g3", "g4"],
                    None: ["s2", "k3", "g5"]}),
    # by tier: strategic first (the small s2 too), then key by revenue, then growth; the growth tail pooled
    ("by_tier", {"senior-1": ["s1", "k1"], "senior-2": ["s2", "k2"], "junior-1": ["k3", "g1", "g2"],
                 None: ["g3", "g4", "g5"]}),
    # round robin: tier order dealt senior-1, senior-2, junior-1, ...; full managers skipped
    ("round_robin", {"senior-1": ["s1", "k2"], "senior-2": ["s2", "k3"], "junior-1": ["k1", "g1", "g2"],
                     None: ["g3", "g4", "g5"]}),
])
def test_each_policy_matches_the_hand_worked_assignment(policy, expected):
    a = _assign(policy)
    assert _held(a) == expected
    assert a.load == {"senior-1": 2, "senior-2": 2, "junior-1": 3}
    assert set(a.unassigned) == set(expected[None]) and a.over_limit == ()
    assert a.policy == policy and len(a.manager) == 10       # every account is in the result, none dropped


def test_by_revenue_pools_accounts_in_revenue_order():
    assert _assign("by_revenue").unassigned == ("s2", "k3", "g5")   # 10, 5, 1: the long tail, largest first


def test_the_shortfall_says_how_many_managers_it_would_take():
    a = _assign("by_revenue")
    assert a.short and a.people == 3 and a.needed == 4               # 3 pooled / 3 per junior = 1 more
    assert a.message() == ("the 10 accounts need 4 managers at these limits; you have 3: 3 accounts have no "
                           "manager (the pool serves them)")
    # 400 accounts, 5 junior managers at 150: 7 needed (the example)
    many = [AccountRecord(f"a{i}", "growth", 1.0) for i in range(400)]
    b = _assign("by_revenue", many, (ManagerLevel("senior", 0, 30), ManagerLevel("junior", 2, 150)))
    assert (b.people, b.needed, len(b.unassigned)) == (2, 3, 100)
    c = _assign("by_revenue", many, (ManagerLevel("junior", 2, 150),))
    assert "need 3 managers" in c.message() and "you have 2" in c.message()


def test_enough_managers_leave_nobody_in_the_pool():
    a = _assign("by_revenue", levels=(ManagerLevel("senior", 2, 3), ManagerLevel("junior", 2, 2)))
    assert a.unassigned == () and not a.short and a.message() == "" and a.needed == a.people == 4
    assert sum(a.load.values()) == 10


def test_a_level_with_nobody_is_skipped():
    a = _assign("by_revenue", levels=(ManagerLevel("senior", 0, 5), ManagerLevel("junior", 1, 3)))
    assert a.load == {"junior-1": 3} and [a.manager[x] for x in ("s1", "g1", "k1")] == ["junior-1"] * 3


def test_unknown_policy_is_refused():
    with pytest.raises(InvalidArgument, match="unknown assignment policy 'by_mood'"):
        _assign("by_mood")


def test_account_ids_sort_as_the_accounts_do():
    assert account_ids("key", 3) == ["key-001", "key-002", "key-003"]
    assert account_ids("t", 1200)[-1] == "t-1200" and account_ids("t", 1200)[0] == "t-0001"


# --------------------------------------------------------------------------- the bundled book


@pytest.fixture(scope="module")
def book():
    return load_portfolio(JOURNEYS / "book.yaml")


def test_drawn_accounts_are_stable_and_sorted_within_a_tier(book):
    a, b = draw_accounts(book, 1), draw_accounts(book, 1)
    assert a == b and len(a) == 400
    assert [x.id for x in a[:2]] == ["strategic-001", "strategic-002"] and a[-1].id == "transactional-200"
    for tier in book.tiers:
        revenues = [x.revenue for x in a if x.tier == tier.id]
        assert len(revenues) == tier.accounts and revenues == sorted(revenues, reverse=True)
    assert draw_accounts(book, 2) != a
    # a tier's accounts do not depend on the other tiers
    fewer = replace(book, tiers=book.tiers[1:])
    assert [x for x in draw_accounts(fewer, 1)] == [x for x in a if x.tier != "strategic"]


def test_drawn_revenue_follows_the_tier_distribution(book):
    tier = replace(book.tiers[0], accounts=4000, revenue=Uniform(0.0, 1000.0))
    revenues = [x.revenue for x in draw_accounts(replace(book, tiers=(tier,)), 7)]
    # mean 500, sd 1000/sqrt(12) = 288.7: the standard error of the mean of 4,000 is 4.6; allow 4 of them
    assert statistics.fmean(revenues) == pytest.approx(500, abs=4 * 288.7 / 4000 ** 0.5)
    assert 0 <= min(revenues) and max(revenues) <= 1000


def test_the_book_is_80_20_and_its_managers_hold_the_largest_accounts(book):
    for seed in range(1, 6):
        accounts = draw_accounts(book, seed)
        revenues = sorted((x.revenue for x in accounts), reverse=True)
        share = sum(revenues[:80]) / sum(revenues)
        assert 0.72 < share < 0.88, (seed, share)           # the research's 80/20, within sampling noise
        a = assign(book, accounts)
        assert len(a.unassigned) == 320 and a.load == {"senior-1": 20, "senior-2": 20, "junior-1": 40}
        managed = {x.id for x in accounts if a.manager[x.id] is not None}
        top = {x.id for x in sorted(accounts, key=lambda x: -x.revenue)[:80]}
        assert managed == top
        assert a.needed == 11 and a.people == 3             # 320 pooled / 40 per junior = 8 more


# --------------------------------------------------------------------------- invariants (Hypothesis)

_levels = st.lists(st.tuples(st.integers(0, 4), st.integers(1, 6)), min_size=1, max_size=3).map(
    lambda xs: tuple(ManagerLevel(f"l{i}", p, r) for i, (p, r) in enumerate(xs)))
_accounts = st.lists(st.tuples(st.sampled_from(TIERS), st.integers(0, 50)), max_size=40).map(
    lambda xs: [AccountRecord(f"a{i}", t, float(r)) for i, (t, r) in enumerate(xs)])


@settings(max_examples=200, deadline=None)
@given(_levels, _accounts, st.sampled_from(["by_revenue", "by_tier", "round_robin"]))
def test_no_manager_above_the_limit_and_no_account_dropped(levels, accounts, policy):
    a = _assign(policy, accounts, levels)
    limits = dict(a.limits)
    assert all(a.load[m] <= limits[m] for m in a.load) and a.over_limit == ()
    assert set(a.manager) == {x.id for x in accounts}                       # every account, once
    held = sum(a.load.values())
    assert held == sum(1 for m in a.manager.values() if m is not None)
    assert held == min(len(accounts), sum(lv.capacity for lv in levels))    # the managers are filled before the pool
    assert len(a.unassigned) == len(accounts) - held
    last = levels[-1].relationships
    assert a.needed == a.people + -(-len(a.unassigned) // last)


@settings(max_examples=200, deadline=None)
@given(_levels, _accounts)
def test_by_revenue_gives_the_seniors_the_largest_accounts(levels, accounts):
    a = _assign("by_revenue", accounts, levels)
    revenue = {x.id: x.revenue for x in accounts}
    rank: dict[str | None, int] = {m: i for i, lv in enumerate(levels) for m in lv.manager_ids()}
    rank[None] = len(levels)                                                 # the pool comes last
    for x in accounts:
        for y in accounts:
            if rank[a.manager[x.id]] < rank[a.manager[y.id]]:
                assert revenue[x.id] >= revenue[y.id]
