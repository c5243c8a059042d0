"""Card length and cards per call over the scenario suite: how much a clinician has to read.

    CARD_LOG=var/cards.jsonl pytest tests/scenarios -q && python -m benchmarks.card_stats var/cards.jsonl

Length is summary + detail in characters; `top` is the part of the detail before the basis (the action and
the decisive facts). Calls that answered no card count in cards per call."""

import json
import statistics
import sys
from pathlib import Path


def _p95(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0


def stats(path: Path) -> dict[str, dict[str, float]]:
    lengths: dict[str, list[int]] = {}
    tops: dict[str, list[int]] = {}
    per_call: list[int] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        call = json.loads(line)
        language = "zh-CN" if str(call["lang"]).lower().startswith("zh") else "en"
        per_call.append(len(call["cards"]))
        for card in call["cards"]:
            lengths.setdefault(language, []).append(len(card["summary"]) + len(card.get("detail", "")))
            top = card.get("detail", "").split("\n\n**Basis**")[0].split("\n\n**依据**")[0]
            tops.setdefault(language, []).append(len(top))
    result = {
        lang: {
            "cards": len(v),
            "median": statistics.median(v),
            "p95": _p95(v),
            "top_median": statistics.median(tops[lang]),
            "top_p95": _p95(tops[lang]),
            "top_max": max(tops[lang]),
        }
        for lang, v in sorted(lengths.items())
    }
    result["calls"] = {
        "calls": len(per_call),
        "median": statistics.median(per_call or [0]),
        "max": max(per_call or [0]),
    }
    return result


def main() -> None:
    for name, row in stats(Path(sys.argv[1])).items():
        print(name, " ".join(f"{k}={v:g}" for k, v in row.items()))


if __name__ == "__main__":
    main()
