"""Terminology as data: code → concept look-ups built once from mappings/."""

from .loader import Terminology, load_terminology
from .models import CodeEntry

__all__ = ["CodeEntry", "Terminology", "load_terminology"]
