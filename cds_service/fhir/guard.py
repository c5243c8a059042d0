"""Outbound trust: where the bearer token may travel, decided on URLs as a server would read them.

Every URL the service follows (fhirServer, paging `next` links, `Medication/…` references) is first
normalised the way URL parsers do (WHATWG rules: dot segments and `%2e%2e` resolved, backslashes as
slashes, numeric and hex IPv4 forms such as 2130706433 or 0x7f000001 as dotted quads, default ports
dropped), and only then compared with the allowed prefix. What is sent is the normalised URL, so the
check and the request can never disagree. Forms that servers read in more than one way (`..;/`,
`%2f`, `%5c`, double encoding) and URLs with user info are refused outright."""

import ipaddress
import re

from pydantic_core import Url

__all__ = ["UnsafeUrl", "is_internal_host", "is_under", "normalise_url"]

_AMBIGUOUS = re.compile(r"%(?:2f|5c|25|00)|;", re.IGNORECASE)  # encoded slash/backslash, double encoding, path params
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Forms no public FHIR server uses, some of which reach IPv4 behind a translator: IPv4-compatible (::a.b.c.d),
# SIIT (::ffff:0:a.b.c.d), local-use NAT64 (RFC 8215) and deprecated site-local addresses.
_NEVER_PUBLIC_V6 = tuple(ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "fec0::/10"))
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class UnsafeUrl(ValueError):
    """A URL that cannot be followed safely. The message never quotes the URL (it may carry patient ids)."""


def normalise_url(url: str) -> str:
    """The URL as a server will read it; raises UnsafeUrl for anything not plainly http(s)."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UnsafeUrl("URL with spaces or control characters")
    try:
        parsed = Url(url)
    except ValueError:
        raise UnsafeUrl("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeUrl("not an http(s) URL")
    if parsed.username is not None or parsed.password is not None:
        raise UnsafeUrl("URL with user info")
    if _AMBIGUOUS.search(parsed.path or ""):
        raise UnsafeUrl("URL path with encoded slashes, double encoding or path parameters")
    return str(parsed)


def _split(url: str) -> tuple[str, str, str | None]:
    parsed = Url(url)
    origin = f"{parsed.scheme}://{parsed.host}:{parsed.port}"
    return origin, (parsed.path or "/").rstrip("/"), parsed.query


def is_under(url: str, prefix: str) -> bool:
    """`url` (normalised) is `prefix` itself, below it (`prefix/…`), or a query on it (`prefix?…`, HAPI paging)."""
    origin, path, _ = _split(url)
    prefix_origin, prefix_path, _ = _split(prefix)
    return origin == prefix_origin and (path == prefix_path or path.startswith(prefix_path + "/"))


def is_internal_host(url: str) -> bool:
    """Loopback, private, link-local, unique-local or otherwise non-public addresses (IPv4, IPv6, IPv4-mapped),
    and the names that mean this machine. Host names are not resolved: that would add latency and still be
    open to DNS rebinding; an allowlist is the control for names."""
    host = (Url(url).host or "").strip("[]").rstrip(".").lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _NEVER_PUBLIC_V6):
            return True
        mapped = address.ipv4_mapped or address.sixtofour
        if address in _NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
            mapped = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if mapped is not None:
            address = mapped
    return not address.is_global or address.is_multicast
