"""JSON from outside (request bodies, FHIR answers) parsed within bounds: depth and Unicode checked once,
so nothing downstream meets a RecursionError or a string that cannot be encoded back to UTF-8."""

import json
import re
from typing import Any

import orjson

__all__ = ["MAX_JSON_DEPTH", "JsonRejected", "load_bounded"]

# FHIR resources nest about 10 deep (contained + extensions + components: ~20); 64 leaves room and stays far
# below Python's recursion limit, which validation and the rules would otherwise meet.
MAX_JSON_DEPTH = 64
# A lone surrogate can then only arrive as a \uD800-\uDFFF escape: raw surrogate bytes are invalid UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# NUL only arrives escaped too; no FHIR or CDS Hooks string holds it, and PostgreSQL cannot store it.
_NUL_ESCAPE = re.compile(rb"\\u0000")
# orjson reads an integer beyond 64 bits as a float; the standard library keeps it exact. Such a run of digits
# (rare: long identifiers in strings match too) sends the text to the standard library.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19  # found by one translate and one substring search: a regex took 20 ms on 2.5 MB
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')


class JsonRejected(ValueError):
    """Why a JSON text is refused; never quotes the text."""


def load_bounded(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    escapes = _SURROGATE_ESCAPE.search(raw) is not None or _NUL_ESCAPE.search(raw) is not None
    value = _fast(raw)
    if value is _UNDECIDED:
        value = _standard(raw, max_depth)
    elif not escapes:
        # orjson already refused invalid UTF-8 and lone surrogates: only the depth is left to check.
        if not _within_depth(raw, max_depth):
            raise JsonRejected(f"JSON nested deeper than {max_depth} levels")
        return value
    _check(value, max_depth, surrogates=escapes)
    return value


_UNDECIDED = object()


def _fast(raw: bytes) -> Any:
    """orjson (several times faster) for every text it reads exactly as the standard library would; anything
    it refuses or might read otherwise is left to the standard library, so verdicts and messages stay the same."""
    if _LONG_DIGITS in raw.translate(_DIGITS_AS_ZERO):
        return _UNDECIDED
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNDECIDED


def _standard(raw: bytes, max_depth: int) -> Any:
    try:
        # Strict UTF-8 (RFC 8259): json.loads on bytes would let encoded surrogates through ("surrogatepass").
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise JsonRejected(f"JSON nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise JsonRejected("not valid JSON") from None


def _within_depth(raw: bytes, max_depth: int) -> bool:
    """Nesting depth of a text already parsed, from its bytes with C-speed string operations (a walk over the
    parsed objects cost several times more): escaped backslashes and quotes out, everything but quotes and
    brackets out, string contents out, then the innermost bracket pairs removed once per level."""
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = raw.translate(_BRACKETS, _NOT_STRUCTURE)
    # Removing two adjacent quotes keeps every bracket inside or outside a string as it was; empty strings
    # (after the translation: nearly all of them) go cheaply first.
    brackets = b"".join(structure.replace(b'""', b"").split(b'"')[::2])
    for _ in range(max_depth):
        if not brackets:
            return True
        brackets = brackets.replace(b"[]", b"")
    return not brackets


def _check(value: Any, max_depth: int, *, surrogates: bool) -> None:
    """Iterative walk: depth cap, and (only when the text had surrogate escapes) no unpaired surrogates."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise JsonRejected(f"JSON nested deeper than {max_depth} levels")
            if surrogates:
                for key in item:
                    _encodable(key)
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list) or surrogates)
        elif isinstance(item, list):
            if depth > max_depth:
                raise JsonRejected(f"JSON nested deeper than {max_depth} levels")
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list) or surrogates)
        elif surrogates and isinstance(item, str):
            _encodable(item)


def _encodable(text: str) -> None:
    if "\x00" in text:
        raise JsonRejected("text with a NUL character (\\u0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRejected("text with an unpaired UTF-16 surrogate (\\ud800-\\udfff)") from None
