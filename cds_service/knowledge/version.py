"""The knowledge version: a hash of every data file the cards depend on, and the latest review date.

It goes on every card and into the knowledge report, so an audit can tell which knowledge produced a card."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

__all__ = ["KnowledgeVersion", "knowledge_version"]


@dataclass(frozen=True)
class KnowledgeVersion:
    digest: str  # sha256 of the data files (12 hex characters shown; collisions do not matter at this scale)
    reviewed: date  # the latest review date of any knowledge row

    @property
    def label(self) -> str:
        """e.g. 2026-11-29+3f2a9c1d0b7e: sorts by date, and names the exact content."""
        return f"{self.reviewed.isoformat()}+{self.digest}"


def knowledge_version(files: Iterable[Path], reviewed: Iterable[date]) -> KnowledgeVersion:
    """`files`: cards/*.yaml, mappings/*.yaml and every ConceptMap loaded. Hashed by name and bytes, in name
    order, so the same content gives the same version on any machine and from any folder."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: (p.name, str(p))):
        content = path.read_bytes().replace(b"\r\n", b"\n")  # a Windows checkout is the same knowledge
        digest.update(path.name.encode() + b"\0" + str(len(content)).encode() + b"\0" + content)
    dates = list(reviewed)
    return KnowledgeVersion(digest.hexdigest()[:12], max(dates) if dates else date.min)
