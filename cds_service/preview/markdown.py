"""Card Markdown → HTML for the preview page, as an EHR would show it.

CommonMark with raw HTML off: whatever a card's text (the chart's own words end up in it) holds, it is escaped,
never markup. markdown-it also refuses javascript:, vbscript:, file: and data: link targets."""

from markdown_it import MarkdownIt

__all__ = ["to_html"]

_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def to_html(text: str) -> str:
    html: str = _MARKDOWN.render(text)
    return html
