"""The cards' language: URL prefix, then `?lang=`, then Accept-Language (q-values honoured), then the default.

The URL prefix (`/zh-CN/cds-services`, `/en/cds-services`) exists for clients that can send neither a header
nor a query string on the discovery URL (the CDS Hooks Sandbox breaks on `?lang=`)."""

import re

from fastapi import Request
from starlette.convertors import Convertor, register_url_convertor

__all__ = ["LANGUAGES", "URL_PREFIX", "choose_language", "language_of_tag", "parse_accept_language"]

LANGUAGES = ("en", "zh-CN")
# Only this many Accept-Language entries are read: a browser sends a handful; a longer header is not parsed whole.
MAX_ENTRIES = 32
_TAG = re.compile(r"^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$")
_Q = re.compile(r"^[qQ]\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?)$")


class _LanguageConvertor(Convertor[str]):
    regex = "(?i:en|zh-cn)"  # language tags are case-insensitive: /zh-cn/ is /zh-CN/

    def convert(self, value: str) -> str:
        return "en" if value.lower() == "en" else "zh-CN"

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("cds_language", _LanguageConvertor())
# The prefix under which discovery, hook calls and feedback answer in one language.
URL_PREFIX = "/{lang:cds_language}"


def language_of_tag(tag: str) -> str | None:
    """A supported language for a BCP 47 tag, or None. Every Chinese tag (zh, zh-Hans-CN, zh-TW, zh-HK) gives
    zh-CN: the consensus and its cards exist in Simplified Chinese only, which a Traditional Chinese reader reads
    more readily than English."""
    primary = tag.strip().lower().split("-")[0]
    return {"zh": "zh-CN", "en": "en"}.get(primary)


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """(tag, q) in preference order (q descending, then as listed); malformed entries are skipped, never an error."""
    entries: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")[:MAX_ENTRIES]):
        tag, *params = (p.strip() for p in part.split(";"))
        if not _TAG.match(tag):
            continue
        q = 1.0
        for param in filter(None, params):
            match = _Q.match(param)
            if match is None:
                break  # anything but a well-formed q (0 to 1, at most three decimals) spoils the entry
            q = float(match.group(1))
        else:
            entries.append((tag, q, position))
    entries.sort(key=lambda e: (-e[1], e[2]))
    return [(tag, q) for tag, q, _ in entries]


def _from_header(header: str, default: str) -> str | None:
    preferences = parse_accept_language(header)
    # `zh;q=0` or `en;q=0` refuses that language (the primary tag or the exact one we serve, not a regional variant).
    refused = {
        language_of_tag(tag)
        for tag, q in preferences
        if q == 0 and tag.lower() in ("zh", "zh-cn", "zh-hans", "zh-hans-cn", "en")
    }
    for tag, q in preferences:
        if q == 0:
            continue
        if tag == "*":
            # Any language: the configured default unless it was refused.
            return next((lang for lang in (default, *LANGUAGES) if lang not in refused), None)
        language = language_of_tag(tag)
        if language is not None and language not in refused:
            return language
    return None


def choose_language(url_language: str | None, query_language: str | None, accept_language: str, default: str) -> str:
    """URL prefix > `?lang=` > Accept-Language > the configured default."""
    if url_language in LANGUAGES:
        return url_language
    if query_language:
        language = language_of_tag(query_language)
        if language is not None:
            return language
    if not accept_language:
        return default
    return _from_header(accept_language, default) or default


def request_language(request: Request, default: str) -> str:
    # Most calls have no query string: its parser is not started for nothing.
    return choose_language(
        request.path_params.get("lang"),
        request.query_params.get("lang") if request.scope.get("query_string") else None,
        request.headers.get("Accept-Language", ""),
        default,
    )
