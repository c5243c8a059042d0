"""Operations: JSON logs with request ids, Prometheus metrics, readiness, and the issued-cards record."""

from .answers import record_cards
from .logs import bind_request_id, configure_logging, note_request
from .middleware import PROBES, OperationsMiddleware

__all__ = ["PROBES", "OperationsMiddleware", "bind_request_id", "configure_logging", "note_request", "record_cards"]
