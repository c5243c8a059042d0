"""`her2-cds check-data`: validate cards/ and mappings/ as start-up does, and summarise."""

import argparse

from ..config import Settings

__all__ = ["register"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    """What a clinical committee runs after editing cards/ or mappings/: the start-up checks, and a summary."""
    from collections import Counter

    from ..clinical.engine import load_engine
    from ..datafiles import DataFileError

    try:
        engine = load_engine(settings.mappings_dir, settings.cards_dir, tuple(settings.concept_maps))
    except (DataFileError, ValueError) as exc:
        print(f"INVALID {exc}")
        return 1
    knowledge, terminology = engine.knowledge, engine.terminology
    chapters = Counter(knowledge.chapters.values())
    print(f"OK {len(knowledge.entries)} knowledge rows: " + ", ".join(f"{c} {n}" for c, n in sorted(chapters.items())))
    for field in ("provenance", "level_provenance", "category_provenance"):
        counts = Counter(getattr(e, field) for e in knowledge.entries.values())
        print(f"   {field}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))

    # Rows by the best kind of source they cite: a primary publication, guideline or label, a secondary
    # summary (news, Q&A or summary page) only, or domain knowledge only.
    def best(sources: list[str]) -> str:
        kinds = {knowledge.sources[s].kind for s in sources}
        if kinds & {"consensus", "guideline", "label", "trial", "regulatory"}:
            return "primary or guideline"
        return "secondary summary only" if "web" in kinds else "domain knowledge only"

    by_kind = Counter(best(e.sources) for e in knowledge.entries.values())
    print("   rows by source kind: " + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())))
    codes = [c for d in terminology.drugs.values() for c in d.codes]
    codes += [c for p in terminology.products.values() for c in p.codes]
    statuses = Counter(c.status for c in codes)
    print(
        f"OK {len(terminology.drugs)} drugs, {len(terminology.products)} products, "
        f"{len(terminology.observation_codes)} observation codes, {len(terminology.value_codes)} result codes, "
        f"{len(terminology.staging_codes)} staging codes, {len(terminology.condition_codes)} condition codes, "
        f"{terminology.local_code_count} local codes from ConceptMaps"
    )
    print("   drug and product codes: " + ", ".join(f"{k} {n}" for k, n in sorted(statuses.items())))
    return 0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    check = commands.add_parser("check-data", help="validate cards/ and mappings/ as start-up does, and summarise")
    check.set_defaults(run=run)
