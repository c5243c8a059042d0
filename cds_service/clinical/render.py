"""Findings → CDS Hooks cards in the reader's language, each with its basis, level and source."""

from dataclasses import dataclass

from fhir.resources.R4B.servicerequest import ServiceRequest

from ..hooks.response import Action, Card, Coding, Link, OverrideReason, Source, Suggestion
from ..knowledge import Knowledge, Recommendation
from ..terminology import Terminology
from .conditions import FactLine
from .phrases import PHRASES, phrase
from .rules import Finding

__all__ = ["CONSENSUS_URL", "OVERRIDE_SYSTEM", "RULE_SYSTEM", "Renderer"]

RULE_SYSTEM = "urn:her2-cds:rule"
OVERRIDE_SYSTEM = "urn:her2-cds:override-reason"
CONSENSUS_URL = "https://doi.org/10.21037/tbcr-25-34"
CONSENSUS_LABEL = {
    "en": "Chinese expert consensus on breast cancer targeting HER2 (Li J et al., Transl Breast Cancer Res 2025;6:21)",
    "zh-CN": "靶向HER2乳腺癌诊疗专家共识（Li J等，Transl Breast Cancer Res 2025;6:21）",
}
LINK_LABEL = {"en": "The 2025 consensus (doi:10.21037/tbcr-25-34)", "zh-CN": "2025共识原文（doi:10.21037/tbcr-25-34）"}
SERVICE_LABEL = {"en": "HER2 CDS service: data check", "zh-CN": "HER2临床决策支持服务：数据核查"}
_DATA_CHECKS = {"her2-not-understood", "her2-unreadable", "data-complete", "order-readable"}
_DATA_CHECKS |= {"data-identity", "data-shape", "order-duplicate", "scope-diagnosis"}  # issue 7 safety
ORDERABLES = {
    "order-ish": ("http://loinc.org", "85318-4", "ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH"),
    "order-ihc": ("http://loinc.org", "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain"),
    "order-echo": ("http://snomed.info/sct", "40701008", "Echocardiography (procedure)"),
}
SUMMARY_MAX = 139


def _clip(value: str, limit: int = SUMMARY_MAX) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class Renderer:
    knowledge: Knowledge
    terminology: Terminology
    language: str
    patient_id: str

    # -- small pieces ------------------------------------------------------------------------------
    def say(self, key: str, **args: str) -> str:
        return phrase(key, self.language, **args)

    def value(self, raw: str) -> str:
        if raw.startswith("title:") and raw[6:] in self.knowledge.entries:
            return self.title(self.knowledge.entries[raw[6:]])
        if raw.startswith("drug:") and ", " in raw:
            return ", ".join(self.value(part) for part in raw.split(", "))
        if raw.startswith("drug:"):
            drug = self.terminology.drugs.get(raw[5:])
            return (drug.label.zh_CN if self.language == "zh-CN" else drug.label.en) if drug else raw[5:]
        return self.say(raw) if raw in PHRASES else raw

    def args(self, finding: Finding) -> dict[str, str]:
        args = {k: self.value(v) for k, v in finding.args.items()}
        if "facts" in finding.args:
            args["facts"] = ", ".join(self.value(f) for f in finding.args["facts"].split(", "))
        product = self.terminology.products.get(finding.args.get("product", ""))
        if product is not None:
            args["product_name"] = " / ".join(product.brands[:2]) or product.nonproprietary or finding.args["product"]
        return args

    def title(self, entry: Recommendation) -> str:
        return entry.title.get(self.language)

    def level(self, entry: Recommendation, *, short: bool = False) -> str:
        if entry.level is None:
            return self.say("level.unknown")
        if short:
            by = self.knowledge.sources[entry.level_source].short if entry.level_source else None
            return self.say("level.short_stated" if by else "level.short_inferred", level=entry.level, source=by or "")
        if entry.level_provenance == "stated":
            source = self.knowledge.sources[entry.level_source or ""].citation
            return self.say("level.stated", level=entry.level, source=source)
        return self.say("level.inferred", level=entry.level)

    def grading(self, entry: Recommendation) -> str:
        category = (
            self.say(f"category.{entry.category_provenance}", category=entry.evidence_category)
            if entry.evidence_category
            else self.say("category.unknown")
        )
        return f"{self.level(entry)} · {category} · {self.say(f'provenance.{entry.provenance}')}"

    def fact(self, line: FactLine) -> str:
        where = "; ".join(
            f"`{e.reference}` ({e.date or self.say('label.undated')}: {e.label}: {e.value})" for e in line.evidence[:6]
        )
        more = f" (+{len(line.evidence) - 6})" if len(line.evidence) > 6 else ""
        return f"- {self.say(line.name)}: **{self.value(line.value)}**" + (f" — {where}{more}" if where else "")

    def drugs(self, ids: list[str]) -> str:
        return " + ".join(self.value(f"drug:{d}") for d in ids)

    # -- card sections -----------------------------------------------------------------------------
    def entry_block(self, entry: Recommendation, *, full: bool) -> list[str]:
        lines = [f"**{entry.id} · {self.title(entry)}**", "", entry.text.get(self.language)]
        if full:
            if entry.preferred:
                lines.append(f"\n_{self.say('rec.preferred')}_")
            if entry.region == "china":
                lines.append(f"\n_{self.say('rec.china')}_")
            if entry.regimens:
                regimens = []
                for r in entry.regimens:
                    extra = f" ×{r.cycles}" if r.cycles else ""
                    extra += f", {r.duration.get(self.language)}" if r.duration else ""
                    regimens.append(f"{r.label} ({self.drugs(r.drugs)}){extra}")
                lines.append(f"\n{self.say('rec.regimens')}: " + "; ".join(regimens))
            if entry.trials:
                lines.append(f"\n{self.say('rec.trials')}: " + ", ".join(entry.trials))
            if entry.qualifiers:
                lines.append(f"\n{self.say('rec.applies_if')}:")
                lines += [f"- {q.get(self.language)}" for q in entry.qualifiers]
            if entry.note:
                lines.append(f"\n_{entry.note.get(self.language)}_")
        lines.append(f"\n{self.grading(entry)} · {entry.knowledge_row}")
        return lines

    def sources_line(self, ids: tuple[str, ...]) -> str:
        cited = sorted({s for i in ids if i in self.knowledge.entries for s in self.knowledge.entries[i].sources})
        labels = [self.knowledge.sources[s].citation for s in cited][:4]
        return f"**{self.say('label.sources')}**: " + "; ".join(labels) if labels else ""

    def attribution(self, cited: list[Recommendation], data_check: bool) -> tuple[str, str | None]:
        """Whose statement the card is: the consensus only when the row rests on it (or on a summary
        of it); otherwise the row's own first source (a guideline, a drug label, domain knowledge)."""
        if data_check:
            return SERVICE_LABEL[self.language], None
        if not cited:
            return CONSENSUS_LABEL[self.language], CONSENSUS_URL
        sources = [self.knowledge.sources[s] for s in cited[0].sources]
        if any(s.kind == "consensus" or s.reports_consensus for s in sources):
            return CONSENSUS_LABEL[self.language], CONSENSUS_URL
        rank = ("guideline", "label", "regulatory", "trial", "web", "domain-knowledge")
        first = min(sources, key=lambda s: rank.index(s.kind) if s.kind in rank else len(rank))
        return _clip(first.citation, 200), first.url

    def suggestion(self, kind: str) -> Suggestion:
        system, code, display = ORDERABLES[kind]
        resource = ServiceRequest.model_validate(
            {
                "status": "draft",
                "intent": "order",
                "code": {
                    "coding": [{"system": system, "code": code, "display": display}],
                    "text": self.say(f"action.{kind}"),
                },
                "subject": {"reference": f"Patient/{self.patient_id}"},
            }
        ).model_dump(mode="json", exclude_none=True, by_alias=True)
        action = Action(type="create", description=self.say(f"action.{kind}"), resource=resource)
        return Suggestion(label=self.say(f"suggest.{kind}"), isRecommended=True, actions=[action])

    def biosimilar_block(self, finding: Finding) -> list[str]:
        product = self.terminology.products.get(finding.args.get("product", ""))
        if product is None:
            return []
        role = self.say(f"bio.role.{product.role}", reference=self._reference_name(product.reference_product))
        lines = [f"**{' / '.join(product.brands) or product.nonproprietary}** — {role}"]
        if product.nonproprietary:
            lines[0] += f" ({product.nonproprietary})"
        if product.company:
            lines[0] += f", {product.company}"
        if product.approvals:
            lines.append(f"\n{self.say('bio.approvals')}:")
            for a in product.approvals:
                lines.append(
                    f"- {a.region} {a.date or self.say('label.undated')} ({self.say(f'codestatus.{a.status}')})"
                    + (f": {a.note}" if a.note else "")
                )
        if product.interchangeable:
            lines.append(f"\n{self.say(f'bio.interchangeable.{product.interchangeable}')}")
        if product.note:
            lines.append(f"\n_{product.note}_")
        return lines

    def _reference_name(self, product_id: str | None) -> str:
        reference = self.terminology.products.get(product_id or "")
        return " / ".join(reference.brands[:1]) if reference and reference.brands else (product_id or "?")

    # -- the card ----------------------------------------------------------------------------------
    def card(self, finding: Finding) -> Card:
        args = self.args(finding)
        cited = [self.knowledge.entries[i] for i in finding.cites if i in self.knowledge.entries]
        if finding.summary == "rec.summary":
            entry = cited[0]
            summary = self.say("rec.summary", id=entry.id, title=self.title(entry), level=self.level(entry, short=True))
        elif finding.summary == "order.caution":
            summary = self.say(finding.summary, **args, caution=f"{cited[0].id} · {self.title(cited[0])}")
        else:
            summary = self.say(finding.summary, **args)
        detail: list[str] = []
        if "order" in finding.args:
            orders = ", ".join(f"`{o}`" for o in finding.args["order"].split(", "))
            detail.append(f"{self.say('label.order')} {orders}\n")
        detail += [self.say(key, **args) + "\n" for key in finding.details]
        detail += self.biosimilar_block(finding)
        if finding.rule == "BIO6":
            detail.append(f"\n{self.say('bio.record')}\n")
        for i, entry in enumerate(cited):
            detail += [*self.entry_block(entry, full=finding.summary == "rec.summary" or i == 0), ""]
        if finding.more:
            detail.append(f"**{self.say('rec.more')}**:")
            for entry_id in finding.more:
                entry = self.knowledge.entries[entry_id]
                detail.append(f"- {entry.id} · {self.title(entry)} · {self.level(entry, short=True)}")
            detail.append("")
        facts = list(dict.fromkeys([*finding.basis, *finding.basis_facts]))
        if facts:
            detail += [f"**{self.say('label.facts')}**", *(self.fact(f) for f in facts), ""]
        detail.append(f"**{self.say('label.rule')}** `{finding.rule}`")
        sources = self.sources_line(finding.cites)
        if sources:
            detail.append(sources)
        topic_title = self.title(cited[0]) if cited and cited[0].id == finding.rule else summary
        data_check = finding.rule in _DATA_CHECKS
        label, url = self.attribution(cited, data_check)
        source = Source(
            label=label,
            url=url,  # type: ignore[arg-type]
            topic=Coding(system=RULE_SYSTEM, code=finding.rule, display=_clip(topic_title, 200)),
        )
        suggestions = [self.suggestion(finding.suggestion)] if finding.suggestion else None
        overrides = [
            OverrideReason(system=OVERRIDE_SYSTEM, code=code, display=self.say(f"override.{code}"))
            for code in finding.overrides
        ] or None
        links = (
            None
            if data_check
            else [
                Link(label=LINK_LABEL[self.language], url=CONSENSUS_URL, type="absolute")  # type: ignore[arg-type]
            ]
        )
        return Card(
            summary=_clip(summary),
            detail="\n".join(detail).strip(),
            indicator=finding.indicator,  # type: ignore[arg-type]
            source=source,
            suggestions=suggestions,
            selectionBehavior="at-most-one" if suggestions else None,
            overrideReasons=overrides,
            links=links,
        )
