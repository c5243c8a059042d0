"""Feedback per rule: how many cards each rule was shown on, how often they were accepted or overridden, and why.

The database does the counting (GROUP BY): what comes back is one row per distinct rule list of a card and
knowledge version (or outcome and reason code), never one per card or per feedback item, so memory stays
bounded however many cards were issued."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.orm import Session

from .database import Database
from .tables import FeedbackRow, IssuedCardRow

__all__ = ["NO_REASON", "NO_VERSION", "RuleStats", "rule_summary"]

NO_REASON = "(no reason code)"  # an override with a userComment only
NO_VERSION = "(not recorded)"  # cards recorded before the knowledge version was


@dataclass
class RuleStats:
    rule: str  # a knowledge row id (e.g. M1) or an engine rule (e.g. her2-status)
    issued: int = 0  # cards issued that showed this rule
    accepted: int = 0  # feedback items: a card reported twice counts twice
    overridden: int = 0
    override_reasons: Counter[str] = field(default_factory=Counter)  # reason code -> count
    versions: Counter[str] = field(default_factory=Counter)  # knowledge version -> cards issued with it

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "issued": self.issued,
            "accepted": self.accepted,
            "overridden": self.overridden,
            "overrideReasons": dict(self.override_reasons.most_common()),
            "knowledgeVersions": dict(sorted(self.versions.items())),
        }


def _rules(stored: str | None) -> list[str]:
    # The JSON list as the database returns it cast to text; a card shows each rule once.
    return list(dict.fromkeys(json.loads(stored))) if stored else []


def rule_summary(database: Database) -> dict[str, RuleStats]:
    """Per rule, over every card recorded. A card showing several rules counts for each of them."""
    stats: dict[str, RuleStats] = {}

    def entry(rule: str) -> RuleStats:
        return stats.setdefault(rule, RuleStats(rule))

    rules = cast(IssuedCardRow.rules, Text)
    issued = select(rules, IssuedCardRow.knowledge_version, func.count()).group_by(
        rules, IssuedCardRow.knowledge_version
    )
    reason = FeedbackRow.override_reason[("reason", "code")].as_string()
    answered = (
        select(rules, FeedbackRow.outcome, reason, func.count())
        .join(
            IssuedCardRow,
            and_(IssuedCardRow.card_uuid == FeedbackRow.card_uuid, IssuedCardRow.service_id == FeedbackRow.service_id),
        )
        .group_by(rules, FeedbackRow.outcome, reason)
    )
    with Session(database.engine) as session:
        for shown, version, count in session.execute(issued):
            for rule in _rules(shown):
                entry(rule).issued += count
                entry(rule).versions[version or NO_VERSION] += count
        for shown, outcome, code, count in session.execute(answered):
            for rule in _rules(shown):
                if outcome == "accepted":
                    entry(rule).accepted += count
                elif outcome == "overridden":
                    entry(rule).overridden += count
                    entry(rule).override_reasons[code or NO_REASON] += count
    return dict(sorted(stats.items(), key=lambda item: _natural(item[0])))


def _natural(rule: str) -> list[tuple[int, int | str]]:
    """M2 before M10."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", rule) if part]
