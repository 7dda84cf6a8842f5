"""Moving a journey into the tools teams already use: ``journeymap export JOURNEY --to FORMAT``.

=============  ==================================  =====================================================
``--to``       what                                written by
=============  ==================================  =====================================================
``bpmn``       BPMN 2.0 XML with diagram layout    :func:`journeymap.interop.bpmn.export_bpmn`
``prosimos``   a folder: the BPMN and Prosimos'    :func:`journeymap.interop.prosimos.export_prosimos`
               simulation parameters
``mermaid``    Markdown with ```` ```mermaid ````  :func:`journeymap.interop.mermaid.markdown` (``.md``),
               blocks, or one raw diagram          :func:`journeymap.interop.mermaid.diagram_text`
                                                   (``.mmd``)
``xes``        the simulated event log as XES      :func:`journeymap.interop.xes.simulate_xes`
``sheet``      one CSV row per step, the sheet     :func:`journeymap.interop.sheet.journey_to_rows`,
               ``journeymap import`` reads back    :func:`journeymap.interop.sheet.rows_to_csv`
=============  ==================================  =====================================================

This module decides the format and the destination (:func:`plan`), then :func:`export` calls the one
builder and writes its text atomically. The builders are imported when used, so each format's
dependencies load only for it. The other direction, ``journeymap import``, reads spreadsheets and
sticky-note boards (:mod:`.sheet`, the file read by :mod:`.sheetfile`) and writes journey files (:mod:`.yamlout`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..errors import InvalidArgument, JourneymapError

if TYPE_CHECKING:
    from ..model import Journey

__all__ = ["FORMATS", "EXTENSIONS", "Format", "ExportPlan", "FormatUnavailable", "format_of", "plan", "export",
           "safe_ids"]

Format = Literal["bpmn", "prosimos", "mermaid", "xes", "sheet"]

#: The formats of ``export --to``.
FORMATS: tuple[Format, ...] = ("bpmn", "prosimos", "mermaid", "xes", "sheet")

#: The format each file extension means (``--to`` may then be left out). Prosimos writes a folder: no extension.
EXTENSIONS: dict[str, Format] = {".bpmn": "bpmn", ".md": "mermaid", ".markdown": "mermaid", ".mmd": "mermaid",
                                 ".xes": "xes", ".csv": "sheet"}

#: The extension of the default file name of each format ("" for a folder).
_DEFAULT_EXTENSION: dict[Format, str] = {"bpmn": ".bpmn", "prosimos": "", "mermaid": ".md", "xes": ".xes",
                                         "sheet": ".csv"}


class FormatUnavailable(JourneymapError):
    """This installation of journeymap has no writer for the format asked for (exit 3)."""


@dataclass(frozen=True)
class ExportPlan:
    """What ``export`` will write: the format, and the file (or, for ``prosimos``, the folder)."""

    format: Format
    path: str

    @property
    def is_folder(self) -> bool:
        return self.format == "prosimos"


def format_of(path: str) -> Format | None:
    """The format a file name's extension means, or None."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def plan(journey_path: str, to: str | None, output: str | None) -> ExportPlan:
    """The format and destination of ``export``: ``--to``, else the extension of ``-o``; the two must agree.

    Without ``-o`` the file goes to ``outputs/`` named after the journey file (``outputs/NAME.bpmn``,
    ``outputs/NAME-prosimos/``); an ``-o`` that is an existing folder (or ends with a slash) gets that name
    inside it. Raises :class:`~journeymap.errors.InvalidArgument` (exit 2) for an unknown format, a
    disagreement, or a destination whose format cannot be told.
    """
    if to is not None and to not in FORMATS:
        raise InvalidArgument(f"unknown format {to!r} (--to must be one of {', '.join(FORMATS)})")
    stem = os.path.splitext(os.path.basename(journey_path))[0]
    named = format_of(output) if output else None
    if to == "prosimos" and named:
        raise InvalidArgument(f"--to prosimos writes a folder (the BPMN and its JSON parameters), not {output!r}")
    if to and named and to != named:
        raise InvalidArgument(f"--to {to} does not match the file name {output!r} (a {named} file); "
                              f"drop --to or name the file {_default_name(stem, to)}")
    fmt: Format | None = to or named
    if fmt is None:
        known = ", ".join(EXTENSIONS)
        raise InvalidArgument(f"cannot tell the format of {output or 'the output'!r}: give --to "
                              f"({', '.join(FORMATS)}) or an output file ending in one of {known}")
    if output is None:
        return ExportPlan(fmt, os.path.join("outputs", _default_name(stem, fmt)))
    if fmt != "prosimos" and (os.path.isdir(output) or output.endswith(("/", os.sep))):
        return ExportPlan(fmt, os.path.join(output, _default_name(stem, fmt)))
    return ExportPlan(fmt, output)


def _default_name(stem: str, fmt: Format) -> str:
    return f"{stem}-prosimos" if fmt == "prosimos" else stem + _DEFAULT_EXTENSION[fmt]


def export(journey: Journey, where: ExportPlan, *, diagram: str | None = None, cases: int | None = None,
           replications: int = 1, seed: int = 1, workers: int = 1, meeting: object = None) -> list[str]:
    """Write ``journey`` as ``where`` says; returns the files written.

    ``diagram`` picks one Mermaid diagram (``journey`` or ``flowchart``): a ``.mmd`` file holds exactly one
    (the flowchart unless told), a Markdown file both unless told. ``cases``, ``replications``, ``seed`` and
    ``workers`` are the simulation's, for ``xes``.
    """
    from ..output import write_text

    if where.format == "mermaid":
        from .mermaid import DIAGRAMS, diagram_text, markdown

        if diagram is not None and diagram not in DIAGRAMS:
            raise InvalidArgument(f"unknown diagram {diagram!r} (--diagram must be one of {', '.join(DIAGRAMS)})")
        if os.path.splitext(where.path)[1].lower() == ".mmd":
            text = diagram_text(journey, diagram or "flowchart")
        else:
            text = markdown(journey, (diagram,) if diagram else DIAGRAMS)
        return [write_text(where.path, text)]
    if diagram is not None:
        raise InvalidArgument("--diagram is for --to mermaid")
    if where.format == "xes":
        from .xes import simulate_xes

        return [simulate_xes(journey, where.path, cases=cases, replications=replications, seed=seed,
                             workers=workers, meeting=meeting)]
    if where.format == "sheet":  # the way back of `journeymap import`: import -> export -> import is the same journey
        from .sheet import journey_to_rows, rows_to_csv

        return [write_text(where.path, rows_to_csv(journey_to_rows(journey)))]
    try:
        if where.format == "bpmn":
            from .bpmn import export_bpmn
        else:
            from .prosimos import export_prosimos
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(__name__):
            raise  # a dependency of the writer is missing: a bug in the set-up, shown as one
        raise FormatUnavailable(f"this journeymap has no {where.format} writer ({exc.name} is missing); "
                                "update journeymap") from exc
    if where.format == "bpmn":
        return [write_text(where.path, export_bpmn(journey))]
    from ..output import staged_folder

    created = not os.path.exists(where.path)
    with staged_folder(where.path) as stage:  # the folder appears whole, or not at all
        written = [os.path.basename(p) for p in export_prosimos(journey, stage)]
    if created:  # the staging folder was private (mkdtemp's 0700); the result is an ordinary folder
        os.chmod(where.path, 0o755)
    return [os.path.join(where.path, name) for name in written]


#: What may stay in an id: ASCII letters, digits and the underscore.
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def safe_ids(names: Iterable[str], prefix: str) -> dict[str, str]:
    """A unique, safe id for each name: ``prefix`` + the name with every character but ``[A-Za-z0-9_]`` made
    ``_``, numbered ``_2``, ``_3`` ... when two names would meet. The prefix keeps ids off reserved words
    (Mermaid's ``end``, ``graph``) and off a leading digit. The same names give the same ids."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if name in out:
            continue
        base = prefix + _UNSAFE.sub("_", name)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        out[name] = candidate
        taken.add(candidate)
    return out
