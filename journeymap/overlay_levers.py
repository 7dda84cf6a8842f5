"""An overlay read as levers: one switch per change, so ``explore`` and ``optimise`` can weigh a design's changes.

``journeymap explain BEFORE AFTER`` splits what an overlay AFTER buys into its changes
(:mod:`journeymap.attribution`); this module turns the same changes into a
:class:`~journeymap.levers.LeverSet` of ``change`` levers, so the sweeps of a levers file run on them:
``journeymap explore BEFORE AFTER`` tries each change alone, ``journeymap optimise BEFORE AFTER`` every
combination. Each lever is a switch: 0 leaves BEFORE as it is, 1 applies its entries of the overlay.

A setting of several change levers is one **partial design**, exactly as ``explain`` builds it: the
overlay with only the chosen entries (:func:`~journeymap.attribution.partial_overlay`), checked like a
file. The levers set to 1 are applied together, never one after the other, so the setting with every
lever on is the journey of AFTER itself. Lever ids come from the change keys (``department:compliance``
gives ``department-compliance``), names from their labels; a change costs nothing (cost 0).

Each change alone must give a valid design; when one does not (a new step owned by a department the
overlay also adds), :func:`levers_from_overlay` raises :class:`~journeymap.errors.InvalidArgument` naming
the changes, where the first is in the file, and the ``--together`` that reads them as one lever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .attribution import Change, ChangesDepend, _designs, _overlay_of, group_changes, overlay_changes, partial_overlay
from .errors import InvalidArgument
from .levers import Kind, Lever, LeverSet
from .loading import Located
from .model import Journey
from .validation import check_located, load_journey

__all__ = ["levers_from_overlay", "lever_id", "KIND"]

#: The kind of a lever that is one change of an overlay.
KIND: Kind = "change"
#: Most changes whose every combination is checked to name the smallest groups that must go together.
_ALL_SUBSETS_LIMIT = 8


def lever_id(change: Change) -> str:
    """The lever id of a change: its key with ``:`` as ``-`` (``department:compliance``: ``department-compliance``)."""
    return change.key.replace(":", "-")


@dataclass(frozen=True)
class _PartialDesigns:
    """Builds the base journey with some changes applied together: the overlay with only their entries."""

    loc: Located
    changes: dict[str, Change]  # lever id -> change

    def __call__(self, ids: Sequence[str]) -> Journey:
        chosen = [self.changes[i] for i in ids]
        checked = check_located(partial_overlay(self.loc, [p for c in chosen for p in c.paths]), lint=False)
        if checked.journey is not None:
            return checked.journey
        first = checked.errors[0] if checked.errors else None
        why = f" ({first.file}:{first.line}:{first.column}: {first.message})" if first else ""
        raise InvalidArgument(f"the changes {' + '.join(c.label for c in chosen)} together make a design that does "
                              f"not validate{why}; read them with the changes they need as one lever: "
                              f"--together {','.join(c.key for c in chosen)},...")


def levers_from_overlay(before: str, after: str, together: Sequence[Sequence[str]] = ()) -> LeverSet:
    """The changes of the overlay ``after`` (which extends ``before``) as switch levers on ``before``'s journey.

    ``together`` groups changes into one lever, as ``explain --together`` does. Raises
    :class:`~journeymap.errors.JourneyInvalid` for an invalid file and
    :class:`~journeymap.errors.InvalidArgument` when ``after`` is no overlay of ``before``, changes nothing,
    a name in ``together`` is no change, or a change cannot be applied without another.
    """
    loc, _ = _overlay_of(before, after)
    changes = overlay_changes(loc)
    if not changes:
        raise InvalidArgument(f"{after} changes nothing in {before}: there are no levers in it")
    players = group_changes(changes, together)
    _check_alone(loc, players)
    ids = [lever_id(c) for c in players]
    if len(set(ids)) < len(ids):  # pragma: no cover - two keys that differ only by ':' and '-'
        ids = [c.key for c in players]
    levers = tuple(Lever(i, KIND, c.key, 0.0, 1.0, 0.0, name=c.title) for i, c in zip(ids, players, strict=True))
    return LeverSet(load_journey(before), levers, source=after, journey_file=before,
                    overlay=_PartialDesigns(loc, dict(zip(ids, players, strict=True))))


def _check_alone(loc: Located, players: Sequence[Change]) -> None:
    """Each change alone must give a valid design; else :class:`InvalidArgument` with the located problems and
    the smallest groups to read together (found over every combination when the changes are few)."""
    n = len(players)
    masks = [1 << i for i in range(n)]
    try:
        _designs(loc, players, masks)
        return
    except ChangesDepend as exc:
        depend = exc
    if n <= _ALL_SUBSETS_LIMIT:
        try:
            _designs(loc, players, range(1 << n))
        except ChangesDepend as exc:
            depend = exc
    said = "cannot be explained without"
    lines = [f"{p.file}:{p.line}:{p.column}: {p.message.replace(said, 'cannot be a lever without')}"
             for p in depend.problems]
    fix = " ".join(f"--together {','.join(g)}" for g in depend.groups)
    raise InvalidArgument("some changes of the overlay work only together: " + "; ".join(lines)
                          + f". Read them as one lever: {fix}")
