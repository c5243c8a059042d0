"""JSON logs, one object per line, each with the id of the request it belongs to.

The request id is the `hookInstance` for hook calls (bound once the body is parsed) and a generated id
otherwise. Messages are written by this package's code, which never puts tokens, names or results into
them; exception messages (which may quote input) are never written, only the exception type."""

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote  # json.dumps's own escaper (ensure_ascii=False)

__all__ = [
    "JsonFormatter",
    "bind_request_id",
    "close_request_scope",
    "configure_logging",
    "current_request_id",
    "new_request_id",
    "note_request",
    "open_request_scope",
    "request_scope",
]

# [request id, detail for the access log line]: a list, so that what a route binds deep inside is seen by the
# middleware that opened the scope (routes run in tasks that copy the context, and a copied context shares the list).
_request_id: ContextVar[list[str] | None] = ContextVar("her2_cds_request_id", default=None)


def current_request_id() -> str | None:
    holder = _request_id.get()
    return holder[0] if holder else None


def bind_request_id(value: str) -> None:
    """Names the current request by `value` (the hookInstance) from here on, middleware included."""
    holder = _request_id.get()
    if holder is not None:
        holder[0] = value


def note_request(detail: str) -> None:
    """What the request's access log line adds after its status and time (counts and timings, never patient data):
    one line per call, not a second line repeating the request id and the path."""
    holder = _request_id.get()
    if holder is not None:
        holder[1] = detail


def new_request_id() -> str:
    return uuid.uuid4().hex


def open_request_scope() -> tuple[list[str], Token[list[str] | None]]:
    """request_scope without the context manager, for the middleware every request passes: the holder of the id
    (and of the access log's detail), and the token that close_request_scope takes."""
    holder = [new_request_id(), ""]
    return holder, _request_id.set(holder)


def close_request_scope(token: Token[list[str] | None]) -> None:
    _request_id.reset(token)


@contextmanager
def request_scope() -> Iterator[list[str]]:
    holder, token = open_request_scope()
    try:
        yield holder
    finally:
        close_request_scope(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and request_id and exception when there are.

    Every value is a string, so the line is written field by field with the escaper json.dumps uses: the same
    text as json.dumps(entry, ensure_ascii=False), in a third of the time (two lines per hook call)."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            '{"time": "',
            self._time(record.created),
            '", "level": ',
            _quote(record.levelname),
            ', "logger": ',
            _quote(record.name),
            ', "message": ',
            _quote(record.getMessage()),
        ]
        request_id = current_request_id()
        if request_id:
            parts += (', "request_id": ', _quote(request_id))
        if record.exc_info and record.exc_info[0] is not None:
            parts += (', "exception": ', _quote(record.exc_info[0].__name__))
        parts.append("}")
        return "".join(parts)

    def _time(self, created: float) -> str:
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        # StreamHandler.emit, with sys.stderr looked up once and flushed without taking the lock a second time.
        try:
            line = self.format(record) + self.terminator
            stream = sys.stderr
            if stream is not None:
                stream.write(line)
                stream.flush()
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - logging must never fail the request; handleError reports it
            self.handleError(record)


def configure_logging(level: str, log_format: str = "json") -> None:
    """The root logger writes to stderr, as JSON lines or as plain text (`log_format="text"`).
    Calling it again replaces its own handler only; handlers others installed stay, but the caller, thread and
    process look-ups are switched off for the whole process (below): a handler of yours that shows them gets none."""
    handler = _StderrHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Neither format shows the caller's file and line, the thread or the process: each record would look them up
    # (a stack walk among them) on every request. The logging manual's "Optimization" switches.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # uvicorn's own loggers propagate to the root handler (`log_config=None`), so their lines are JSON too.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # httpx logs every request URL at INFO, and FHIR URLs carry patient ids.
    logging.getLogger("httpx").setLevel(logging.WARNING)
