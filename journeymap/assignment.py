"""Which account manager holds which account: the accounts of a book drawn, then assigned by a policy.

:func:`draw_accounts` samples each account's revenue from its tier's distribution with the run's
seed and names the accounts ``strategic-001``, ``strategic-002``, ... in decreasing order of
revenue within their tier (the ids are stable: the same seed gives the same accounts, whatever
else the run does).

:func:`assign` gives each account a manager, or none (the pool), by the portfolio's policy. Every
policy walks the accounts in its own order and gives each to a manager who still has room; a
manager never holds more accounts than the ``relationships`` of their level, and the accounts left
when every manager is full go to the pooled team. Nothing is dropped: :class:`Assignment` lists
the pooled accounts (``unassigned``) and, when the managers are too few, says by how many.

* ``by_revenue`` (the default, and what the research saw firms do): the accounts from the largest
  revenue to the smallest; the most senior level's managers take them until each is at the limit,
  then the next level, and the rest (the long tail) go to the pool. With the usual 80/20 skew the
  managers hold the few accounts that make most of the revenue, and the many small ones, among
  them tomorrow's large accounts, have nobody.
* ``by_tier``: the same, but in tier order (the file's order, highest first) and by revenue within a
  tier: a small strategic account comes before a large growth one, because a tier is a decision
  about the relationship, not only the invoice.
* ``round_robin``: the accounts in id order (tier order, then revenue) dealt to the managers in
  turn, all levels together (senior-1, senior-2, junior-1, ...), skipping the full ones: every
  manager gets a mix of large and small accounts, seniority aside.

Within a level (``by_revenue``, ``by_tier``) the next account goes to the manager of the level who
holds the fewest accounts (the first of them on a tie), so a level's load stays even: with two
senior managers the largest account goes to senior-1, the second to senior-2, the third to senior-1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random

from .errors import InvalidArgument
from .portfolio import POLICIES, AccountManagement, Portfolio

__all__ = ["AccountRecord", "Assignment", "draw_accounts", "assign", "assign_accounts", "account_ids"]


@dataclass(frozen=True)
class AccountRecord:
    """One account of the book: its id, its tier, and its revenue per year (in the portfolio's currency)."""

    id: str
    tier: str
    revenue: float


@dataclass(frozen=True)
class Assignment:
    """Who holds which account.

    ``manager`` maps every account id to a manager id (``senior-2``) or None (the pool); ``load``
    every manager (including the ones holding nothing) to the accounts they hold; ``unassigned``
    lists the pooled accounts in the policy's order; ``over_limit`` the managers holding more than
    their level's limit (none, with the built-in policies; kept so no policy can hide it).
    ``needed`` is how many managers it would take for every account to have one (the last level's
    limit for the extra ones), ``people`` how many there are.
    """

    manager: dict[str, str | None]
    load: dict[str, int]
    unassigned: tuple[str, ...]
    over_limit: tuple[str, ...]
    policy: str = "by_revenue"
    limits: tuple[tuple[str, int], ...] = ()
    needed: int = 0
    people: int = 0

    @property
    def short(self) -> bool:
        """More accounts than the managers can hold."""
        return bool(self.unassigned)

    def message(self) -> str:
        """The shortfall in words ('the 400 accounts need 7 managers at these limits; you have 5'), or ''."""
        if not self.unassigned:
            return ""
        return (f"the {len(self.manager):,} accounts need {self.needed:,} managers at these limits; you have "
                f"{self.people:,}: {len(self.unassigned):,} accounts have no manager (the pool serves them)")


def account_ids(tier: str, count: int) -> list[str]:
    """``tier-001`` ... in order; zero-padded to at least 3 digits so the ids sort as the accounts do."""
    width = max(3, len(str(count)))
    return [f"{tier}-{n:0{width}d}" for n in range(1, count + 1)]


def draw_accounts(portfolio: Portfolio, seed: int) -> tuple[AccountRecord, ...]:
    """Every account of the book with its revenue, tier by tier in file order, largest first in a tier.

    Each tier has its own random stream (seeded by ``seed`` and the tier's id), so adding a tier or
    changing another tier's count leaves a tier's accounts as they were.
    """
    out: list[AccountRecord] = []
    for tier in portfolio.tiers:
        rng = Random(f"accounts:{seed}:{tier.id}")
        revenues = sorted((max(0.0, float(tier.revenue.sample(rng))) for _ in range(tier.accounts)), reverse=True)
        ids = account_ids(tier.id, tier.accounts)
        out += [AccountRecord(ident, tier.id, r) for ident, r in zip(ids, revenues, strict=True)]
    return tuple(out)


def assign(portfolio: Portfolio, accounts: Sequence[AccountRecord]) -> Assignment:
    """Each account's manager by the portfolio's policy (all accounts to the pool when it has no managers)."""
    if portfolio.management is None:
        return Assignment({a.id: None for a in accounts}, {}, tuple(a.id for a in accounts), (), "none")
    return assign_accounts(portfolio.management, accounts, tier_order=[t.id for t in portfolio.tiers])


def assign_accounts(management: AccountManagement, accounts: Sequence[AccountRecord], *,
                    tier_order: Sequence[str] = ()) -> Assignment:
    """:func:`assign` for the managers alone: pure, for tests and what-ifs (another policy, more people)."""
    policy = management.policy
    if policy not in POLICIES:
        raise InvalidArgument(f"unknown assignment policy {policy!r} (one of {', '.join(POLICIES)})")
    rank = {t: i for i, t in enumerate(tier_order)}
    position = {a.id: i for i, a in enumerate(accounts)}
    if policy == "by_revenue":
        order = sorted(accounts, key=lambda a: (-a.revenue, position[a.id]))
    else:
        order = sorted(accounts, key=lambda a: (rank.get(a.tier, len(rank)), -a.revenue, position[a.id]))
    limit = {m: level.relationships for level in management.levels for m in level.manager_ids()}
    load = dict.fromkeys(limit, 0)
    if policy == "round_robin":
        manager = _in_turn(order, list(limit), load, limit)
    else:
        manager = _by_seniority(order, [list(level.manager_ids()) for level in management.levels], load, limit)
    unassigned = tuple(a.id for a in order if manager[a.id] is None)
    last = management.levels[-1].relationships if management.levels else 1
    needed = management.people + math.ceil(len(unassigned) / last)
    return Assignment(
        manager={a.id: manager[a.id] for a in accounts}, load=load, unassigned=unassigned,
        over_limit=tuple(m for m in load if load[m] > limit[m]), policy=policy,
        limits=tuple(limit.items()), needed=needed, people=management.people)


def _by_seniority(order: Sequence[AccountRecord], levels: list[list[str]], load: dict[str, int],
                  limit: dict[str, int]) -> dict[str, str | None]:
    """Each account in ``order`` to the current level's manager holding the fewest; the next level once the
    current one is full; None (the pool) when all are. ``load`` is updated."""
    manager: dict[str, str | None] = {}
    current = 0
    for a in order:
        while current < len(levels) and all(load[m] >= limit[m] for m in levels[current]):
            current += 1
        if current == len(levels):
            manager[a.id] = None
            continue
        m = min((m for m in levels[current] if load[m] < limit[m]), key=lambda m: load[m])
        manager[a.id], load[m] = m, load[m] + 1
    return manager


def _in_turn(order: Sequence[AccountRecord], turn: list[str], load: dict[str, int],
             limit: dict[str, int]) -> dict[str, str | None]:
    """Each account in ``order`` to the next manager in ``turn`` with room (round robin); None when all are
    full. ``load`` is updated."""
    manager: dict[str, str | None] = {}
    k = 0
    for a in order:
        manager[a.id] = None
        for step in range(len(turn)):
            m = turn[(k + step) % len(turn)]
            if load[m] < limit[m]:
                manager[a.id], load[m] = m, load[m] + 1
                k = (k + step + 1) % len(turn)
                break
    return manager
