"""A thin FHIR REST client on one shared httpx.AsyncClient (connection pool reused across hooks)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["FhirClient", "FhirError", "SearchResult", "bundle_resources", "next_link"]

FHIR_JSON = "application/fhir+json"


class FhirError(Exception):
    """A FHIR call failed. The reason names what went wrong, never patient data."""


@dataclass(frozen=True)
class SearchResult:
    resources: tuple[dict[str, Any], ...]
    truncated: bool = False  # paging stopped at the page cap


def bundle_resources(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Resources of a searchset or collection, without search-outcome OperationOutcomes."""
    found = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping):
            continue
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, Mapping) else None
        if isinstance(entry.get("resource"), dict) and mode != "outcome":
            found.append(entry["resource"])
    return found


def next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
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
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        # The name the EHR knows the server by; links under it are read through base_url.
        self._public_base = (public_base_url or base_url).rstrip("/")
        self._headers = {"Accept": FHIR_JSON}
        if access_token:
            self._headers["Authorization"] = f"Bearer {access_token}"
        self._timeout = timeout
        self._max_pages = max_pages

    def _absolute(self, url: str) -> str:
        if url.startswith(("http://", "https://")):
            # The bearer token may only travel to the fhirServer the client named.
            for known in (self.base_url, self._public_base):
                # HAPI pages as `{base}?_getpages=…`, others as `{base}/Type?…`.
                if url == known or url.startswith((known + "/", known + "?")):
                    return self.base_url + url[len(known) :]
            raise FhirError("link points outside fhirServer; not followed")
        return f"{self.base_url}/{url.lstrip('/')}"

    async def _get(self, url: str) -> dict[str, Any] | None:
        try:
            response = await self._http.get(self._absolute(url), headers=self._headers, timeout=self._timeout)
        except httpx.PoolTimeout:
            raise FhirError("no free connection to the FHIR server (connection pool busy)") from None
        except httpx.TimeoutException:
            raise FhirError("FHIR server timed out") from None
        except httpx.HTTPError as exc:
            raise FhirError(f"FHIR server unreachable ({type(exc).__name__})") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise FhirError(f"FHIR server answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise FhirError("FHIR server answered with invalid JSON") from None
        if not isinstance(body, dict) or not body.get("resourceType"):
            raise FhirError("FHIR server answered with something that is not a FHIR resource")
        if body["resourceType"] == "OperationOutcome":
            raise FhirError("FHIR server answered with an OperationOutcome")
        return body

    async def read(self, url: str) -> SearchResult:
        """An instance read; a missing resource is no data, not an error."""
        resource = await self._get(url)
        return SearchResult(resources=(resource,) if resource else ())

    async def search(self, url: str) -> SearchResult:
        bundle = await self._get(url)
        if bundle is None or bundle.get("resourceType") != "Bundle":
            raise FhirError("search did not return a Bundle")
        return await self.complete(bundle)

    async def complete(self, bundle: Mapping[str, Any], pages_read: int = 1) -> SearchResult:
        """All resources of a search, following `next` links up to the page cap."""
        resources = bundle_resources(bundle)
        link = next_link(bundle)
        while link:
            if pages_read >= self._max_pages:
                return SearchResult(tuple(resources), truncated=True)
            page = await self._get(link)
            if page is None or page.get("resourceType") != "Bundle":
                raise FhirError("next page is not a Bundle")
            resources.extend(bundle_resources(page))
            pages_read += 1
            link = next_link(page)
        return SearchResult(tuple(resources))
