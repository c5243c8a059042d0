"""The log format of `her2-cds serve`: one JSON object per line, request id included, exception text never."""

import json
import logging
import random
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cds_service.ops.logs import JsonFormatter, bind_request_id, configure_logging, new_request_id, request_scope


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    configure_logging("DEBUG", "json")
    configure_logging("DEBUG", "json")  # idempotent: still one handler of ours
    yield
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)
    root.setLevel(level)


def test_lines_are_json_with_the_request_id_bound_later_in_the_request(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    log = logging.getLogger("cds_service.test")
    with request_scope() as holder:
        generated = holder[0]
        log.info("before binding")
        bind_request_id("6f1c2b9e-0000-4000-8000-000000000001")
        try:
            raise ValueError("patient Zhang Wei, HER2 3+")
        except ValueError:
            log.exception("failed")
    log.info("outside any request")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["message"] for line in lines] == ["before binding", "failed", "outside any request"]
    assert lines[0]["request_id"] == generated and len(generated) == 32
    assert lines[1]["request_id"] == holder[0] == "6f1c2b9e-0000-4000-8000-000000000001"
    assert "request_id" not in lines[2]
    assert lines[1]["exception"] == "ValueError"
    assert "Zhang" not in capsys.readouterr().err and all("Zhang" not in json.dumps(line) for line in lines)


@pytest.mark.parametrize(
    "message",
    [
        "plain",
        'quotes " and \\ backslashes',
        "new\nline, tab\t, bell \x07 and NUL \x00",
        "中文 HER2 阳性 ✓ 🧬",
        "lone surrogate \ud800 stays escaped as json writes it",
    ],
)
def test_a_line_is_exactly_what_json_dumps_writes(message: str) -> None:
    record = logging.LogRecord("cds_service.test", logging.WARNING, "", 0, "%s", (message,), None)
    try:
        raise KeyError("not logged")
    except KeyError:
        record.exc_info = sys.exc_info()
    with request_scope() as holder:
        bind_request_id('id "with" quotes')
        line = JsonFormatter().format(record)

    expected = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": "WARNING",
        "logger": "cds_service.test",
        "message": message,
        "request_id": holder[0],
        "exception": "KeyError",
    }
    assert line == json.dumps(expected, ensure_ascii=False)


def test_the_time_is_datetimes_own_to_the_millisecond_across_second_boundaries() -> None:
    formatter = JsonFormatter()
    second = 1_764_633_599.0  # 2025-12-01T23:59:59Z: the next second is another day
    fractions = [0.0, 0.0005, 0.0009999, 0.4995, 0.9995, 0.9999994, 0.9999995, 0.9999999]
    generator = random.Random(10)
    stamps = [second + f for f in fractions] + [generator.uniform(1.7e9, 1.8e9) for _ in range(2000)]

    for created in stamps + stamps[::-1]:  # forwards and back: the remembered second must not leak
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert formatter._time(created) == expected, created


def test_generated_request_ids_are_random_uuid4_hex() -> None:
    ids = {new_request_id() for _ in range(1000)}

    assert len(ids) == 1000
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
