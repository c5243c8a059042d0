"""Knowledge lookups worked out once (the rules ask them on every call) give what filtering every row gives."""

from cds_service.clinical.engine import load_engine
from cds_service.clinical.orders import ingredients
from cds_service.config import Settings
from cds_service.terminology import DrugMatch


def test_rows_giving_an_orders_ingredients_are_the_rows_whose_regimen_has_them_all() -> None:
    settings = Settings()
    engine = load_engine(settings.mappings_dir, settings.cards_dir)
    knowledge, terminology = engine.knowledge, engine.terminology
    rows = knowledge.of_kind("recommendation", "caution")
    found_some = False
    for drug in terminology.drugs:
        wanted = ingredients(DrugMatch(drug, None, "test"), terminology)
        expected = [e for e in rows if any(wanted <= set(r.drugs) for r in e.regimens)]
        assert list(knowledge.giving(wanted)) == expected, drug
        assert knowledge.giving(wanted) is knowledge.giving(frozenset(wanted))  # worked out once
        found_some = found_some or bool(expected)
    assert found_some
