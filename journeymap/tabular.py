"""Reading tables people make by hand: CSV records, forgiving header names, spreadsheet column letters, ids.

Shared by the readers of hand-made tables (:mod:`journeymap.surveys` for survey scores,
:mod:`journeymap.interop.sheet` for a workshop's sheet of steps) and by :mod:`journeymap.mining` for ids, so
that every one of them matches ``Touch Point`` to ``touchpoint``, names a column ``C`` as the spreadsheet
does, reads a semicolon-separated export from a decimal-comma locale, and turns ``Register claim`` into the
same id ``register_claim``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator

__all__ = ["normal_header", "column_letters", "csv_delimiter", "csv_records", "unique_id"]

_ID_BAD = re.compile(r"[^A-Za-z0-9_.-]+")


def normal_header(header: str) -> str:
    """A header as matched: lower case, without spaces, '_' and '-' (``Touch Point`` = ``touchpoint``)."""
    return re.sub(r"[\s_\-]+", "", header).lower()


def column_letters(column: int) -> str:
    """A 1-based column number as a spreadsheet names it: 1 -> A, 27 -> AA."""
    out = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def csv_delimiter(text: str) -> str:
    """',' unless the header line has none but a ';' (a spreadsheet saved in a locale with decimal commas)
    or a tab (a tab-separated export)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," in header:
        return ","
    return ";" if ";" in header else "\t" if "\t" in header else ","


def csv_records(text: str, on_error: Callable[[int, str], None]) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each non-blank CSV record; a record the csv module refuses (an unclosed quote,
    a character after a closing quote) is reported with ``on_error(line, message)`` and ends the file."""
    records = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text), strict=True)
    line = 1
    try:
        for fields in records:
            if any(f.strip() for f in fields):
                yield line, fields
            line = records.line_num + 1
    except csv.Error as exc:
        on_error(line, f"cannot read this CSV record: {exc}")


def unique_id(name: str, taken: set[str], fallback: str = "step") -> str:
    """A valid id not in ``taken`` for a name people wrote: ``Register claim`` -> ``register_claim``; added to
    ``taken``. Ids start with a letter (``3rd check`` -> ``a_3rd_check``), at most 90 characters before a
    ``_2``, ``_3``... that makes them unique."""
    base = _ID_BAD.sub("_", name.strip().lower()).strip("_.-") or fallback
    if not base[0].isalpha():
        base = "a_" + base
    base = base[:90]
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out
