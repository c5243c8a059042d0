"""Terminology as data: code → concept look-ups built once from mappings/."""

from .loader import Terminology, codings, load_terminology, text
from .models import CodeEntry

__all__ = ["CodeEntry", "Terminology", "codings", "load_terminology", "text"]
