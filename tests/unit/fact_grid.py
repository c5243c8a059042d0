"""A seeded grid of synthetic PatientFacts covering every field a knowledge `when` reads, known and unknown."""

import random
from collections.abc import Iterator
from dataclasses import replace

from cds_service.clinical.evidence import Evidence
from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.her2 import Her2Status, SpecimenStatus
from cds_service.clinical.staging import Categorised, StagingFacts
from cds_service.clinical.therapy import Exposure, TherapyFacts
from cds_service.terminology import Staging
from tests.unit.test_conditions import empty_record

HER2 = ("positive", "low", "ultralow", "zero", "zero-unspecified", "negative", "equivocal", "unknown", "conflicting")
T_VALUES = ("T0", "Tis", "T1", "T1mi", "T1c", "T2", "T3", "T4", "T4d", "TX")
N_VALUES = ("N0", "N0(i+)", "N1", "N1mi", "N2", "N2a", "N3", "NX")
STAGES = ("0", "I", "IA", "IIA", "IIB", "IIIA", "IIIC", "IV")
DRUGS = ("trastuzumab", "pertuzumab", "t-dm1", "t-dxd", "pyrotinib", "lapatinib", "tucatinib", "capecitabine")
DATES = (None, "2023-01-10", "2024-06-01", "2025-03-15")


def _evidence(name: str, date: str | None = "2024-01-01") -> Evidence:
    return Evidence(f"Observation/{name}", date, name, name)


def _categorised(kind: str, value: str, prefix: str | None) -> Categorised:
    return Categorised(Staging(kind, value, prefix), _evidence(f"{prefix}{value}"))


def _maybe(rng: random.Random, *values: object) -> object:
    return rng.choice(values)


def _exposure(rng: random.Random, index: int) -> Exposure:
    drug = rng.choice(DRUGS)
    contains = frozenset({drug, *(("trastuzumab", "pertuzumab") if rng.random() < 0.1 else ())})
    start = rng.choice(DATES)
    return Exposure(drug, None, contains, "anti-her2", start, None, rng.random() < 0.4, _evidence(f"m{index}", start))


def random_facts(rng: random.Random) -> PatientFacts:
    staging = StagingFacts(
        stage=_categorised("stage", rng.choice(STAGES), None) if rng.random() < 0.6 else None,
        t={p: _categorised("T", rng.choice(T_VALUES), p) for p in ("c", "p", "yp") if rng.random() < 0.5},
        n={p: _categorised("N", rng.choice(N_VALUES), p) for p in ("c", "p", "yp") if rng.random() < 0.5},
        setting=_maybe(rng, None, "early", "locally-advanced", "metastatic"),  # type: ignore[arg-type]
        setting_basis=(_evidence("setting"),) if rng.random() < 0.5 else (),
        metastatic_since=rng.choice(DATES),
        early_phase=_maybe(rng, None, "before-surgery", "after-neoadjuvant", "after-upfront-surgery"),  # type: ignore[arg-type]
        pcr=_maybe(rng, None, True, False),  # type: ignore[arg-type]
    )
    exposures = tuple(_exposure(rng, i) for i in range(rng.randint(0, 4)))
    therapy = TherapyFacts(
        exposures=exposures,
        received=frozenset(d for e in exposures for d in e.contains),
        current_anti_her2=tuple(e for e in exposures if e.current),
        metastatic_regimens=None if rng.random() < 0.3 else tuple((e,) for e in exposures[: rng.randint(0, 3)]),
        metastatic_chemo_lines=_maybe(rng, None, 0, 1, 2, 3),  # type: ignore[arg-type]
        metastatic_endocrine_lines=_maybe(rng, None, 0, 1, 2),  # type: ignore[arg-type]
        trastuzumab=_maybe(rng, None, "sensitive", "resistant"),  # type: ignore[arg-type]
    )
    return replace(
        empty_record(),
        age=_maybe(rng, None, 30, 60, 61, 70, 75, 76),  # type: ignore[arg-type]
        her2=Her2Status(SpecimenStatus(rng.choice(HER2), (), "2024-01-01", (_evidence("her2"),))),
        hr=_maybe(rng, None, "positive", "negative"),  # type: ignore[arg-type]
        staging=staging,
        therapy=therapy,
        brain_metastases=(_evidence("brain", rng.choice(DATES)),) if rng.random() < 0.3 else (),
    )


def fact_grid(count: int = 3000, seed: int = 10) -> Iterator[PatientFacts]:
    rng = random.Random(seed)
    for _ in range(count):
        yield random_facts(rng)
