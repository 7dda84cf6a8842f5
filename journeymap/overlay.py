"""Scenario overlays: an "after" file that extends a base journey and says only what changes.

An overlay names its base with ``extends:`` (a path relative to the overlay)
and may then give:

* ``journey``, ``persona``, ``workload``: keys that replace the base's keys;
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
from typing import Any

from .loading import Located, Path, ReferenceOutside, load_yaml, read_text, resolve_reference
from .problems import Problem

__all__ = ["resolve_overlay", "looks_like_journey", "MERGED_BY_ID", "REPLACED", "MAX_OVERLAY_DEPTH"]

#: Longest chain of overlays (an overlay of an overlay of ... a journey), the journey included.
MAX_OVERLAY_DEPTH = 20
#: Top-level keys of which a journey file has at least one.
JOURNEY_KEYS = ("journey", "persona", "stages", "steps", "extends")

#: Lists merged entry by entry, matched on ``id``.
MERGED_BY_ID = ("stages", "departments", "steps")
#: Mappings whose keys the overlay replaces one by one.
REPLACED = ("journey", "persona", "workload")


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


def _entry_id(item: Any) -> Any:
    ident = item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
    return ident if isinstance(ident, str) else None


def looks_like_journey(data: Any) -> bool:
    """True when ``data`` has at least one top-level key of a journey (cheap; no validation)."""
    return isinstance(data, dict) and any(k in data for k in JOURNEY_KEYS)


def _no_problems(loc: Located) -> list[Problem]:
    return []


def resolve_overlay(loc: Located, *, reader: Callable[[str], str] = read_text,
                    prepare: Callable[[Located], list[Problem]] = _no_problems,
                    _chain: tuple[str, ...] = ()) -> tuple[Located, list[Problem]]:
    """Merge ``loc`` onto the journey it ``extends``; returns the merged data and problems.

    ``prepare`` checks each base file as it is read, before the merge reads it
    (the validator passes its structure check, which also drops values of the
    wrong type), so every file is checked on its own positions.
    """
    data = loc.data
    if not isinstance(data, dict) or "extends" not in data:
        problems = []
        if isinstance(data, dict):
            for key in ("remove",):
                if key in data:
                    problems.append(loc.problem((key,), "invalid-flow", f"{key!r} is only for a file that extends another",
                                                "add extends: <base file>, or delete it", key=True))
            for i, step in enumerate(data.get("steps") or [] if isinstance(data.get("steps"), list) else []):
                if isinstance(step, dict) and "after" in step:
                    problems.append(loc.problem(("steps", i, "after"), "invalid-flow",
                                                "'after' places a new step in a file that extends another",
                                                "in a complete journey, steps run in file order: move the step instead",
                                                key=True))
        return loc, problems
    ref = data["extends"]
    if not isinstance(ref, str) or not ref:
        return loc, [loc.problem(("extends",), "wrong-type", "'extends' must be the path of a journey file",
                                 "e.g. extends: insurance-before.yaml")]
    try:
        base_file = resolve_reference(ref, loc.file)
    except ReferenceOutside as exc:
        return loc, [loc.problem(("extends",), "outside-project", f"'extends' must name a file in this folder: {exc}",
                                 "copy the base journey next to the overlay (or into a folder below it) and "
                                 "give its relative path")]
    if len(_chain) + 1 >= MAX_OVERLAY_DEPTH:
        return loc, [loc.problem(("extends",), "too-large",
                                 f"overlays are chained more than {MAX_OVERLAY_DEPTH} files deep",
                                 "extend the journey itself, or merge some of the overlays into one")]
    if base_file in _chain + (os.path.normpath(loc.file),):
        chain = " -> ".join(_chain + (os.path.normpath(loc.file), base_file))
        return loc, [loc.problem(("extends",), "invalid-value", f"{ref!r} leads back to this file ({chain})",
                                 "an overlay cannot extend itself, or a file that extends it")]
    try:
        text = reader(base_file)
    except UnicodeDecodeError:
        return loc, [loc.problem(("extends",), "unknown-reference", f"cannot read the base journey {ref!r}: "
                                 "it is not UTF-8 text", "extend a journey file")]
    except OSError as exc:
        return loc, [loc.problem(("extends",), "unknown-reference", f"cannot read the base journey {ref!r}: "
                                 f"{exc.strerror or exc}", "give the path of the base file relative to this one")]
    base, problems = load_yaml(text, base_file)
    if base is None:
        return loc, problems
    if not looks_like_journey(base.data):  # say so by name; never quote a file that is not a journey
        return loc, [loc.problem(("extends",), "not-a-journey", f"the base {ref!r} is not a journey file",
                                 "extend a journey file (with journey:, persona:, stages: and steps:)")]
    problems += prepare(base)
    resolved, more = resolve_overlay(base, reader=reader, prepare=prepare, _chain=_chain + (os.path.normpath(loc.file),))
    problems += more
    if resolved is base and "extends" in base.data:
        return loc, problems  # the base's own base could not be read: nothing to merge onto
    base = resolved
    if not isinstance(base.data, dict):  # pragma: no cover - looks_like_journey saw a mapping
        return loc, problems

    merged = Located(loc.file, {}, base=base_file)
    merged.removed.update(base.removed)
    out: dict[str, Any] = merged.data
    merged.values[()] = loc.values.get((), (1, 1))
    remove = data.get("remove") if isinstance(data.get("remove"), dict) else {}
    for key, ids in remove.items():
        for i, ident in enumerate(ids if isinstance(ids, list) else []):
            if isinstance(ident, str):
                merged.removed[(key, ident)] = (loc.file, loc.where(("remove", key, i))[0])

    keys = list(base.data) + [k for k in data if k not in base.data]
    for key in keys:
        if key in ("extends", "remove", "$schema"):
            continue
        in_base, in_over = key in base.data, key in data
        if key in MERGED_BY_ID and isinstance(base.data.get(key), list) and isinstance(data.get(key, []), list):
            out[key] = _merge_list(merged, base, loc, key, remove.get(key) if isinstance(remove.get(key), list) else [],
                                   problems)
        elif key in REPLACED and in_base and in_over and isinstance(base.data[key], dict) and isinstance(data[key], dict):
            out[key] = {}
            _copy(merged, base, (key,), (key,))
            for k, v in base.data[key].items():
                if k not in data[key]:
                    out[key][k] = v
            for k, v in data[key].items():
                out[key][k] = v
                _copy(merged, loc, (key, k), (key, k))
            merged.files[(key,)] = loc.file  # the mapping itself is the overlay's
            for k in base.data[key]:
                if k not in data[key]:
                    merged.files[(key, k)] = base.file_of((key, k))
        elif in_over:
            out[key] = data[key]
            _copy(merged, loc, (key,), (key,))
        else:
            out[key] = base.data[key]
            _copy(merged, base, (key,), (key,))
    # remove: validate the ids it names
    for key, ids in remove.items():
        if key not in MERGED_BY_ID:
            problems.append(loc.problem(("remove", key), "unknown-key", f"cannot remove {key!r}",
                                        f"remove may list: {', '.join(MERGED_BY_ID)}", key=True))
            continue
        known = [_entry_id(e) for e in base.data.get(key) or []]
        for i, ident in enumerate(ids if isinstance(ids, list) else []):
            if isinstance(ident, str) and ident not in known:
                problems.append(loc.problem(("remove", key, i), "unknown-reference",
                                            f"{ident!r} is not among the base journey's {key}",
                                            f"the base ({ref}) has: {', '.join(str(k) for k in known)}"))
    return merged, problems


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


def _merge_list(merged: Located, base: Located, over: Located, key: str, removed: list,
                problems: list[Problem]) -> list:
    """Merge a list of id'd entries; positions follow each entry to its new index."""
    base_items = [e for e in base.data.get(key) or []]
    over_items = over.data.get(key) or []
    over_by_id = {_entry_id(e): (i, e) for i, e in enumerate(over_items) if _entry_id(e) is not None}
    base_ids = {_entry_id(e) for e in base_items}
    # (source, index, entry) in final order
    order: list[tuple[Located, int, Any]] = [(base, i, e) for i, e in enumerate(base_items) if _entry_id(e) not in removed]
    for i, e in enumerate(over_items):
        ident = _entry_id(e)
        if ident in base_ids or ident is None:
            continue  # a change to a base entry; or no id at all (reported by the structure check)
        after = e.get("after") if isinstance(e, dict) else None
        if key == "steps" and after is None:
            _unplaced_step(over, i, ident, [x for x in map(_entry_id, base_items) if x is not None], problems)
            continue
        pos = len(order)
        if isinstance(after, str):
            for k, (_, _, be) in enumerate(order):
                if _entry_id(be) == after:  # a base entry, or a new one placed earlier in the overlay
                    pos = k + 1
                    break
            else:
                problems.append(over.problem((key, i, "after"), "unknown-reference",
                                             f"'after: {after}' names no step of the base journey or of this file",
                                             "steps: " + ", ".join(str(_entry_id(x)) for _, _, x in order)))
        order.insert(pos, (over, i, e))
    result = []
    for j, (src, i, e) in enumerate(order):
        ident = _entry_id(e)
        if src is base and ident in over_by_id:
            oi, oe = over_by_id[ident]
            if isinstance(e, dict) and isinstance(oe, dict):
                entry = dict(e)
                _copy(merged, base, (key, i), (key, j))
                for k, v in oe.items():
                    entry[k] = v
                    _copy(merged, over, (key, oi, k), (key, j, k))
                    merged.files[(key, j, k)] = over.file_of((key, oi, k))
                result.append(entry)
                continue
            src, i, e = over, oi, oe
        _copy(merged, src, (key, i), (key, j))
        result.append(e)
    merged.values.setdefault((key,), (over if key in over.data else base).where((key,)))
    merged.files[(key,)] = over.file if key in over.data else base.file_of((key,))
    # entries keep their own files (set per index by _copy)
    return result
