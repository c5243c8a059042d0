"""The log format of `her2-cds serve`: one JSON object per line, request id included, exception text never."""

import json
import logging
from collections.abc import Iterator

import pytest

from cds_service.ops.logs import bind_request_id, configure_logging, request_scope


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
