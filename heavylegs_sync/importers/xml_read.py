"""Streaming XML with bounds on what it may cost: the machinery GPX and TCX readers share.

A file is fed to expat piece by piece and a format's reader keeps only what it uses; no
element tree is built. So neither a 200,000-deep nesting (deeper than :data:`MAX_DEPTH`
is refused) nor megabytes of unused elements cost memory (more than :data:`MAX_ELEMENTS`
elements are refused, so they cost little time either), no element's text is kept beyond
:data:`MAX_TEXT` characters, and entity declarations (the "billion laughs") are refused
outright. Whitespace before the XML declaration (Strava's TCX files start with it) is
skipped. Namespaces are not resolved: elements are matched by local name, so a prefix a
file never declares does no harm.

A format subclasses :class:`BoundedReader`, names itself and its root element, and
implements :meth:`~BoundedReader.opened` and :meth:`~BoundedReader.closed`.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, TypeVar
from xml.parsers import expat

import gpxpy.gpx
import gpxpy.gpxfield

from heavylegs_sync.errors import ImportFailed

#: No real GPX or TCX nests deeper than a dozen levels; anything beyond this is refused.
MAX_DEPTH = 100
#: A day at one point a second with Garmin's extensions is some 700,000 elements; 48 h,
#: the longest plausible activity, twice that. More is a bomb, and parsing it costs time.
MAX_ELEMENTS = 3_000_000
#: Longest text kept from one element (a time, a number, a name).
MAX_TEXT = 1000
_MAX_OFFSET = timedelta(hours=14)
_FEED = 1 << 16
_ZONE = re.compile("[+\\-\u2212]\\d{2}:?(\\d{2})\\s*$")  # U+2212: the minus sign

#: The file's bytes, or a function giving its content in chunks (e.g. while inflating).
Source = bytes | Callable[[], Iterable[bytes]]
R = TypeVar("R", bound="BoundedReader")


class BoundedReader:
    """One pass of expat over one file, within the bounds; subclasses keep what they use."""

    #: The format's name in messages ("GPX") and its root element's local name ("gpx").
    FORMAT: ClassVar[str]
    ROOT: ClassVar[str]

    def __init__(self, path: Path, encoding: str | None) -> None:
        self.path = path
        self.encoding = encoding
        self.stack: list[str] = []  # local names of the open elements
        self.text: list[str] | None = None
        self.text_size = 0
        self.root_seen = False
        self.declared_encoding = False
        self.elements = 0

    # -- what a format implements -------------------------------------------------------

    def opened(self, local: str, parent: str, depth: int, attrs: dict[str, str]) -> None:
        """An element opened; ``depth`` is the number of elements around it."""

    def closed(self, local: str, parent: str, depth: int, text: str | None) -> None:
        """An element closed, with its text when :meth:`capture` asked for it."""

    # -- running ------------------------------------------------------------------------

    def run(self, source: Source) -> None:
        """Parse the whole source; raise :class:`ImportFailed` for anything unusable."""
        parser = expat.ParserCreate(self.encoding)
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        parser.EntityDeclHandler = self._entity
        parser.XmlDeclHandler = self._xml_declaration
        chunks: Iterable[bytes] = _pieces(source) if isinstance(source, bytes) else source()
        empty = True
        try:
            for chunk in chunks:
                if empty:  # skip whitespace before the declaration, which expat refuses
                    chunk = chunk.lstrip()
                    if chunk.startswith(codecs.BOM_UTF8):  # a byte-order mark, then spaces
                        chunk = chunk[len(codecs.BOM_UTF8) :].lstrip()
                    if not chunk:
                        continue
                    empty = False
                parser.Parse(chunk, False)
            if empty:
                raise ImportFailed(self.path, "empty file")
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            if (
                self.encoding is None
                and not self.declared_encoding
                and exc.code in _ENCODING_ERRORS
            ):
                raise _Encoding from exc
            message = expat.ErrorString(exc.code)
            where = f"line {exc.lineno}, column {exc.offset}"
            if not self.root_seen:
                raise ImportFailed(
                    self.path, f"not a {self.FORMAT} file (not XML: {message})"
                ) from exc
            raise ImportFailed(self.path, f"not valid XML: {message} at {where}") from exc
        except RecursionError as exc:  # expat itself does not recurse; belt and braces
            raise ImportFailed(self.path, "XML nested too deeply") from exc
        except (LookupError, ValueError) as exc:  # the declared encoding: unknown, UTF-0 ...
            raise ImportFailed(self.path, f"unsupported text encoding ({exc})") from exc
        if not self.root_seen:
            raise ImportFailed(self.path, f"not a {self.FORMAT} file (no <{self.ROOT}> element)")

    # -- expat callbacks ----------------------------------------------------------------

    def _xml_declaration(self, _version: str | None, encoding: str | None, _alone: int) -> None:
        self.declared_encoding = encoding is not None

    def _entity(self, name: str, *_args: object) -> None:
        raise ImportFailed(self.path, f"XML entity declarations are not accepted (entity {name!r})")

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise ImportFailed(
                self.path, f"more than {MAX_ELEMENTS:,} XML elements (no activity has that many)"
            )
        local = local_name(tag)
        depth = len(self.stack)
        if depth >= MAX_DEPTH:
            raise ImportFailed(self.path, f"XML nested more than {MAX_DEPTH} levels deep")
        if depth == 0:
            if local != self.ROOT:
                raise ImportFailed(
                    self.path, f"not a {self.FORMAT} file (its root element is <{tag}>)"
                )
            self.root_seen = True
        parent = self.stack[-1] if self.stack else ""
        self.stack.append(local)
        self.opened(local, parent, depth, attrs)

    def _end(self, _tag: str) -> None:
        local = self.stack.pop()
        text = self._take()
        depth = len(self.stack)
        parent = self.stack[-1] if self.stack else ""
        self.closed(local, parent, depth, text)

    def _characters(self, data: str) -> None:
        if self.text is not None and self.text_size < MAX_TEXT:
            self.text.append(data)
            self.text_size += len(data)

    # -- helpers for formats --------------------------------------------------------------

    def capture(self) -> None:
        """Keep the text of the element just opened (up to :data:`MAX_TEXT`)."""
        self.text = []
        self.text_size = 0

    def _take(self) -> str | None:
        if self.text is None:
            return None
        text = "".join(self.text).strip()[:MAX_TEXT]
        self.text = None
        return text or None

    def utc_time(self, text: str, where: str = "a track point") -> datetime:
        """A time in UTC; a time without a zone is UTC, as GPX and TCX say."""
        try:
            value = gpxpy.gpxfield.parse_time(text)
            if value is None:
                raise ValueError(text)
            offset = value.utcoffset()
            zone = _ZONE.search(text)
            if (offset is not None and abs(offset) > _MAX_OFFSET) or (
                zone is not None and int(zone.group(1)) >= 60
            ):
                raise ValueError(text)  # +25:00, -99:99: no place on earth
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        except (ValueError, OverflowError, gpxpy.gpx.GPXException) as exc:
            raise ImportFailed(self.path, f"invalid time {clip(text)!r} in {where}") from exc


def read_bounded(make: Callable[[Path, str | None], R], path: Path, source: Source) -> R:
    """Run a reader over the source and return it.

    A file that is not UTF-8 and declares no encoding is read again as Latin-1, as
    browsers do.
    """
    try:
        reader = make(path, None)
        reader.run(source)
    except _Encoding:
        reader = make(path, "ISO-8859-1")
        reader.run(source)
    return reader


class _Encoding(Exception):
    """Undeclared non-UTF-8 text: worth one more try as Latin-1."""


_ENCODING_ERRORS = {
    expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN],
    expat.errors.codes[expat.errors.XML_ERROR_BAD_CHAR_REF],
    expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
}


def _pieces(data: bytes) -> Iterable[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), _FEED):
        yield bytes(view[start : start + _FEED])


def local_name(tag: str) -> str:
    """``ns3:hr`` -> ``hr``: the name without its prefix (XML names are case-sensitive)."""
    return tag.rsplit(":", 1)[-1]


def number(text: str | None) -> float:
    """A finite float, or NaN for anything else (missing, not a number, inf)."""
    if text is None:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def coordinate(text: str | None, limit: float) -> float:
    """A latitude (limit 90) or longitude (limit 180); NaN outside the range."""
    value = number(text)
    return value if -limit <= value <= limit else math.nan


def clip(text: str | None) -> str | None:
    """Text short enough for a one-line message."""
    if text is None:
        return None
    return text if len(text) <= 80 else text[:77] + "..."
