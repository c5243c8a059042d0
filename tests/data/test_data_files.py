"""Every data file loads; the vendored public examples are exact copies and load as transactions."""

import hashlib
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from cds_service.config import REPO_ROOT
from cds_service.datafiles import load_model
from cds_service.examples import to_transaction
from cds_service.terminology.models import (
    ConditionCodeFile,
    DrugFile,
    ObservationCodeFile,
    ResultValueFile,
    StagingValueFile,
)

SCHEMAS = {
    "observation-codes.yaml": ObservationCodeFile,
    "result-values.yaml": ResultValueFile,
    "staging-values.yaml": StagingValueFile,
    "condition-codes.yaml": ConditionCodeFile,
    "anti-her2-drugs.yaml": DrugFile,
    "partner-drugs.yaml": DrugFile,
}
EXAMPLES = REPO_ROOT / "examples" / "fhir"
SHARED_EXAMPLES = REPO_ROOT.parent / "shared" / "external" / "fhir-examples"
BUNDLES = sorted(
    p
    for p in (REPO_ROOT / "examples").rglob("*.json")
    if '"resourceType": "Bundle"' in p.read_text(encoding="utf-8")[:200]
)


def test_every_mapping_file_has_a_schema_and_loads() -> None:
    files = sorted(p.name for p in (REPO_ROOT / "mappings").iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    assert files == sorted(SCHEMAS)  # local ConceptMaps (*.conceptmap.json) are the integrator's, not shipped
    for name, schema in SCHEMAS.items():
        load_model(REPO_ROOT / "mappings" / name, schema)


@pytest.mark.skipif(not SHARED_EXAMPLES.exists(), reason="shared/ not beside this checkout")
def test_vendored_examples_are_unchanged_copies() -> None:
    for copy in EXAMPLES.rglob("*.json"):
        original = SHARED_EXAMPLES / copy.relative_to(EXAMPLES)
        assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest(), copy


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.name)
def test_example_bundles_become_valid_put_transactions(path: Path) -> None:
    transaction, warnings = to_transaction(json.loads(path.read_text(encoding="utf-8")))

    Bundle.model_validate(transaction)  # the loader's output is a valid FHIR transaction
    assert all(e["request"]["method"] == "PUT" and e["request"]["url"] == e["fullUrl"] for e in transaction["entry"])
    if path.parent.name == "mcode-ctm-breastcancertrials":
        # the deliberately messy bundle repeats seven entries and has an Observation with two value[x]
        assert sum("duplicate" in w for w in warnings) == 7
        (invalid,) = [w for w in warnings if "not valid FHIR" in w]
        assert invalid.startswith("entry 3: Observation/95d74cb0-15d5-44dd-a289-b622bfed80be is not valid FHIR")
        assert "Any of one field value is expected" in invalid
    else:
        assert warnings == []
        assert not any("urn:uuid:" in json.dumps(e["resource"]) for e in transaction["entry"])
