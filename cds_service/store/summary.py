"""Feedback per rule: how many cards each rule was shown on, how often they were accepted or overridden, and why."""

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import Database
from .tables import FeedbackRow, IssuedCardRow

__all__ = ["RuleStats", "rule_summary"]


@dataclass
class RuleStats:
    rule: str  # a knowledge row id (e.g. M1) or an engine rule (e.g. her2-status)
    issued: int = 0  # cards issued that showed this rule
    accepted: int = 0
    overridden: int = 0
    override_reasons: Counter[str] = field(default_factory=Counter)  # reason code (or display) -> count


def rule_summary(database: Database) -> dict[str, RuleStats]:
    """Per rule, over every card recorded. A card showing several rules counts for each of them."""
    stats: dict[str, RuleStats] = {}
    rules_of: dict[str, list[str]] = {}
    with Session(database.engine) as session:
        for card_uuid, rules in session.execute(select(IssuedCardRow.card_uuid, IssuedCardRow.rules)):
            rules_of[card_uuid] = list(rules or ())
            for rule in rules_of[card_uuid]:
                stats.setdefault(rule, RuleStats(rule)).issued += 1
        for card_uuid, outcome, reason in session.execute(
            select(FeedbackRow.card_uuid, FeedbackRow.outcome, FeedbackRow.override_reason)
        ):
            for rule in rules_of.get(card_uuid, ()):
                entry = stats[rule]
                if outcome == "accepted":
                    entry.accepted += 1
                elif outcome == "overridden":
                    entry.overridden += 1
                    label = (reason or {}).get("reason", {}) if isinstance(reason, dict) else {}
                    text = label.get("code") or label.get("display") or "(no reason given)"
                    entry.override_reasons[str(text)] += 1
    return dict(sorted(stats.items()))
