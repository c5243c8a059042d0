"""Trusting CDS clients (CDS Hooks 2.0 §Trusting CDS Clients): signed JWTs from allowlisted issuers."""

from .claims import ClientClaims
from .jwt import ClientVerifier, JwksPolicy, Unauthorized
from .trust import TrustedClient, load_trusted_clients

__all__ = ["ClientClaims", "ClientVerifier", "JwksPolicy", "TrustedClient", "Unauthorized", "load_trusted_clients"]
