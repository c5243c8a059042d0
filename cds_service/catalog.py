"""The services this CDS Service offers: one per hook, each with its prefetch templates."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from .clinical.engine import Engine
from .fhir import PatientData
from .hooks.discovery import ServiceDescriptor
from .hooks.request import HookContext, OrderSelectContext, OrderSignContext, PatientViewContext
from .hooks.response import Card
from .terminology import Terminology

__all__ = ["ServiceSpec", "build_catalog", "prefetch_templates"]

PATIENT = "{{context.patientId}}"
PAGE_SIZE = 100

Evaluate = Callable[[HookContext, PatientData, str, date], list[Card]]  # context, data, language, today


@dataclass(frozen=True)
class ServiceSpec:
    id: str
    hook: str
    title: str
    description: str
    context_model: type[HookContext]
    prefetch: Mapping[str, str]
    evaluate: Evaluate
    # Keys the cards can do without, saying so: many FHIR servers (Epic among them) do not offer
    # MedicationStatement search, and a 403 there must not cost the whole hook.
    optional_prefetch: frozenset[str] = frozenset({"medicationStatements"})

    def descriptor(self) -> ServiceDescriptor:
        return ServiceDescriptor(
            hook=self.hook, title=self.title, description=self.description, id=self.id, prefetch=dict(self.prefetch)
        )


def prefetch_templates(terminology: Terminology) -> dict[str, str]:
    """Exactly the data the clinical engine reads, with 2.0 tokens only (context.patientId)."""
    templates = {"patient": f"Patient/{PATIENT}"}
    for key, codes in terminology.prefetch_codes.items():
        code_param = ",".join(f"{system}|{code}" for system, code in codes)
        templates[key] = f"Observation?patient={PATIENT}&code={code_param}&_count={PAGE_SIZE}"
    for key, resource_type in (
        ("conditions", "Condition"),
        ("medicationRequests", "MedicationRequest"),
        ("medicationStatements", "MedicationStatement"),
    ):
        templates[key] = f"{resource_type}?patient={PATIENT}&_count={PAGE_SIZE}"
    return templates


def build_catalog(engine: Engine) -> Mapping[str, ServiceSpec]:
    prefetch = MappingProxyType(prefetch_templates(engine.terminology))
    specs = (
        ServiceSpec(
            id="her2-patient-view",
            hook="patient-view",
            title="HER2 breast cancer decision support",
            description=(
                "HER2 decision support for breast cancer (2025 Chinese expert consensus on breast cancer targeting "
                "HER2): HER2 status per ASCO/CAP with its basis, testing gaps (ISH for IHC 2+, retest on "
                "metastasis), the consensus recommendations for the patient's setting and line with level and "
                "provenance, and cardiac and pregnancy safety on anti-HER2 therapy. English or Chinese."
            ),
            context_model=PatientViewContext,
            prefetch=prefetch,
            evaluate=engine.patient_view,
        ),
        ServiceSpec(
            id="her2-order-select",
            hook="order-select",
            title="Anti-HER2 order check",
            description=(
                "Checks each selected anti-HER2 drug order (RxNorm, ATC, brand or English/Chinese name, biosimilars "
                "included) against HER2 status, setting and line of therapy, LVEF, pregnancy and ILD, with "
                "biosimilar notes for trastuzumab and pertuzumab."
            ),
            context_model=OrderSelectContext,
            prefetch=prefetch,
            evaluate=engine.order_check,
        ),
        ServiceSpec(
            id="her2-order-sign",
            hook="order-sign",
            title="Anti-HER2 order check at signing",
            description=(
                "Checks every anti-HER2 drug order about to be signed against HER2 status, setting and line, "
                "LVEF, pregnancy and ILD, with biosimilar notes."
            ),
            context_model=OrderSignContext,
            prefetch=prefetch,
            evaluate=engine.order_check,
        ),
    )
    return MappingProxyType({spec.id: spec for spec in specs})
