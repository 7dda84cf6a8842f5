"""The loaders: files read safely, YAML that remembers where every key and value came from.

:func:`read_text` reads ordinary UTF-8 files only, within a size limit, and
:func:`unreadable` is the one problem every checker reports for a file it
cannot read. :func:`resolve_reference` keeps ``extends:`` and an account's
``journey:`` inside the project's folder.

PyYAML's ``safe_load`` throws positions away, and silently keeps the last of
two duplicate keys. :func:`load_yaml` composes the node tree with the safe
loader instead, builds plain Python data itself, and records the 1-based line
and column of every value and every mapping key, keyed by its path
(``("steps", 3, "owner")``). Tags that would construct Python objects are
refused, never executed.

:func:`load_subject` is the way in for the commands that take a journey *or*
an account (``simulate``, ``render``, ``compare``, ``analyze``): it checks the
file with :mod:`journeymap.validation` or :mod:`journeymap.account`.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from .problems import Problem

if TYPE_CHECKING:
    from .account import Account
    from .model import Journey
    from .simulation import Meeting

__all__ = ["Located", "Path", "load_yaml", "read_text", "unreadable", "resolve_reference", "ReferenceOutside",
           "Subject", "load_subject", "MAX_FILE_BYTES", "MAX_ALIASES", "MAX_ALIAS_VALUES", "MAX_DEPTH"]

#: Largest file journeymap reads (10 MB): a 5,000-step journey is about 1 MB.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Most alias uses (``*name``) one file may make, nested ones counted each time they are expanded.
MAX_ALIASES = 1_000
#: Most values aliases may add to a file once expanded (a "billion laughs" bomb adds billions).
MAX_ALIAS_VALUES = 100_000
#: Deepest nesting of mappings and lists (a journey needs about 8 levels).
MAX_DEPTH = 100

Path = tuple[Hashable, ...]


@dataclass
class Located:
    """Plain data from a YAML file with the positions of its values and keys."""

    file: str
    data: Any
    #: path -> (line, column) of the value at that path
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    #: path -> (line, column) of the mapping key that introduces that path
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    #: path prefix -> file, for data merged from several files (an overlay and
    #: the journey it extends); paths without an entry come from ``file``
    files: dict[Path, str] = field(default_factory=dict)
    #: (kind, id) -> (file, line) of an overlay's ``remove:`` entry, so that a
    #: problem caused by the removal can say so
    removed: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    #: the base journey's path, for data merged from an overlay
    base: str = ""

    def file_of(self, path: Path) -> str:
        """The file the value at ``path`` was written in."""
        p = tuple(path)
        while True:
            if p in self.files:
                return self.files[p]
            if not p:
                return self.file
            p = p[:-1]

    def where(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of the value (or key) at ``path``; falls back to the nearest parent."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if key and p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def problem(self, path: Path, rule: str, message: str, hint: str = "", *,
                key: bool = False, severity: str = "error") -> Problem:
        line, col = self.where(path, key=key)
        return Problem(self.file_of(path), line, col, severity, rule, message, hint)  # type: ignore[arg-type]


#: libyaml's parser when PyYAML was built with it (about 3x faster on big
#: journeys), else the pure-Python one; both give the same nodes and marks.
_COMPOSE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:python/object`` as the author wrote it: ``!!python/object``."""
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


class NotRegularFile(OSError):
    """The path is a folder, a FIFO, a device or a socket: journeymap reads ordinary files only."""


class FileTooLarge(OSError):
    """The file is larger than :data:`MAX_FILE_BYTES`."""


class ReferenceOutside(ValueError):
    """A reference (``extends:``, an account's ``journey:``) points outside the folder of its file."""


def _code(character: int | str) -> int:
    return character if isinstance(character, int) else ord(character[:1] or "\x00")


def read_text(path: str, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a regular file as UTF-8 (with or without BOM); never writes to it.

    Opened non-blocking and checked with ``fstat`` before reading, so a FIFO
    named ``x.yaml`` or ``/dev/zero`` is refused at once instead of hanging or
    filling the memory; at most ``max_bytes`` are read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
            raise NotRegularFile(f"{path} is {kind}; journeymap reads ordinary files only")
        chunks = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise FileTooLarge(f"{path} is larger than {max_bytes // (1024 * 1024)} MB, the limit for a journey file")
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8-sig")


def unreadable(file: str, exc: OSError | UnicodeDecodeError, kind: str) -> Problem:
    """The ``file`` problem of a file :func:`read_text` could not read; ``kind`` names it ("journey", "account").

    Missing, not a regular file (a folder, a FIFO, a device), larger than
    :data:`MAX_FILE_BYTES`, or not UTF-8: always at 1:1, never a traceback.
    """
    if isinstance(exc, FileNotFoundError):
        return Problem(file, 1, 1, "error", "file", "file not found",
                       "check the path; journeys live in journeys/*.yaml")
    if isinstance(exc, UnicodeDecodeError):
        return Problem(file, 1, 1, "error", "file", f"cannot read the file: {exc.reason} at byte {exc.start}",
                       f"{kind} files are UTF-8 text")
    return Problem(file, 1, 1, "error", "file", f"cannot read the file: {exc.strerror or exc}",
                   f"{kind} files are ordinary UTF-8 text files of at most {MAX_FILE_BYTES // 2**20} MB")


def resolve_reference(ref: str, from_file: str) -> str:
    """The path a file reference (``extends:``, an account's ``journey:``) names, kept inside the project.

    A reference is relative to the folder of the file that names it and must
    stay in that folder or below it: absolute paths, ``..`` that climbs out
    and symlinks that lead out are refused with :class:`ReferenceOutside`, so
    a shared journey cannot make journeymap read (and quote) any file on the disk.
    """
    if os.path.isabs(ref) or (len(ref) > 1 and ref[1] == ":") or ref.startswith(("~", "\\")):
        raise ReferenceOutside(f"{ref!r} is an absolute path")
    folder = os.path.dirname(from_file) or "."
    target = os.path.normpath(os.path.join(folder, ref))
    root = os.path.realpath(folder)
    real = os.path.realpath(target)
    if os.path.commonpath([root, real]) != root:
        raise ReferenceOutside(f"{ref!r} leads outside the folder of {os.path.basename(from_file)}")
    return target


class Subject(NamedTuple):
    """What ``simulate``, ``render`` and ``compare`` work on: a journey, or an account as one combined journey."""

    journey: Journey
    #: where the personas of an account meet (None for a journey file)
    meeting: Meeting | None
    account: Account | None


def load_subject(path: str) -> Subject:
    """Load and check a journey file, or an account file as its personas' combined journey.

    Raises :class:`~journeymap.errors.JourneyInvalid` with every problem, like
    :func:`~journeymap.validation.load_journey`.
    """
    from .account import is_account_file, load_account
    from .simulation.account import combined_journey
    from .validation import load_journey

    if is_account_file(path):
        account = load_account(path)
        journey, meeting = combined_journey(account)
        return Subject(journey, meeting, account)
    return Subject(load_journey(path), None, None)


def load_yaml(text: str, file: str) -> tuple[Located | None, list[Problem]]:
    """Parse ``text`` safely. Returns the located data (None on a syntax error) and problems.

    Python's cycle collector is paused while the file is parsed and its data
    built: neither makes reference cycles, yet the hundreds of thousands of
    objects of a large journey would set off full collections that walk all
    of them again and again (a fifth of the time of checking a 2,000-step file).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load_yaml(text, file)
    finally:
        if collecting:
            gc.enable()


def _load_yaml(text: str, file: str) -> tuple[Located | None, list[Problem]]:
    """:func:`load_yaml` with the collector paused: one document, composed then built."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_COMPOSE_LOADER))
    except yaml.YAMLError as exc:
        return None, [_syntax_problem(exc, text, file)]
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        return None, [Problem(file, 1, 1, "error", "empty-file", "the file is empty",
                              "start from one of the examples in journeys/")]
    problems: list[Problem] = []
    if len(nodes) > 1:
        m = nodes[1].start_mark
        problems.append(Problem(file, m.line + 1, m.column + 1, "error", "yaml-syntax",
                                "the file holds more than one YAML document (---)",
                                "put one journey per file"))
    builder = _Builder(file, problems)
    try:
        builder.located.data = builder.build(nodes[0], ())
    except _Bomb as exc:
        return None, [_bomb_problem(file, exc)]
    finally:
        # the safe loader refers to itself (its parser state): without this, its cache of every scalar
        # node, and so the whole node tree, would wait for the cycle collector instead of being freed here
        builder.constructor.dispose()
    return builder.located, problems


def _syntax_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    """The located ``yaml-syntax`` problem of a file the YAML parser refused, with a hint for the usual causes."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote or bracket: point at where it opens, not at the end
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = exc.problem or str(exc)
        if exc.context:
            msg = f"{exc.context}, {msg}"
        hint = "check indentation, colons and quotes around this spot"
        if "#x0000" in msg:
            hint = "the file holds a NUL byte: it is binary or was saved in UTF-16; save it as UTF-8 text"
        elif "special characters are not allowed" in msg:
            hint = "the file holds a control character; delete it or save the file as UTF-8 text"
        lines = text.splitlines()
        if 0 < line <= len(lines) and lines[line - 1][col - 1:col] == "\t":
            return Problem(file, line, col, "error", "yaml-syntax", "YAML syntax error: a tab character",
                           "YAML is indented with spaces only; replace the tab")
        return Problem(file, line, col, "error", "yaml-syntax", f"YAML syntax error: {msg}", hint)
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML refuses (NUL, other controls)
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        hint = ("the file holds a NUL byte: it is binary or was saved as UTF-16; save it as UTF-8 text"
                if exc.character in (0, "\x00") else
                "the file holds a control character; delete it (or save the file as UTF-8 text)")
        return Problem(file, line, col, "error", "yaml-syntax",
                       f"YAML syntax error: unacceptable character U+{_code(exc.character):04X}", hint)
    return Problem(file, 1, 1, "error", "yaml-syntax", f"YAML error: {str(exc)[:200]}")  # pragma: no cover - rare


class _Bomb(Exception):
    """A file beyond a nesting or alias limit; ``node`` is where to point (the outermost alias being expanded)."""

    def __init__(self, kind: str, node: yaml.Node) -> None:
        super().__init__(kind)
        self.node = node


def _bomb_problem(file: str, exc: _Bomb) -> Problem:
    node = exc.node
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if str(exc) == "depth":
        return Problem(file, line, col, "error", "too-large",
                       f"mappings and lists are nested more than {MAX_DEPTH} levels deep",
                       "a journey needs a few levels; check the file for runaway brackets")
    what = (f"more than {MAX_ALIASES:,} alias uses" if str(exc) == "aliases"
            else f"aliases that expand to more than {MAX_ALIAS_VALUES:,} values")
    return Problem(file, line, col, "error", "too-large",
                   f"the file has {what} (the anchored value here is repeated too often)",
                   "write the values out, or use fewer nested aliases (*name); see 'Limits' in docs/format.md")


class _Builder:
    """Plain data and the position of every value and key, from a composed YAML node tree.

    Aliases share one node, so a node seen twice is an alias use. Uses are
    counted so that a "billion laughs" file fails fast with a located error
    (:class:`_Bomb`) instead of filling the memory.
    """

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.located = Located(file, None)
        self.problems = problems
        self.constructor = yaml.SafeLoader("")
        self.seen: set[int] = set()
        self.aliases = 0
        self.values = 0
        self.expanding: list[yaml.Node] = []  # the aliases being expanded, outermost first

    def build(self, node: yaml.Node, path: Path) -> Any:
        """The plain value of ``node`` at ``path``, counting alias uses against the limits."""
        if len(path) > MAX_DEPTH:
            raise _Bomb("depth", node)
        alias = id(node) in self.seen
        if alias:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Bomb("aliases", self.expanding[0] if self.expanding else node)
            self.expanding.append(node)
        try:
            return self._node(node, path)
        finally:
            if alias:
                self.expanding.pop()

    def _node(self, node: yaml.Node, path: Path) -> Any:
        """Record the node's position, refuse a tag that would build an object, then build its value."""
        self.seen.add(id(node))
        if self.expanding:
            self.values += 1
            if self.values > MAX_ALIAS_VALUES:
                raise _Bomb("values", self.expanding[0])
        located = self.located
        located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _COLLECTION_TAGS:
            # e.g. !!python/object/apply:os.system [...]: refused, and read as plain data only so
            # that the rest of the file can still be checked; nothing is ever constructed from it
            self.problems.append(located.problem(path, "unsafe-tag",
                                                 f"YAML tag {_short_tag(node.tag)!r} is not allowed",
                                                 "journey files hold plain data; remove the tag"))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        """A mapping with merge keys (<<) resolved, keys as text, and every duplicate key reported (first kept)."""
        located, problems = self.located, self.problems
        out: dict[Any, Any] = {}
        try:
            self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or node.start_mark
            problems.append(Problem(located.file, mark.line + 1, mark.column + 1, "error", "yaml-syntax",
                                    "a merge key (<<) must be followed by an alias of a mapping (*name) "
                                    "or a list of them", "write <<: *defaults, or remove the '<<'"))
            node.value = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
        for key_node, value_node in node.value:
            key = self.build(key_node, path + ("<key>",))
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(located.problem(path + ("<key>",), "wrong-type", "mapping keys must be plain words",
                                                "write the key as a single word such as 'name'"))
                continue
            key = str(key) if not isinstance(key, str) else key
            kpos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in out:
                first = located.keys[path + (key,)]
                problems.append(Problem(located.file, kpos[0], kpos[1], "error", "duplicate-key",
                                        f"key {key!r} appears twice in this mapping (first on line {first[0]})",
                                        "remove or rename one of them; YAML keeps only the last"))
                continue
            located.keys[path + (key,)] = kpos
            out[key] = self.build(value_node, path + (key,))
        located.values.pop(path + ("<key>",), None)
        return out

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        """A plain scalar through the safe constructor; dates and times stay text as written
        (``2027-01-01`` is the string '2027-01-01', never a :class:`datetime.date`)."""
        if node.tag not in _SCALAR_TAGS:
            self.problems.append(self.located.problem(path, "unsafe-tag",
                                                      f"YAML tag {_short_tag(node.tag)!r} is not allowed",
                                                      "journey files hold plain data; remove the tag"))
            return node.value
        if node.tag == "tag:yaml.org,2002:timestamp":
            # keep dates as written (holidays and a start are read by the checks, which explain a bad one:
            # 2027-02-30 looks like a date to YAML, and constructing it would raise)
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problems.append(self.located.problem(path, "yaml-syntax", f"cannot read value: {exc}"))
            return node.value
