"""load_bounded reads JSON fast (orjson) with exactly the verdicts of the standard library and its own bounds."""

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.jsonlimits import MAX_JSON_DEPTH, JsonRejected, load_bounded

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
        st.sampled_from(['"', "\\", "[", "]", "{", "}", '\\"[', "\\\\", "]]]}}"]),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_the_same_value_as_the_standard_library(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    if "\x00" in raw.decode() or "\\u0000" in raw.decode():
        return  # NUL is refused on purpose: below
    assert load_bounded(raw) == json.loads(raw)


@pytest.mark.parametrize("depth", [1, 10, MAX_JSON_DEPTH])
@pytest.mark.parametrize("wrap", ["[{}]", '{{"k": {}}}', '["]]}}\\\\", {}]', '["\\"[[[", {}]'])
def test_depth_is_counted_outside_strings(depth: int, wrap: str) -> None:
    raw = "1"
    for _ in range(depth - 1):
        raw = wrap.format(raw) if "{}" in wrap else raw
    raw = f"[{raw}]".encode()
    if _depth(json.loads(raw)) <= MAX_JSON_DEPTH:
        load_bounded(raw)
    else:
        with pytest.raises(JsonRejected, match="deeper"):
            load_bounded(raw)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 1100, 100_000])
def test_too_deep_is_refused_at_any_depth(depth: int) -> None:
    with pytest.raises(JsonRejected, match=f"deeper than {MAX_JSON_DEPTH}"):
        load_bounded(b"[" * depth + b"]" * depth)
    with pytest.raises(JsonRejected, match="deeper"):
        load_bounded(b'{"a":' * depth + b"1" + b"}" * depth)


def test_brackets_in_strings_do_not_count() -> None:
    deep_text = '"' + "[" * 200 + '\\"' + "{" * 200 + '"'
    assert load_bounded(f'{{"a": {deep_text}}}'.encode()) == {"a": "[" * 200 + '"' + "{" * 200}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"123456789012345678901234567890", 123456789012345678901234567890),  # exact, not a float
        (b'{"id": "12345678901234567890123"}', {"id": "12345678901234567890123"}),
        (b"NaN", math.nan),  # the standard library's verdict, as before
        (b"[1e400]", [math.inf]),
        (b'"\\ud83d\\ude00"', "\U0001f600"),
    ],
)
def test_what_orjson_would_read_otherwise_goes_to_the_standard_library(raw: bytes, expected: Any) -> None:
    value = load_bounded(raw)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'"\\ud800"', "unpaired UTF-16 surrogate"),
        (b'{"a": ["x", "\\udfff"]}', "unpaired UTF-16 surrogate"),
        (b'{"a": "x\\u0000"}', "NUL"),
        (b'{"\\u0000": 1}', "NUL"),
        (b'"\xed\xa0\x80"', "not valid JSON"),  # surrogate bytes are not UTF-8
        (b"\xef\xbb\xbf{}", "not valid JSON"),
        (b'{"a": 1', "not valid JSON"),
    ],
)
def test_refusals_keep_their_reasons(raw: bytes, reason: str) -> None:
    with pytest.raises(JsonRejected, match=reason):
        load_bounded(raw)
