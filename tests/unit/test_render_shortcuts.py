"""render.py words values and fact lines by shortcuts (fewer calls: every card has a dozen): each must give
what the plain wording below gives, on generated values and fact lines, in both languages."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.clinical.conditions import FactLine
from cds_service.clinical.engine import load_engine
from cds_service.clinical.evidence import Evidence
from cds_service.clinical.render import _RECORD_STATUSES, _SELF_NAMING, Renderer
from cds_service.config import Settings

_ENGINE = load_engine(Settings().mappings_dir, Settings().cards_dir)
KNOWLEDGE, TERMINOLOGY = _ENGINE.knowledge, _ENGINE.terminology
RENDERERS = {lang: Renderer(KNOWLEDGE, TERMINOLOGY, lang, "p1") for lang in ("en", "zh-CN")}
KEYS = ["her2.positive", "setting.early", "value.unknown", "value.yes", "hr.positive", "phase.before-surgery"]
TOKENS = st.sampled_from(
    [
        *KEYS,
        "drug:trastuzumab",
        "drug:pertuzumab",
        "drug:no-such-drug",
        "title:N2",
        "title:S1",
        "title:XX",
        "IIA",
        "56",
        "3+",
        "",
        "Positive",
        "active",
        "2021-01-04",
    ]
)
VALUES = st.lists(TOKENS, min_size=1, max_size=3).map(", ".join) | st.text(max_size=12)


def plain_value(r: Renderer, raw: str) -> str:
    """The value as render.py worded it before its shortcut."""
    said = r._phrases.get(raw)
    if said is not None:
        return said
    if raw.startswith("title:") and raw[6:] in r.knowledge.entries:
        return r.title(r.knowledge.entries[raw[6:]])
    if raw.startswith("drug:") and ", " in raw:
        return r.join([plain_value(r, part) for part in raw.split(", ")])
    if raw.startswith("drug:"):
        drug = r.terminology.drugs.get(raw[5:])
        return (drug.label.zh_CN if r.zh else drug.label.en) if drug else raw[5:]
    parts = raw.split(", ")
    if len(parts) > 1 and (r.zh or all(p in r._phrases for p in parts)):
        return r.join([plain_value(r, part) for part in parts])
    return raw


def plain_fact(r: Renderer, line: FactLine) -> str:
    colon = "：" if r.zh else ": "
    where = r.join(
        [
            r.paren(f"`{e.reference}`", f"{e.date or r.say('label.undated')}{colon}{e.label}{colon}{e.value}")
            for e in line.evidence[:6]
        ],
        clauses=True,
    )
    more = f" (+{len(line.evidence) - 6})" if len(line.evidence) > 6 else ""
    return f"- {r.say(line.name)}{colon}**{plain_value(r, line.value)}**" + (f" — {where}{more}" if where else "")


def plain_short_fact(r: Renderer, line: FactLine, dated: set[str]) -> str:
    colon = "：" if r.zh else ": "
    plain = line.value.split(".")[0] in _SELF_NAMING and line.value in r._phrases
    shown = plain_value(r, line.value) if plain else f"{r.say(line.name)}{colon}{plain_value(r, line.value)}"
    first = line.evidence[0] if line.evidence else None
    if first is None:
        return shown
    said = first.value if first.value and first.value.lower() != plain_value(r, line.value).lower() else ""
    said = said if len(said) <= 24 and len(line.evidence) == 1 and said not in _RECORD_STATUSES else ""
    when = first.date or r.say("label.undated")
    extra = [said] if said else []
    if when not in dated:
        extra.append(when)
        dated.add(when)
    return r.paren(shown, ("，" if r.zh else ", ").join(extra)) if extra else shown


EVIDENCE = st.builds(
    Evidence,
    st.sampled_from(["Observation/o1", "Condition/c1", "MedicationRequest/m1"]),
    st.sampled_from([None, "2021-01-04", "2024-06-01"]),
    st.sampled_from(["HER2 by IHC", "Stage group", "trastuzumab"]),
    VALUES,
)
LINES = st.builds(
    FactLine,
    st.sampled_from(["fact.her2", "fact.setting", "fact.stage", "fact.age", "fact.hr"]),
    VALUES,
    st.lists(EVIDENCE, max_size=8).map(tuple),
)


@settings(max_examples=400, deadline=None)
@given(raw=VALUES)
def test_a_value_is_worded_as_plainly(raw: str) -> None:
    for r in RENDERERS.values():
        assert r.value(raw) == plain_value(r, raw)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINES, min_size=1, max_size=4))
def test_fact_lines_are_worded_as_plainly(lines: list[FactLine]) -> None:
    for lang in RENDERERS:
        fresh = Renderer(KNOWLEDGE, TERMINOLOGY, lang, "p1")  # its per-call wording starts empty
        dated: set[str] = set()
        plain_dated: set[str] = set()
        for line in [*lines, *lines]:  # again: worded once per call, the same the second time
            assert fresh.fact(line) == plain_fact(fresh, line)
            assert fresh.short_fact(line, dated) == plain_short_fact(fresh, line, plain_dated)
