"""Loading of the data folders (mappings/, cards/): YAML in, validated pydantic models out.

A bad file stops start-up with an error that names the file and the field."""

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["DataFileError", "load_model"]

M = TypeVar("M", bound=BaseModel)


class DataFileError(RuntimeError):
    def __init__(self, path: Path, field: str, message: str) -> None:
        super().__init__(f"{path}: {field or '(file)'}: {message}")
        self.path = path
        self.field = field


def load_model(path: Path, model: type[M]) -> M:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataFileError(path, "", f"cannot read: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise DataFileError(path, field, first["msg"]) from exc
