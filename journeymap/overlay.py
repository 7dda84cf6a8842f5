"""Scenario overlays: an "after" file that extends a base journey and says only what changes.

An overlay names its base with ``extends:`` (a path relative to the overlay)
and may then give:

* ``journey``, ``persona``, ``workload``, ``money``: keys that replace the base's keys (an after
  design's ``money: {investment: ...}`` keeps the base's volumes, revenue and churn link);
* ``calendars``, ``holidays``: named entries; the overlay's replace the base's of the same name
  (each as a whole), new names are added;
* ``calendar``, ``priorities``, ``targets``: replace the base's as a whole;
* ``stages``, ``departments``: entries matched by id; the overlay's keys
  replace the base entry's keys, new ids are appended;
* ``steps``: matched by id; the overlay's keys replace the base step's keys
  (``next`` is replaced as a whole); a new step goes right after the step
  named by its ``after:`` key, which a new step must have (an id the base
  lacks and no ``after:`` is most often a misspelt id: the error says which
  base step was meant);
* ``remove: {steps: [...], departments: [...], stages: [...]}``: entries dropped;
* ``start``, ``end``: replace the base's.

The result is validated like any journey. Every value keeps the file, line
and column it was written at, so a problem in an inherited step points into
the base file and a problem in an override points into the overlay.

The base must lie in the folder of the overlay or below it (no absolute
paths, no ``..`` or symlinks leading out), and chains of overlays are at most
:data:`MAX_OVERLAY_DEPTH` files long.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from typing import Any, NamedTuple

from .loading import Located, Path, ReferenceOutside, load_yaml, read_text, resolve_reference
from .problems import Problem

__all__ = ["resolve_overlay", "looks_like_journey", "MERGED_BY_ID", "REPLACED", "MAX_OVERLAY_DEPTH"]

#: Longest chain of overlays (an overlay of an overlay of ... a journey), the journey included.
MAX_OVERLAY_DEPTH = 20
#: Top-level keys of which a journey file has at least one.
JOURNEY_KEYS = ("journey", "persona", "stages", "steps", "extends")

#: Lists merged entry by entry, matched on ``id``.
MERGED_BY_ID = ("stages", "departments", "steps")
#: Mappings whose keys the overlay replaces one by one (a calendar or a holiday list: as a whole, by name).
REPLACED = ("journey", "persona", "workload", "calendars", "holidays", "money")


def _copy(dst: Located, src: Located, src_prefix: Path, dst_prefix: Path) -> None:
    """Copy the positions under ``src_prefix`` of ``src`` to ``dst_prefix`` of ``dst``."""
    n = len(src_prefix)
    for table_src, table_dst in ((src.values, dst.values), (src.keys, dst.keys)):
        for p, pos in table_src.items():
            if p[:n] == src_prefix:
                table_dst[dst_prefix + p[n:]] = pos
    # the file of everything copied: the longest recorded origin, else src.file
    dst.files[dst_prefix] = src.file_of(src_prefix)
    for p, f in src.files.items():
        if p[:n] == src_prefix and len(p) > n:
            dst.files[dst_prefix + p[n:]] = f


def entry_id(item: Any) -> str | None:
    """The id of a list entry: the entry itself when it is text, its ``id`` when it is a mapping, else None."""
    ident = item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
    return ident if isinstance(ident, str) else None


def looks_like_journey(data: Any) -> bool:
    """True when ``data`` has at least one top-level key of a journey (cheap; no validation)."""
    return isinstance(data, dict) and any(k in data for k in JOURNEY_KEYS)


def _no_problems(loc: Located) -> list[Problem]:
    return []


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def resolve_overlay(loc: Located, *, reader: Callable[[str], str] = read_text,
                    prepare: Callable[[Located], list[Problem]] = _no_problems,
                    _chain: tuple[str, ...] = ()) -> tuple[Located, list[Problem]]:
    """Merge ``loc`` onto the journey it ``extends``; returns the merged data and problems.

    ``prepare`` checks each base file as it is read, before the merge reads it
    (the validator passes its structure check, which also drops values of the
    wrong type), so every file is checked on its own positions. When there is
    nothing to merge onto (no ``extends``, or a base that cannot be read),
    ``loc`` itself comes back with the problems.
    """
    data = loc.data
    if not isinstance(data, dict) or "extends" not in data:
        return loc, _overlay_keys_without_extends(loc)
    base, problems = _base(loc, reader, prepare, _chain)
    if base is None:
        return loc, problems
    merged = _merge(loc, base, problems)
    problems += _unknown_removals(loc, base)
    return merged, problems


def _overlay_keys_without_extends(loc: Located) -> list[Problem]:
    """``remove:`` and a step's ``after:`` mean something only in a file that extends another."""
    data = loc.data
    if not isinstance(data, dict):
        return []
    problems = []
    if "remove" in data:
        problems.append(loc.problem(("remove",), "invalid-flow", "'remove' is only for a file that extends another",
                                    "add extends: <base file>, or delete it", key=True))
    for i, step in enumerate(data.get("steps") or [] if isinstance(data.get("steps"), list) else []):
        if isinstance(step, dict) and "after" in step:
            problems.append(loc.problem(("steps", i, "after"), "invalid-flow",
                                        "'after' places a new step in a file that extends another",
                                        "in a complete journey, steps run in file order: move the step instead",
                                        key=True))
    return problems


def _base(loc: Located, reader: Callable[[str], str], prepare: Callable[[Located], list[Problem]],
          chain: tuple[str, ...]) -> tuple[Located | None, list[Problem]]:
    """The journey ``loc`` extends, itself resolved and prepared; None (with the problems) when it cannot be had."""
    ref = loc.data["extends"]
    if not isinstance(ref, str) or not ref:
        return None, [loc.problem(("extends",), "wrong-type", "'extends' must be the path of a journey file",
                                  "e.g. extends: insurance-before.yaml")]
    try:
        base_file = resolve_reference(ref, loc.file)
    except ReferenceOutside as exc:
        return None, [loc.problem(("extends",), "outside-project", f"'extends' must name a file in this folder: {exc}",
                                  "copy the base journey next to the overlay (or into a folder below it) and "
                                  "give its relative path")]
    if len(chain) + 1 >= MAX_OVERLAY_DEPTH:
        return None, [loc.problem(("extends",), "too-large",
                                  f"overlays are chained more than {MAX_OVERLAY_DEPTH} files deep",
                                  "extend the journey itself, or merge some of the overlays into one")]
    chain += (os.path.normpath(loc.file),)
    if base_file in chain:
        return None, [loc.problem(("extends",), "invalid-value",
                                  f"{ref!r} leads back to this file ({' -> '.join(chain + (base_file,))})",
                                  "an overlay cannot extend itself, or a file that extends it")]
    try:
        text = reader(base_file)
    except UnicodeDecodeError:
        return None, [loc.problem(("extends",), "unknown-reference", f"cannot read the base journey {ref!r}: "
                                  "it is not UTF-8 text", "extend a journey file")]
    except OSError as exc:
        return None, [loc.problem(("extends",), "unknown-reference", f"cannot read the base journey {ref!r}: "
                                  f"{exc.strerror or exc}", "give the path of the base file relative to this one")]
    base, problems = load_yaml(text, base_file)
    if base is None:
        return None, problems
    if not looks_like_journey(base.data):  # say so by name; never quote a file that is not a journey
        return None, [loc.problem(("extends",), "not-a-journey", f"the base {ref!r} is not a journey file",
                                  "extend a journey file (with journey:, persona:, stages: and steps:)")]
    problems += prepare(base)
    resolved, more = resolve_overlay(base, reader=reader, prepare=prepare, _chain=chain)
    problems += more
    if resolved is base and "extends" in base.data:
        return None, problems  # the base's own base could not be read: nothing to merge onto
    if not isinstance(resolved.data, dict):  # pragma: no cover - looks_like_journey saw a mapping
        return None, problems
    return resolved, problems


def _merge(over: Located, base: Located, problems: list[Problem]) -> Located:
    """The overlay's keys over the base's, each value keeping the file, line and column it was written at."""
    data = over.data
    merged = Located(over.file, {}, base=base.file)
    merged.removed.update(base.removed)
    merged.values[()] = over.values.get((), (1, 1))
    remove = _mapping(data.get("remove"))
    for key, ids in remove.items():
        for i, ident in enumerate(ids if isinstance(ids, list) else []):
            if isinstance(ident, str):
                merged.removed[(key, ident)] = (over.file, over.where(("remove", key, i))[0])
    for key in list(base.data) + [k for k in data if k not in base.data]:
        if key not in ("extends", "remove", "$schema"):
            merged.data[key] = _merge_key(merged, base, over, key, remove, problems)
    return merged


def _merge_key(merged: Located, base: Located, over: Located, key: str, remove: dict[str, Any],
               problems: list[Problem]) -> Any:
    """The merged value of one top-level key: lists by id, mappings key by key, anything else replaced."""
    in_base, in_over = key in base.data, key in over.data
    if key in MERGED_BY_ID and isinstance(base.data.get(key), list) and isinstance(over.data.get(key, []), list):
        removed = remove.get(key)
        return _merge_list(merged, base, over, key, removed if isinstance(removed, list) else [], problems)
    if (key in REPLACED and in_base and in_over and isinstance(base.data[key], dict)
            and isinstance(over.data[key], dict)):
        return _merge_mapping(merged, base, over, key)
    source = over if in_over else base
    _copy(merged, source, (key,), (key,))
    return source.data[key]


def _merge_mapping(merged: Located, base: Located, over: Located, key: str) -> dict[str, Any]:
    """A mapping of :data:`REPLACED`: the base's keys, each one the overlay gives replaced."""
    theirs, ours = base.data[key], over.data[key]
    out = {k: v for k, v in theirs.items() if k not in ours}
    _copy(merged, base, (key,), (key,))
    for k, v in ours.items():
        out[k] = v
        _copy(merged, over, (key, k), (key, k))
    merged.files[(key,)] = over.file  # the mapping itself is the overlay's
    for k in theirs:
        if k not in ours:
            merged.files[(key, k)] = base.file_of((key, k))
    return out


def _unknown_removals(over: Located, base: Located) -> list[Problem]:
    """``remove:`` may name only lists merged by id, and only ids the base has."""
    problems = []
    for key, ids in _mapping(over.data.get("remove")).items():
        if key not in MERGED_BY_ID:
            problems.append(over.problem(("remove", key), "unknown-key", f"cannot remove {key!r}",
                                         f"remove may list: {', '.join(MERGED_BY_ID)}", key=True))
            continue
        known = [entry_id(e) for e in base.data.get(key) or []]
        for i, ident in enumerate(ids if isinstance(ids, list) else []):
            if isinstance(ident, str) and ident not in known:
                problems.append(over.problem(("remove", key, i), "unknown-reference",
                                             f"{ident!r} is not among the base journey's {key}",
                                             f"the base ({over.data['extends']}) has: "
                                             f"{', '.join(str(k) for k in known)}"))
    return problems


def _unplaced_step(over: Located, i: int, ident: str, base_ids: list[str], problems: list[Problem]) -> None:
    """A step of the overlay that the base lacks, without ``after:``: a misspelt id, or a new step not placed."""
    close = difflib.get_close_matches(ident, base_ids, n=1, cutoff=0.75)
    if close:
        problems.append(over.problem(("steps", i, "id"), "unknown-reference",
                                     f"the base has no step {ident!r} — did you mean {close[0]!r}?",
                                     f"write id: {close[0]} to change that step; a new step needs after: "
                                     "<the step it follows>"))
    else:
        problems.append(over.problem(("steps", i, "id"), "missing-key",
                                     f"new step {ident!r} has no 'after:', so its place in the journey is unknown",
                                     "add after: <id of the step it follows>"
                                     + (f" (the base's steps: {', '.join(base_ids[:8])}"
                                        f"{', ...' if len(base_ids) > 8 else ''})" if base_ids else "")))


class _Placed(NamedTuple):
    """An entry of a merged list: the file it comes from and its index there."""

    source: Located
    position: int
    entry: Any


def _merge_list(merged: Located, base: Located, over: Located, key: str, removed: list,
                problems: list[Problem]) -> list:
    """Merge a list of id'd entries; positions follow each entry to its new index."""
    over_by_id = {entry_id(e): _Placed(over, i, e) for i, e in enumerate(over.data.get(key) or [])
                  if entry_id(e) is not None}
    order = _placed(base, over, key, removed, problems)
    result = [_merged_entry(merged, base, key, j, placed, over_by_id) for j, placed in enumerate(order)]
    merged.values.setdefault((key,), (over if key in over.data else base).where((key,)))
    merged.files[(key,)] = over.file if key in over.data else base.file_of((key,))
    # entries keep their own files (set per index by _copy)
    return result


def _placed(base: Located, over: Located, key: str, removed: list, problems: list[Problem]) -> list[_Placed]:
    """The entries in their final order: the base's (less the removed ones), each new one after its ``after:``."""
    base_items = list(base.data.get(key) or [])
    base_ids = {entry_id(e) for e in base_items}
    order = [_Placed(base, i, e) for i, e in enumerate(base_items) if entry_id(e) not in removed]
    for i, e in enumerate(over.data.get(key) or []):
        ident = entry_id(e)
        if ident in base_ids or ident is None:
            continue  # a change to a base entry; or no id at all (reported by the structure check)
        after = e.get("after") if isinstance(e, dict) else None
        if key == "steps" and after is None:
            _unplaced_step(over, i, ident, [x for x in map(entry_id, base_items) if x is not None], problems)
            continue
        order.insert(_position_after(over, key, i, after, order, problems), _Placed(over, i, e))
    return order


def _position_after(over: Located, key: str, i: int, after: Any, order: list[_Placed], problems: list[Problem]) -> int:
    """Where a new entry goes: right after the entry its ``after:`` names (base or new), else at the end."""
    if not isinstance(after, str):
        return len(order)
    for k, placed in enumerate(order):
        if entry_id(placed.entry) == after:  # a base entry, or a new one placed earlier in the overlay
            return k + 1
    problems.append(over.problem((key, i, "after"), "unknown-reference",
                                 f"'after: {after}' names no step of the base journey or of this file",
                                 "steps: " + ", ".join(str(entry_id(x.entry)) for x in order)))
    return len(order)


def _merged_entry(merged: Located, base: Located, key: str, j: int, placed: _Placed,
                  over_by_id: dict[str | None, _Placed]) -> Any:
    """The ``j``-th entry of the merged list: a base entry with the overlay's keys over it, or an entry as is."""
    src, i, e = placed
    change = over_by_id.get(entry_id(e)) if src is base else None
    if change is not None and isinstance(e, dict) and isinstance(change.entry, dict):
        entry = dict(e)
        _copy(merged, base, (key, i), (key, j))
        for k, v in change.entry.items():
            entry[k] = v
            _copy(merged, change.source, (key, change.position, k), (key, j, k))
            merged.files[(key, j, k)] = change.source.file_of((key, change.position, k))
        return entry
    if change is not None:
        src, i, e = change
    _copy(merged, src, (key, i), (key, j))
    return e
