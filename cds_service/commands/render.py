"""Cards in a terminal, as an EHR would show them: indicator, summary, detail (Markdown), suggestions, links, source.

rich decides colour: only on a terminal, never with NO_COLOR set; redirected output is plain text."""

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

__all__ = ["render_cards"]

STYLES = {"critical": "bold red", "warning": "bold yellow", "info": "bold blue"}


def _card(card: dict[str, Any], number: int, count: int) -> Panel:
    indicator = str(card.get("indicator", "info"))
    style = STYLES.get(indicator, "bold")
    parts: list[RenderableType] = [Text(str(card.get("summary", "")), style="bold")]
    if card.get("detail"):
        parts += [Text(), Markdown(str(card["detail"]))]
    suggestions = card.get("suggestions") or []
    if suggestions:
        parts += [Text(), Text("Suggestions", style="bold")]
        for suggestion in suggestions:
            line = Text(f"  • {suggestion.get('label', '')}")
            if suggestion.get("isRecommended"):
                line.append(" (recommended)", style="green")
            for action in suggestion.get("actions") or []:
                line.append(f"\n      {action.get('type', '')}: {action.get('description', '')}", style="dim")
            parts.append(line)
    links = card.get("links") or []
    if links:
        parts += [Text(), Text("Links", style="bold")]
        parts += [Text(f"  • {link.get('label', '')}: {link.get('url', '')}") for link in links]
    source = card.get("source") or {}
    label = Text("Source: ", style="dim").append(str(source.get("label", "")))
    if source.get("url"):
        label.append(f" <{source['url']}>", style="dim")
    code = (source.get("topic") or {}).get("code")
    if code:
        label.append(f" · rule {code}", style="dim")
    parts += [Text(), label]
    title = Text(f" {indicator.upper()} ", style=style).append(f" card {number} of {count} ", style="dim")
    return Panel(Group(*parts), title=title, title_align="left", border_style=style.removeprefix("bold "))


def render_cards(answer: dict[str, Any], *, service_id: str, patient_id: str, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    cards = answer.get("cards") or []
    console.print(Text(f"{service_id} · Patient/{patient_id} · {len(cards)} card{'s' if len(cards) != 1 else ''}"))
    for number, card in enumerate(cards, 1):
        console.print(_card(card, number, len(cards)))
    for action in answer.get("systemActions") or []:
        console.print(Text(f"system action {action.get('type', '')}: {action.get('description', '')}", style="dim"))
