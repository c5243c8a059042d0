"""Card language: URL prefix > ?lang= > Accept-Language (q-values) > the configured default."""

import pytest

from cds_service.api.language import choose_language, parse_accept_language
from cds_service.ops.middleware import classify


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        ("zh-CN", "en", "zh-CN"),
        ("en;q=0.3, zh-CN;q=0.9", "en", "zh-CN"),  # q-values, not order, decide
        ("zh-CN;q=0.3, en;q=0.9", "zh-CN", "en"),
        ("en, zh-CN", "zh-CN", "en"),  # equal q: the first listed
        ("fr, de;q=0.9, zh;q=0.5", "en", "zh-CN"),  # unsupported ones skipped
        ("zh-Hans-CN", "en", "zh-CN"),
        ("zh-TW", "en", "zh-CN"),  # Traditional Chinese readers get the Simplified Chinese cards
        ("zh-HK, en;q=0.8", "en", "zh-CN"),
        ("ZH-cn", "en", "zh-CN"),  # tags are case-insensitive
        ("en-GB", "zh-CN", "en"),
        ("*", "zh-CN", "zh-CN"),  # anything: the default
        ("zh;q=0, *", "zh-CN", "en"),  # anything but Chinese
        ("zh-CN;q=0, en;q=0", "zh-CN", "zh-CN"),  # nothing acceptable: the default, never an error
        ("zh;q=0, zh-CN", "en", "en"),  # refused outright, whatever comes next
        ("zh-TW;q=0, zh-CN", "en", "zh-CN"),  # refusing a variant does not refuse zh-CN
        ("fr", "zh-CN", "zh-CN"),
        ("", "en", "en"),
    ],
)
def test_accept_language(header: str, default: str, expected: str) -> None:
    assert choose_language(None, None, header, default) == expected


@pytest.mark.parametrize(
    "header",
    [
        "zh-CN;q=abc",
        "zh-CN;q=2",
        "zh-CN;q=-1",
        "zh-CN;q=0.12345",
        "zh-CN;level=1",
        ";;;,,,",
        "q=1",
        "zh_CN",
        "中文",
        "zh-CN;q=1;q",
        "zh-" + "x" * 5000,
        ",".join(["zh-CN;q=0.5"] * 10_000),
        "\x00zh-CN",
    ],
)
def test_malformed_accept_language_is_skipped_not_an_error(header: str) -> None:
    assert choose_language(None, None, header, "en") in ("en", "zh-CN")
    assert choose_language(None, None, f"{header}, en;q=0.1", "zh-CN") in ("en", "zh-CN")


def test_malformed_entries_are_skipped_and_the_others_kept() -> None:
    assert parse_accept_language("zh-CN;q=abc, en;q=0.5, fr;q=0.9") == [("fr", 0.9), ("en", 0.5)]
    assert choose_language(None, None, "zh-CN;q=abc, en;q=0.5", "zh-CN") == "en"
    assert len(parse_accept_language(",".join(["en"] * 10_000))) == 32  # long headers are not parsed whole


@pytest.mark.parametrize(
    ("url", "query", "header", "default", "expected"),
    [
        ("zh-CN", "en", "en", "en", "zh-CN"),  # the URL prefix wins over everything
        ("en", "zh-CN", "zh-CN", "zh-CN", "en"),
        (None, "zh-CN", "en", "en", "zh-CN"),  # then ?lang=
        (None, "zh", "en", "en", "zh-CN"),
        (None, "fr", "zh-CN", "en", "zh-CN"),  # an unsupported ?lang= falls through to the header
        (None, None, "zh-CN", "en", "zh-CN"),  # then Accept-Language
        (None, None, "", "zh-CN", "zh-CN"),  # then the configured default
    ],
)
def test_precedence(url: str | None, query: str | None, header: str, default: str, expected: str) -> None:
    assert choose_language(url, query, header, default) == expected


@pytest.mark.parametrize(
    ("path", "labels"),
    [
        ("/zh-CN/cds-services", ("discovery", "")),
        ("/en/cds-services/her2-order-sign", ("hook", "her2-order-sign")),
        ("/zh-cn/cds-services/her2-patient-view/feedback", ("feedback", "her2-patient-view")),
        ("/fr/cds-services", ("other", "")),
    ],
)
def test_metrics_label_calls_under_a_language_prefix_like_the_others(path: str, labels: tuple[str, str]) -> None:
    assert classify(path, {"her2-patient-view", "her2-order-sign"}) == labels
