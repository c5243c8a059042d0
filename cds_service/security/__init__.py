"""Trusting CDS clients (CDS Hooks 2.0 §Trusting CDS Clients): signed JWTs from allowlisted issuers."""

from .jwt import ClientVerifier, Unauthorized
from .trust import TrustedClient, load_trusted_clients

__all__ = ["ClientVerifier", "TrustedClient", "Unauthorized", "load_trusted_clients"]
