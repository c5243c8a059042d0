"""JSON from outside (request bodies, FHIR answers) parsed within bounds: depth and Unicode checked once,
so nothing downstream meets a RecursionError or a string that cannot be encoded back to UTF-8."""

import json
import re
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JsonRejected", "load_bounded"]

# FHIR resources nest about 10 deep (contained + extensions + components: ~20); 64 leaves room and stays far
# below Python's recursion limit, which validation and the rules would otherwise meet.
MAX_JSON_DEPTH = 64
# A lone surrogate can then only arrive as a \uD800-\uDFFF escape: raw surrogate bytes are invalid UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# NUL only arrives escaped too; no FHIR or CDS Hooks string holds it, and PostgreSQL cannot store it.
_NUL_ESCAPE = re.compile(rb"\\u0000")


class JsonRejected(ValueError):
    """Why a JSON text is refused; never quotes the text."""


def load_bounded(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    try:
        # Strict UTF-8 (RFC 8259): json.loads on bytes would let encoded surrogates through ("surrogatepass").
        value = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise JsonRejected(f"JSON nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise JsonRejected("not valid JSON") from None
    strings = _SURROGATE_ESCAPE.search(raw) is not None or _NUL_ESCAPE.search(raw) is not None
    _check(value, max_depth, surrogates=strings)
    return value


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
