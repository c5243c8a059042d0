"""Prometheus metrics of one process (each replica is scraped on its own `/metrics`).

Labels are bounded: service ids come from the catalog, rule ids from the knowledge base and engine,
outcomes from fixed lists. Nothing about a patient is ever a label."""

import time

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = [
    "CARDS",
    "FEEDBACK",
    "FHIR_ERRORS",
    "FHIR_LATENCY",
    "HOOK_LATENCY",
    "JWKS_FETCHES",
    "REGISTRY",
    "REQUESTS",
    "UNRECORDED",
    "MeteredTransport",
]

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "her2_cds_http_requests",
    "HTTP requests by endpoint, service and status",
    ["endpoint", "service", "status"],
    registry=REGISTRY,
)
HOOK_LATENCY = Histogram(
    "her2_cds_hook_duration_seconds",
    "Hook call latency (whole request)",
    ["service"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
FHIR_LATENCY = Histogram(
    "her2_cds_fhir_request_duration_seconds",
    "Outbound FHIR requests: time to response headers, by outcome",
    ["outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
FHIR_ERRORS = Counter(
    "her2_cds_fhir_request_errors", "Outbound FHIR requests that failed, by outcome", ["outcome"], registry=REGISTRY
)
CARDS = Counter(
    "her2_cds_cards",
    "Cards answered, by service, indicator and rule",
    ["service", "indicator", "rule"],
    registry=REGISTRY,
)
UNRECORDED = Counter(
    "her2_cds_cards_unrecorded",
    "Cards answered that the database could not record: their feedback will be refused (alert on any)",
    ["service"],
    registry=REGISTRY,
)
FEEDBACK = Counter(
    "her2_cds_feedback", "Feedback items stored, by service and outcome", ["service", "outcome"], registry=REGISTRY
)
JWKS_FETCHES = Counter(
    "her2_cds_jwks_fetches", "JWK Set fetches of client key servers, by result", ["result"], registry=REGISTRY
)


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status == 404:
        return "not_found"
    return "http_4xx" if status < 500 else "http_5xx"


class MeteredTransport(httpx.AsyncBaseTransport):
    """Wraps the FHIR client's transport: latency and failures of every outbound request, by outcome."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TimeoutException:
            self._observe("timeout", started)
            raise
        except httpx.ConnectError:
            self._observe("connect_error", started)
            raise
        except httpx.HTTPError:
            self._observe("transport_error", started)
            raise
        self._observe(_outcome(response.status_code), started)
        return response

    @staticmethod
    def _observe(outcome: str, started: float) -> None:
        FHIR_LATENCY.labels(outcome).observe(time.perf_counter() - started)
        if outcome not in ("ok", "not_found"):
            FHIR_ERRORS.labels(outcome).inc()

    async def aclose(self) -> None:
        await self._inner.aclose()
