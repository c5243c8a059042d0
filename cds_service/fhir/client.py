"""A thin FHIR REST client on one shared httpx.AsyncClient (connection pool reused across hooks).

Every GET is bounded: one overall timeout (connect + headers + body, so a server dripping bytes cannot
hold a hook), a size cap counted on the wire and again after decompression (a small gzip bomb stops at
the cap, not at the end of its expansion), a JSON depth cap, and at most one retry on a connect error."""

import asyncio
import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..jsonlimits import JsonRejected, load_bounded
from .guard import UnsafeUrl, is_under, normalise_url

__all__ = ["FhirClient", "FhirError", "SearchResult", "bundle_resources", "next_link", "NO_USABLE_ANSWER"]

FHIR_JSON = "application/fhir+json"
# One message for every way a server can fail to answer (refused, silent, not FHIR, too big): the 412 text must
# not let a caller map a network. The specific reason goes to the log, and to the 412 with the debug switch on.
NO_USABLE_ANSWER = "the FHIR server gave no usable answer"
_CHUNK = 64 * 1024
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # absolute (http:, file:, …); anything else is relative to the base


class FhirError(Exception):
    """A FHIR call failed. `str()` is safe to show a caller; `detail` says more (for logs, or debug mode).
    Neither names patient data."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


@dataclass(frozen=True)
class SearchResult:
    resources: tuple[dict[str, Any], ...]
    truncated: bool = False  # paging stopped at the page cap or the resource cap


def bundle_resources(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Resources of a searchset or collection, without search-outcome OperationOutcomes."""
    found = []
    entries = bundle.get("entry")
    # `type(x) is dict` before the ABC check, each field read once: this runs for every resource of every call.
    for entry in entries if isinstance(entries, list) else ():
        if not (type(entry) is dict or isinstance(entry, Mapping)):
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        search = entry.get("search")
        if type(search) is dict:
            if search.get("mode") == "outcome":
                continue
        elif search is not None and isinstance(search, Mapping) and search.get("mode") == "outcome":
            continue
        found.append(resource)
    return found


def next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"]) or None
    return None


class FhirClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        access_token: str | None,
        *,
        timeout: float,
        max_pages: int,
        public_base_url: str | None = None,
        max_response_bytes: int = 16 * 1024 * 1024,
        max_resources: int = 2000,
        max_call_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self._http = http
        self.base_url = normalise_url(base_url).rstrip("/")
        # The name the EHR knows the server by; links under it are read through base_url.
        self._public_base = normalise_url(public_base_url or base_url).rstrip("/")
        self._headers = {"Accept": FHIR_JSON, "Accept-Encoding": "gzip, deflate"}
        if access_token:
            self._headers["Authorization"] = f"Bearer {access_token}"
        self._timeout = timeout
        self._max_pages = max_pages
        self._max_bytes = max_response_bytes
        self._max_resources = max_resources
        # One budget for every answer of the hook call (all keys, pages and reads): memory stays bounded.
        self._bytes_left = max_call_bytes

    def _absolute(self, url: str) -> str:
        """The URL to request, normalised; the bearer token may only travel below the fhirServer the client named."""
        absolute = url if _SCHEME.match(url) else f"{self._public_base}/{url.lstrip('/')}"
        try:
            normalised = normalise_url(absolute)
        except UnsafeUrl as exc:
            raise FhirError(f"link not followed: {exc}") from None
        for known in (self.base_url, self._public_base):
            # HAPI pages as `{base}?_getpages=…`, others as `{base}/Type?…`; both spellings are normalised alike.
            if is_under(normalised, known) and normalised.startswith(known):
                return self.base_url + normalised[len(known) :]
        raise FhirError("link points outside fhirServer; not followed")

    async def _get(self, url: str) -> dict[str, Any] | None:
        target = self._absolute(url)
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                async with asyncio.timeout(self._timeout - (time.monotonic() - started)):
                    return await self._get_once(target)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing was sent: one retry is safe, if the request's own time allows it.
                if attempt == 2 or time.monotonic() - started > self._timeout / 2:
                    raise FhirError(NO_USABLE_ANSWER, f"unreachable ({type(exc).__name__})") from None
            except httpx.PoolTimeout:
                raise FhirError(NO_USABLE_ANSWER, "no free connection (pool busy)") from None
            except (TimeoutError, httpx.TimeoutException):
                raise FhirError(NO_USABLE_ANSWER, "timed out") from None
            except httpx.HTTPError as exc:
                raise FhirError(NO_USABLE_ANSWER, f"transport error ({type(exc).__name__})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get_once(self, url: str) -> dict[str, Any] | None:
        async with self._http.stream("GET", url, headers=self._headers) as response:
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise FhirError(NO_USABLE_ANSWER, f"HTTP {response.status_code}")
            body = await self._read_capped(response)
        try:
            parsed = await asyncio.to_thread(load_bounded, body)
        except JsonRejected as exc:
            raise FhirError(NO_USABLE_ANSWER, f"answer refused: {exc}") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("resourceType"), str):
            raise FhirError(NO_USABLE_ANSWER, "answer is not a FHIR resource")
        if parsed["resourceType"] == "OperationOutcome":
            raise FhirError(NO_USABLE_ANSWER, "answered with an OperationOutcome")
        return parsed

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The body, decompressed here (not by httpx) so that both sizes are counted as it streams, within
        the answer's cap and what is left of the call's budget."""
        body = await self._read_within(response, min(self._max_bytes, self._bytes_left))
        self._bytes_left -= len(body)
        return body

    async def _read_within(self, response: httpx.Response, limit: int) -> bytes:
        too_large = (
            "answer larger than the size limit" if limit == self._max_bytes else "answers of this call too large"
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FhirError(NO_USABLE_ANSWER, too_large)
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            decoder: Any = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        elif encoding in ("identity", ""):
            decoder = None
        else:
            raise FhirError(NO_USABLE_ANSWER, "answer in an encoding that was not asked for")
        if response.is_stream_consumed:
            # A transport that built its answers from bytes (tests, embedding) has decoded them already.
            if len(response.content) > limit:
                raise FhirError(NO_USABLE_ANSWER, too_large)
            return response.content
        parts: list[bytes] = []
        wire = size = 0
        async for chunk in response.aiter_raw(_CHUNK):
            wire += len(chunk)
            if wire > limit:
                raise FhirError(NO_USABLE_ANSWER, too_large)
            if decoder is None:
                parts.append(chunk)
                size += len(chunk)
                continue
            data = chunk
            while data:
                try:
                    out = decoder.decompress(data, limit - size + 1)
                except zlib.error:
                    raise FhirError(NO_USABLE_ANSWER, "answer is not valid compressed data") from None
                size += len(out)
                if size > limit:
                    raise FhirError(NO_USABLE_ANSWER, f"{too_large} once decompressed")
                parts.append(out)
                data = decoder.unconsumed_tail
        return b"".join(parts)

    async def read(self, url: str) -> SearchResult:
        """An instance read; a missing resource is no data, not an error."""
        resource = await self._get(url)
        return SearchResult(resources=(resource,) if resource else ())

    async def search(self, url: str) -> SearchResult:
        bundle = await self._get(url)
        if bundle is None or bundle.get("resourceType") != "Bundle":
            raise FhirError(NO_USABLE_ANSWER, "search did not return a Bundle")
        return await self.complete(bundle)

    async def complete(self, bundle: Mapping[str, Any], pages_read: int = 1) -> SearchResult:
        """All resources of a search, following `next` links up to the page cap and the resource cap."""
        resources = bundle_resources(bundle)
        link = next_link(bundle)
        while link and len(resources) < self._max_resources:
            if pages_read >= self._max_pages:
                return SearchResult(tuple(resources), truncated=True)
            page = await self._get(link)
            if page is None or page.get("resourceType") != "Bundle":
                raise FhirError(NO_USABLE_ANSWER, "next page is not a Bundle")
            resources.extend(bundle_resources(page))
            pages_read += 1
            link = next_link(page)
        if len(resources) > self._max_resources or (link and len(resources) >= self._max_resources):
            return SearchResult(tuple(resources[: self._max_resources]), truncated=True)
        return SearchResult(tuple(resources))
