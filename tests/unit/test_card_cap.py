"""An answer never carries more than MAX_CARDS cards; the most severe stay, and the cut is said on a card."""

from cds_service.clinical.engine import MAX_CARDS, load_engine
from cds_service.clinical.rules import Finding
from cds_service.config import REPO_ROOT
from cds_service.fhir import PatientData
from tests.unit.test_conditions import empty_record


def test_findings_beyond_the_cap_are_counted_on_one_card() -> None:
    engine = load_engine(REPO_ROOT / "mappings", REPO_ROOT / "cards")
    findings = [Finding(f"rule-{i}", "info", "data.cards_cut", args={"count": str(i)}) for i in range(60)]
    findings.append(Finding("S7", "critical", "safety.pregnant", args={"months": "7"}, cites=("S7",)))

    cards = engine._cards(findings, empty_record(), PatientData(resources={}, origin={}), "en", orders=False)

    assert len(cards) == MAX_CARDS
    assert cards[0].indicator == "critical"  # the most severe is never cut
    assert cards[-1].summary.startswith(f"{61 - MAX_CARDS + 1} more findings not shown")
