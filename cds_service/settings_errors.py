"""A refused setting as one line that names its environment variable, e.g.
`HER2_CDS_PORT: Input should be less than or equal to 65535 (got '70000')`."""

from pydantic import ValidationError

__all__ = ["describe_settings_error"]

# Values that may carry credentials are never repeated back.
_SECRET_FIELDS = frozenset({"database_url"})
_MAX_SHOWN = 80


def describe_settings_error(exc: ValidationError, *, prefix: str = "HER2_CDS_") -> str:
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        name = f"{prefix}{field.upper()}" if field else "settings"
        shown = "" if field in _SECRET_FIELDS else f" (got {_shorten(repr(error['input']))})"
        parts.append(f"{name}: {error['msg']}{shown}")
    return "; ".join(parts)


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
