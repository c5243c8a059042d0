"""FHIR data access: the only stage that does I/O."""

from .client import FhirClient, FhirError
from .prefetch import DataUnavailable, PatientData, gather_patient_data, render_template

__all__ = ["DataUnavailable", "FhirClient", "FhirError", "PatientData", "gather_patient_data", "render_template"]
