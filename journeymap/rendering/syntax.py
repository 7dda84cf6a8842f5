"""DOT syntax: quoting, attribute lists, statements, HTML-like label tables and xdot background shapes.

Every piece of text that comes from a journey file goes through :func:`escape_html` (inside HTML-like
labels) or :func:`quote` (everywhere else), so quotes, ``<``, ``>``, ``&``, backslashes and any Unicode
are safe. Nothing here knows about journeys: the views build their statements from these helpers, as
the ``graphviz`` package builds its own from ``graphviz/dot.py`` (``node``, ``edge``, ``attr_list``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .layout import Row, estimate_size
from .palette import TEXT_SIZE

__all__ = [
    "Html",
    "quote",
    "escape_html",
    "num",
    "pos",
    "attr_list",
    "node",
    "edge",
    "Cell",
    "table",
    "left_table",
    "cells_size",
    "xdot_rect",
    "xdot_line",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Html(str):
    """A string to emit as an HTML-like label ``<...>`` rather than a quoted string."""


def quote(text: Any) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, control characters dropped.

    Backslashes are doubled because Graphviz reads ``\\n``, ``\\l``, ``\\N`` and
    friends inside labels; a user's ``C:\\new`` must not become a line break.
    Newlines become ``\\n`` (a centred line break).
    """
    s = _CONTROL.sub("", str(text)).replace("\\", "\\\\").replace('"', '\\"')
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{s}"'


def escape_html(text: Any) -> str:
    """Text safe inside an HTML-like label: ``& < > "`` become entities, newlines ``<BR/>``.

    Any other Unicode passes through (DOT files are UTF-8); control characters are dropped.

    >>> escape_html('R&D <fast> "now"')
    'R&amp;D &lt;fast&gt; &quot;now&quot;'
    """
    s = _CONTROL.sub("", str(text))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<BR/>")


def num(v: float) -> str:
    """A number as DOT writes it here: floats to two decimals without trailing zeros, ints as they are."""
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def pos(x: float, y: float) -> str:
    """A pinned position ``"x,y!"`` (points, rounded to 0.1), which neato keeps as given."""
    return f"{num(round(x, 1))},{num(round(y, 1))}!"


def attr_list(attrs: Mapping[str, Any]) -> str:
    """``[k=v, ...]``: HTML labels in ``<...>``, booleans and numbers bare, anything else quoted; None skipped.

    >>> attr_list({"label": Html("<B>x</B>"), "color": "#fff", "penwidth": 2.5, "fixedsize": True})
    '[label=<<B>x</B>>, color="#fff", penwidth=2.5, fixedsize=true]'
    """
    parts = []
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, Html):
            parts.append(f"{k}=<{v}>")
        elif isinstance(v, bool):
            parts.append(f"{k}={'true' if v else 'false'}")
        elif isinstance(v, (int, float)):
            parts.append(f"{k}={num(v)}")
        else:
            parts.append(f"{k}={quote(v)}")
    return "[" + ", ".join(parts) + "]" if parts else ""


def node(name: str, attrs: Mapping[str, Any]) -> str:
    """A node (or ``graph``/``node``/``edge`` defaults) statement; ``name`` is already a DOT id."""
    return f"  {name} {attr_list(attrs)};"


def edge(tail: str, head: str, attrs: Mapping[str, Any]) -> str:
    """An edge statement ``tail -> head [...]``; both ends are already DOT ids."""
    return f"  {tail} -> {head} {attr_list(attrs)};"


# --------------------------------------------------------------------------- HTML-like label tables


@dataclass
class Cell:
    """One cell of an HTML table label: lines of text in one style."""

    lines: list[str]
    size: float = TEXT_SIZE
    bold: bool = False
    italic: bool = False
    colour: str = "#000000"
    fill: str | None = None

    def rows(self) -> list[Row]:
        """The lines as the size estimate reads them."""
        return [Row(t, self.size, self.bold) for t in self.lines]

    def html(self) -> str:
        """The cell as one table row ``<TR><TD>...</TD></TR>``."""
        body = "<BR/>".join(escape_html(t) for t in self.lines)
        if self.bold:
            body = f"<B>{body}</B>"
        if self.italic:
            body = f"<I>{body}</I>"
        bg = f' BGCOLOR="{self.fill}"' if self.fill else ""
        return f'<TR><TD{bg}><FONT POINT-SIZE="{num(self.size)}" COLOR="{self.colour}">{body}</FONT></TD></TR>'


def table(cells: Sequence[Cell]) -> Html:
    """Cells stacked in a borderless table, centred: the label of a box."""
    inner = "".join(c.html() for c in cells)
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4">{inner}</TABLE>')


def left_table(cells: Sequence[Cell]) -> Html:
    """Cells stacked in a borderless table, each aligned left (titles)."""
    inner = "".join(c.html().replace("<TD", '<TD ALIGN="LEFT" BALIGN="LEFT"', 1) for c in cells)
    return Html(f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4">{inner}</TABLE>')


def cells_size(cells: Sequence[Cell]) -> tuple[float, float]:
    """Estimated width and height (points) of :func:`table` of these cells."""
    return estimate_size([c.rows() for c in cells])


# --------------------------------------------------------------------------- xdot shapes (the _background attribute)


def xdot_rect(x0: float, y0: float, x1: float, y1: float, fill: str, pen: str | None = None) -> str:
    """A filled rectangle in xdot drawing operations."""
    pen = pen or fill
    return (f"c {len(pen)} -{pen} C {len(fill)} -{fill} "
            f"P 4 {num(x0)} {num(y0)} {num(x1)} {num(y0)} {num(x1)} {num(y1)} {num(x0)} {num(y1)} ")


def xdot_line(x0: float, y0: float, x1: float, y1: float, colour: str, width: float, dashed: bool) -> str:
    """A straight line in xdot drawing operations, solid or dashed."""
    style = f"setlinewidth({num(width)})"
    out = f"c {len(colour)} -{colour} S {len(style)} -{style} "
    if dashed:
        out += "S 6 -dashed "
    out += f"L 2 {num(x0)} {num(y0)} {num(x1)} {num(y1)} "
    if dashed:
        out += "S 5 -solid "
    return out
