"""Reading a sheet of steps from a file: CSV (UTF-8, a BOM accepted, ``,`` ``;`` or tab separated) or ``.xlsx``
through the optional openpyxl, as text cells with their row numbers.

The I/O half of :mod:`journeymap.interop.sheet` (which turns the cells into a journey, a pure function of
them). Files are read as journeymap reads every input: ordinary files only (a FIFO or a folder is refused
before anything opens it), at most 10 MB, never written; an .xlsx may unpack to at most
:data:`MAX_UNPACKED_BYTES`. Merged cells and formulas are problems at their cells (formulas are read as written,
``data_only=False``, so a formula is seen rather than its cached value); a CSV that is not UTF-8 is a problem
at the row and column of its first bad byte.
"""

from __future__ import annotations

import csv
import difflib
import os
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgument, JourneymapError
from ..loading import MAX_FILE_BYTES, FileTooLarge, NotRegularFile, read_text, unreadable
from ..problems import Problem, excerpt, sort_problems
from ..schema import MAX_STEPS
from ..tabular import column_letters, csv_records

__all__ = ["MAX_PROBLEMS", "MAX_UNPACKED_BYTES", "Table", "SheetInvalid", "SheetProblems", "XlsxUnavailable",
           "read_table"]

#: Most problems reported for one sheet; a sheet with more is most likely not a sheet of steps.
MAX_PROBLEMS = 100
#: An .xlsx is a zip: its parts may unpack to at most this many bytes (a 10 MB file of repeated cells could
#: otherwise unpack to gigabytes in memory).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024


class SheetInvalid(JourneymapError):
    """A sheet has errors; ``problems`` holds every one found (up to :data:`MAX_PROBLEMS`). Nothing is written."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        where = f" (first: {first.file}:{first.line}:{first.column}: {first.message})" if first else ""
        super().__init__(f"{len(self.problems)} problem(s) in the sheet{where}")


class XlsxUnavailable(JourneymapError):
    """openpyxl, the optional package that reads .xlsx, is not installed (the CLI exits 3, as for a missing dot)."""

    def __init__(self) -> None:
        super().__init__("reading .xlsx needs the optional package openpyxl: pip install 'journeymap[xlsx]' "
                         "(or pip install openpyxl), or save the sheet as CSV UTF-8 and import that")


@dataclass(frozen=True)
class Table:
    """A sheet as text cells: the header row and each non-empty row below it, with their row numbers.

    ``rows`` are (row number, cells); a row number is the spreadsheet's (.xlsx) or the record's first line (CSV).
    """

    file: str
    header_row: int
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]


class SheetProblems:
    """Collects the problems of one sheet, each at its row and column, up to :data:`MAX_PROBLEMS`."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, line: int, column: int, rule: str, message: str, hint: str = "") -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(self.file, line, column, "error", rule, message, hint))
        elif len(self.items) == MAX_PROBLEMS:
            self.items.append(Problem(self.file, line, column, "error", "too-many-problems",
                                      f"more than {MAX_PROBLEMS} problems; the rest are not listed",
                                      "fix these first (is this a sheet of steps?)"))

    def check(self) -> None:
        """Raise :class:`SheetInvalid` with the problems so far, in the sheet's order (row, then column)."""
        if self.items:
            raise SheetInvalid(sort_problems(self.items))


# --------------------------------------------------------------------------- reading a table


def read_table(path: str, *, sheet: str | None = None) -> Table:
    """Read a ``.csv`` (``.tsv``, ``.txt``) or ``.xlsx`` sheet as text cells; raises :class:`SheetInvalid`.

    ``sheet`` names the worksheet of an .xlsx (default: the first). The file is read as an ordinary file of at
    most 10 MB (:data:`~journeymap.loading.MAX_FILE_BYTES`) and never written.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if ext in (".csv", ".tsv", ".txt"):
        if sheet is not None:
            raise InvalidArgument("--sheet names a worksheet of an .xlsx file; a CSV file has one sheet")
        return _read_csv(path)
    if ext == ".xls":
        raise InvalidArgument(f"{path!r} is an old binary .xls workbook: save it as .xlsx or as CSV UTF-8")
    raise InvalidArgument(f"cannot tell what {path!r} is from its extension {ext or '(none)'!r}: "
                          "give a .csv (.tsv, .txt) or .xlsx file")


def _read_csv(path: str) -> Table:
    problems = SheetProblems(path)
    try:
        text = read_text(path, max_bytes=MAX_FILE_BYTES)
    except FileTooLarge as exc:
        raise SheetInvalid([Problem(path, 1, 1, "error", "file", f"the sheet is larger than "
                                    f"{MAX_FILE_BYTES // 2**20} MB, the limit for a sheet",
                                    "a journey has at most 4,000 steps: is this a sheet of steps?")]) from exc
    except UnicodeDecodeError as exc:
        raise SheetInvalid([_not_utf8(path, exc)]) from exc
    except OSError as exc:
        raise SheetInvalid([_unreadable(path, exc)]) from exc
    records = list(csv_records(text, lambda line, message: problems.add(
        line, 1, "csv-syntax", message, "check the quotes on this line; a field with a comma or a line break is "
        "written in double quotes, a quote inside it doubled")))
    problems.check()
    return _table(path, [(line, tuple(fields)) for line, fields in records])


def _unreadable(path: str, exc: OSError) -> Problem:
    if isinstance(exc, FileNotFoundError):
        return Problem(path, 1, 1, "error", "file", "file not found", "check the path of the sheet")
    return unreadable(path, exc, "sheet")


def _not_utf8(path: str, exc: UnicodeDecodeError) -> Problem:
    """The row and column of the first byte that is not UTF-8, with the header of that column."""
    data = exc.object if isinstance(exc.object, bytes) else b""
    start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    head = data[: data.find(b"\n")] if b"\n" in data else data
    head_text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    delimiter = "," if "," in head_text else ";" if ";" in head_text else "\t" if "\t" in head_text else ","
    column = data[start:exc.start].decode("utf-8", errors="replace").count(delimiter) + 1
    names = next(csv.reader([head_text], delimiter=delimiter), [])
    named = f" ({excerpt(names[column - 1].strip(), 30)[1:-1]})" if column <= len(names) and line > 1 else ""
    byte = data[exc.start] if exc.start < len(data) else 0
    return Problem(path, line, column, "error", "file",
                   f"column {column_letters(column)}{named}: the file is not UTF-8 text: byte 0x{byte:02x} "
                   f"(byte {exc.start + 1} of the file) is not UTF-8",
                   "save the sheet as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8; LibreOffice: character set "
                   "Unicode (UTF-8)); an export in Windows-1252 or Latin-1 is the usual cause")


def _regular_size(path: str) -> int:
    """The size of an ordinary file; a folder, FIFO or device is refused before anything opens it."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else \
            "not an ordinary file"
        raise NotRegularFile(f"the sheet is {kind}; journeymap reads ordinary files only")
    return st.st_size


def _read_xlsx(path: str, sheet: str | None) -> Table:
    try:
        import openpyxl
    except ImportError as exc:
        raise XlsxUnavailable() from exc
    problems = SheetProblems(path)
    try:
        if _regular_size(path) > MAX_FILE_BYTES:
            problems.add(1, 1, "file", f"the sheet is larger than {MAX_FILE_BYTES // 2**20} MB, the limit for a "
                         "sheet", "a journey has at most 4,000 steps: is this a sheet of steps?")
        elif not zipfile.is_zipfile(path):
            problems.add(1, 1, "file", "not an .xlsx workbook (an .xlsx file is a zip archive)",
                         "save the sheet from the spreadsheet as .xlsx, or as CSV UTF-8")
        else:
            with zipfile.ZipFile(path) as z:
                unpacked = sum(i.file_size for i in z.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                problems.add(1, 1, "file", f"the workbook unpacks to {unpacked // 2**20} MB, more than the "
                             f"{MAX_UNPACKED_BYTES // 2**20} MB a sheet of steps may", "is this a sheet of steps?")
    except FileNotFoundError as exc:
        raise SheetInvalid([_unreadable(path, exc)]) from exc
    except NotRegularFile as exc:
        problems.add(1, 1, "file", str(exc), "give the path of a .csv or .xlsx file")
    except (OSError, zipfile.BadZipFile) as exc:
        problems.add(1, 1, "file", f"cannot read the workbook: {excerpt(str(exc))}",
                     "sheets are ordinary .xlsx or CSV files")
    problems.check()
    try:
        book = openpyxl.load_workbook(path, data_only=False)  # formulas as written: a formula is reported
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook; each is bad input, not a bug
        raise SheetInvalid([Problem(path, 1, 1, "error", "file", f"cannot read the workbook: "
                                    f"{type(exc).__name__}: {excerpt(str(exc))}",
                                    "open it in the spreadsheet and save it again as .xlsx, or as CSV UTF-8")]) from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            close = difflib.get_close_matches(sheet, book.sheetnames, n=1, cutoff=0.6)
            raise SheetInvalid([Problem(path, 1, 1, "error", "file", f"the workbook has no sheet {excerpt(sheet)}"
                                        + (f" (did you mean {close[0]!r}?)" if close else ""),
                                        "its sheets: " + excerpt(", ".join(book.sheetnames)))])
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        return _xlsx_table(path, ws, problems)
    finally:
        book.close()


def _xlsx_table(path: str, ws: Any, problems: SheetProblems) -> Table:
    """The cells of one worksheet as text; merged ranges and formulas are problems at their cells."""
    if ws.max_row > MAX_STEPS + 100:
        raise SheetInvalid([Problem(path, 1, 1, "error", "too-large", f"the sheet has {ws.max_row:,} rows; a "
                                    f"journey has at most {MAX_STEPS:,} steps", "split the journey")])
    merged = sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
    rows: list[tuple[int, tuple[str, ...]]] = []
    formulas: list[tuple[int, int, str]] = []
    for row in ws.iter_rows():
        cells = []
        for cell in row:
            value = cell.value
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")) \
                    or type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
                text = getattr(value, "text", value)
                formulas.append((cell.row, cell.column, str(text)))
                value = None
            cells.append(_cell_text(value))
        if any(c.strip() for c in cells):
            rows.append((row[0].row, tuple(cells)))
    table = _table(path, rows)
    for r in merged:
        where = table.header[r.min_col - 1] if r.min_col <= len(table.header) else ""
        named = f" ({excerpt(where.strip(), 30)[1:-1]})" if where.strip() and r.min_row > table.header_row else ""
        problems.add(r.min_row, r.min_col, "merged-cells",
                     f"column {column_letters(r.min_col)}{named}: cells {r.coord} are merged",
                     "unmerge them and write the value in every row (a row is one step); or save as CSV UTF-8")
    for line, column, text in formulas:
        where = table.header[column - 1] if column <= len(table.header) else ""
        named = f" ({excerpt(where.strip(), 30)[1:-1]})" if where.strip() and line > table.header_row else ""
        problems.add(line, column, "formula",
                     f"column {column_letters(column)}{named}: a formula, not a value: {excerpt(text)}",
                     "write the value itself (copy, then Paste Special > Values only): an import reads what is "
                     "written, never computes it")
    problems.check()
    return table


def _cell_text(value: Any) -> str:
    """A cell's value as the text an import reads: whole numbers without '.0', booleans as yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _table(path: str, rows: list[tuple[int, tuple[str, ...]]]) -> Table:
    if not rows:
        raise SheetInvalid([Problem(path, 1, 1, "error", "empty-file", "the sheet is empty",
                                    "the first row names the columns (Stage, Name, Department, Duration, Next...), "
                                    "then one row per step; docs/interop.md")])
    if len(rows) > MAX_STEPS + 1:
        raise SheetInvalid([Problem(path, rows[MAX_STEPS + 1][0], 1, "error", "too-large",
                                    f"the sheet has {len(rows) - 1:,} rows of steps; a journey has at most "
                                    f"{MAX_STEPS:,}", "split the journey")])
    (header_row, header), *body = rows
    return Table(path, header_row, tuple(h.strip() for h in header), tuple(body))
