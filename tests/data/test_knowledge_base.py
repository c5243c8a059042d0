"""The knowledge base (cards/) and the mappings agree with each other and with the knowledge table."""

import re
import shutil
from pathlib import Path

import pytest

from cds_service.clinical import phrases
from cds_service.clinical.engine import load_engine
from cds_service.config import REPO_ROOT, Settings
from cds_service.datafiles import DataFileError

ENGINE = load_engine(REPO_ROOT / "mappings", REPO_ROOT / "cards")
KNOWLEDGE_TABLE = REPO_ROOT.parent / "shared" / "knowledge" / "clinical-knowledge.md"
# Rows of clinical-knowledge.md §2.1–2.6 (T, N, A, M, B, R, L, S) and §3.4/§3.5 (BIO, SC).
TABLE_ROWS = (
    [f"T{i}" for i in range(1, 13)]
    + [f"N{i}" for i in range(1, 7)]
    + [f"A{i}" for i in range(1, 13)]
    + [f"M{i}" for i in range(1, 17)]
    + ["B1", "B2", "R1", "R2", "R3"]
    + [f"L{i}" for i in range(1, 6)]
    + [f"S{i}" for i in range(1, 9)]
    + [f"BIO{i}" for i in range(1, 7)]
    + ["SC1", "SC2"]
)
# The product rows of §3.1–3.3 and §3.5, as the table names them.
# Rows added by issue 7 beyond the compiled table, each with its own sources and provenance: N7 (cT1c N0),
# A13 (high-risk pN0, pertuzumab) and S9 (ILD history before a first T-DXd dose).
ADDED_ROWS = ["N7", "A13", "S9"]
PRODUCT_ROWS = [
    "Ogivri",
    "Herzuma",
    "Ontruzant",
    "Trazimera",
    "Kanjinti",
    "Hercessi",
    "POHERDY",
    "HLX11",
    "Zercepac",
    "汉曲优",
    "海正生物",
    "正大天晴",
    "安科生物",
    "安曲妥",
    "Herceptin Hylecta",
    "Phesgo",
]


def test_every_row_of_the_knowledge_table_is_encoded_once() -> None:
    assert sorted(ENGINE.knowledge.entries) == sorted(TABLE_ROWS + ADDED_ROWS)


@pytest.mark.skipif(not KNOWLEDGE_TABLE.exists(), reason="shared/ not beside this checkout")
def test_the_row_list_matches_the_knowledge_table_itself() -> None:
    text = KNOWLEDGE_TABLE.read_text(encoding="utf-8")
    section_2 = text[text.index("## 2. Rules-engine") : text.index("## 3. Biosimilars")]
    rows = set(re.findall(r"^\| ([TNAMBRLS][0-9]{1,2}) \|", section_2, re.MULTILINE))
    assert rows == {r for r in TABLE_ROWS if not r.startswith(("BIO", "SC"))}


def test_every_product_row_of_section_3_has_a_product() -> None:
    rows = " ".join(p.knowledge_row for p in ENGINE.terminology.products.values())
    assert [r for r in PRODUCT_ROWS if r not in rows] == []


def test_biosimilars_point_at_their_reference_product_and_ingredient() -> None:
    products = ENGINE.terminology.products
    for product_id, product in products.items():
        if product.role == "biosimilar":
            assert product.reference_product in products, product_id
            assert products[product.reference_product].role == "originator"
            assert products[product.reference_product].drug == product.drug
    assert "inetetamab" not in {p.drug for p in products.values()}  # a modified antibody, not a biosimilar


def test_stated_levels_name_the_document_that_states_them() -> None:
    for entry in ENGINE.knowledge.entries.values():
        if entry.level_provenance == "stated":
            source = ENGINE.knowledge.sources[entry.level_source or ""]
            assert source.kind in ("consensus", "guideline"), entry.id
        if entry.provenance == "inferred":
            assert entry.level_provenance != "stated" or entry.level_source, entry.id


def test_china_specific_and_preferred_flags_follow_the_table() -> None:
    entries = ENGINE.knowledge.entries
    assert [e.id for e in entries.values() if e.preferred] == ["N2"]  # "Preferred (found, C6)"
    assert {"N5", "M2", "M7", "M9", "M14", "M15", "A10"} <= {e.id for e in entries.values() if e.region == "china"}


def test_every_regimen_drug_is_a_known_drug() -> None:
    drugs = ENGINE.terminology.drugs
    for entry in ENGINE.knowledge.entries.values():
        for regimen in entry.regimens:
            assert set(regimen.drugs) <= set(drugs), (entry.id, regimen.label)


def _cards_copy(tmp_path: Path) -> Path:
    target = tmp_path / "cards"
    shutil.copytree(REPO_ROOT / "cards", target)
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [
        ("neoadjuvant.yaml", "level_provenance: inferred", "level_provenance: guessed", "level_provenance"),
        ("metastatic.yaml", "[trastuzumab, pertuzumab", "[trastuzumab, pertuzumab-x", "unknown drug"),
        ("safety.yaml", "lvef_min: 50", "lvef_minimum: 50", "S1.parameters"),
        ("testing.yaml", "sources: [", "sources: [no-such-source, ", "sources"),
    ],
    ids=["bad-enum", "unknown-drug", "missing-engine-parameter", "unknown-source"],
)
def test_a_bad_card_file_stops_start_up_naming_file_and_field(
    tmp_path: Path, file: str, old: str, new: str, field: str
) -> None:
    cards = _cards_copy(tmp_path)
    path = cards / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")

    with pytest.raises(DataFileError) as error:
        load_engine(REPO_ROOT / "mappings", cards)

    assert error.value.path.name in (file, "cards")
    assert field in str(error.value)


def test_the_app_refuses_to_start_on_a_bad_card_file(tmp_path: Path) -> None:
    from cds_service.app import create_app

    cards = _cards_copy(tmp_path)
    (cards / "adjuvant.yaml").write_text("entries: [", encoding="utf-8")

    with pytest.raises(DataFileError, match="adjuvant.yaml"):
        create_app(Settings(cards_dir=cards, database_url=f"sqlite:///{tmp_path / 'f.sqlite3'}"))


def test_every_phrase_exists_in_both_languages_with_the_same_placeholders() -> None:
    for key, (en, zh) in phrases.PHRASES.items():
        assert en and zh, key
        assert sorted(re.findall(r"{(\w+)}", en)) == sorted(re.findall(r"{(\w+)}", zh)), key
        assert re.search(r"[\u4e00-\u9fff]", zh) or key in (
            "fact.lvef",
            "rec.summary",
            "status.summary",
            "status.summary_undated",
        ), key


def test_every_phrase_key_the_engine_uses_exists() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "cds_service" / "clinical").glob("*.py"))
    prefixes = "gap|safety|order|bio|status|rec|note|data|label|fact|value|her2|hr|setting|phase"
    used = set(re.findall(rf'"((?:{prefixes})\.[a-z_\-]+(?:\.[a-z_\-]+)?)"', source))
    assert sorted(used - set(phrases.PHRASES)) == []
    problems = set(re.findall(r'"([a-z]+(?:-[a-z0-9]+)+)"', (REPO_ROOT / "cds_service/clinical/her2.py").read_text()))
    problems = {
        p
        for p in problems
        if p.startswith(("ish-", "ihc-", "results-", "interpretation-", "ultralow-", "value-", "serum-", "no-"))
    }
    assert sorted(p for p in problems if f"problem.{p}" not in phrases.PHRASES and not p.startswith("ihc-")) == []
    for override in re.findall(r"overrides=\(([^)]*)\)", source):
        for code in re.findall(r'"([a-z0-9-]+)"', override):
            assert f"override.{code}" in phrases.PHRASES, code
