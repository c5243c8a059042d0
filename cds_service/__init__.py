"""HER2 CDS Hooks service: CDS Hooks 2.0 decision support for HER2-targeted breast cancer therapy."""

__version__ = "0.1.0"
