"""The fixed words of the knowledge review report, in both languages it is written in."""

from collections.abc import Mapping

__all__ = ["LABELS", "label"]

LABELS: Mapping[str, tuple[str, str]] = {
    "title": ("HER2 CDS knowledge review report", "HER2 临床决策支持知识库审核报告"),
    "intro": (
        "Every knowledge row the service's cards rest on, for review by the clinical committee. Nothing here is "
        "medical advice. Levels and categories marked inferred are placeholders until the committee checks them "
        "against the consensus.",
        "本报告列出服务卡片所依据的全部知识条目，供临床委员会审核。本报告不构成医疗建议。标为“推断”的推荐级别和证据类别"
        "在委员会对照共识核实之前仅为暂定值。",
    ),
    "version": ("Knowledge version", "知识库版本"),
    "digest": ("content hash", "内容哈希"),
    "latest_review": ("latest review date", "最近审核日期"),
    "generated": ("Report generated", "报告生成时间"),
    "consensus": ("Consensus", "共识"),
    "counts": ("Counts", "统计"),
    "rows": ("knowledge rows", "知识条目"),
    "by_chapter": ("by chapter", "按章节"),
    "by_level": ("by level", "按推荐级别"),
    "count.content": ("Content provenance", "内容来源性质"),
    "count.level": ("Level provenance", "推荐级别来源性质"),
    "count.category": ("Evidence category provenance", "证据类别来源性质"),
    "provenance_counts": ("stated / inferred / unknown", "明示 / 推断 / 未知"),
    "needs_review": ("Needs committee review", "需委员会审核"),
    "needs_review_intro": (
        "Rows whose content, level or evidence category is inferred (domain knowledge or an estimate), not "
        "stated by a source:",
        "内容、推荐级别或证据类别为推断（领域知识或估计）而非来源明示的条目：",
    ),
    "none_needs_review": ("No row has inferred content, level or category.", "没有内容、级别或类别为推断的条目。"),
    "contents": ("Contents", "目录"),
    "inferred_marker": ("Inferred — needs committee review", "推断 — 需委员会审核"),
    "inferred_parts": ("inferred", "推断部分"),
    "part.content": ("content", "内容"),
    "part.level": ("level", "推荐级别"),
    "part.category": ("evidence category", "证据类别"),
    "field.title": ("Title", "标题"),
    "field.text": ("Text", "内容"),
    "field.kind": ("Kind", "类型"),
    "field.when": ("Applies when", "适用条件"),
    "field.leads_when": ("Leads the options when", "优先推荐条件"),
    "field.qualifiers": ("Qualifiers (the clinician confirms)", "限定条件（由临床医生确认）"),
    "field.regimens": ("Regimens", "方案"),
    "field.drugs": ("Drugs it concerns", "涉及药物"),
    "field.trials": ("Trials", "临床试验"),
    "field.flags": ("Standing", "地位"),
    "field.parameters": ("Parameters of the engine's logic", "引擎逻辑参数"),
    "field.level": ("Level", "推荐级别"),
    "field.category": ("Evidence category", "证据类别"),
    "field.provenance": ("Content provenance", "内容来源性质"),
    "field.statements": ("Consensus statements", "共识陈述"),
    "field.within": ("Restates part of", "重述以下条目的一部分"),
    "field.knowledge_row": (
        "Knowledge table row (docs/knowledge-sources/clinical-knowledge.md)",
        "知识表行（docs/knowledge-sources/clinical-knowledge.md）",
    ),
    "field.sources": ("Sources", "来源"),
    "field.reviewed": ("Reviewed", "审核日期"),
    "field.note": ("Note", "备注"),
    "field.scenarios": ("Scenario tests", "场景测试"),
    "field.feedback": ("Feedback", "反馈"),
    "when.engine": (
        "applied by the engine's own logic (no declarative conditions)",
        "由引擎逻辑直接应用（无声明式条件）",
    ),
    "checked_by": ("read from the record", "可从病历读取"),
    "otherwise": ("otherwise confirm", "否则需确认"),
    "cycles": ("cycles", "周期"),
    "flag.preferred": ("preferred option (stated by the consensus)", "首选方案（共识明示）"),
    "flag.conditional": (
        "conditional alternative (when the usual option cannot be given)",
        "条件性替代方案（常规方案无法使用时）",
    ),
    "flag.region": ("option specific to China", "中国特有选项"),
    "prov.stated": ("stated", "明示"),
    "prov.inferred": ("inferred, pending clinical review", "推断，待临床审核"),
    "prov.unknown": ("not known", "未知"),
    "level.none": ("none", "无"),
    "level_source": ("as graded by", "分级来源"),
    "kind.classification": ("classification", "分类"),
    "kind.testing": ("testing", "检测"),
    "kind.recommendation": ("recommendation", "推荐"),
    "kind.caution": ("caution", "警示"),
    "kind.safety": ("safety", "安全"),
    "kind.biosimilar": ("biosimilar", "生物类似药"),
    "no_url": ("no public address recorded", "未记录公开地址"),
    "scenarios.none": ("no scenario test", "无场景测试"),
    "scenarios.unavailable": (
        "test index not available (the tests folder is not installed with the package)",
        "测试索引不可用（安装包中不含测试目录）",
    ),
    "scenarios.xfail": ("expected to fail", "预期失败"),
    "scenarios.status_ok": ("scenario tests indexed from", "场景测试索引自"),
    "feedback.none": ("no feedback recorded yet", "尚无反馈记录"),
    "feedback.row_none": ("no cards issued for this row yet", "该条目尚未生成卡片"),
    "feedback.error": ("feedback could not be read", "无法读取反馈"),
    "feedback.issued": ("cards issued", "已生成卡片"),
    "feedback.accepted": ("accepted", "已接受"),
    "feedback.overridden": ("overridden", "已驳回"),
    "feedback.reasons": ("override reasons", "驳回原因"),
    "feedback.source": ("Feedback", "反馈"),
    "feedback.rows_with": ("rows with cards issued", "已生成卡片的条目"),
    "other_rules": ("Feedback on the engine's own rules", "引擎自身规则的反馈"),
    "other_rules_intro": (
        "Cards that rest on an engine rule (HER2 status, setting or line unknown, order checks), not on a "
        "knowledge row:",
        "基于引擎规则（HER2状态、疾病阶段或线数未知、医嘱检查）而非知识条目的卡片：",
    ),
    "rule": ("rule", "规则"),
    "definitions": ("Cut-offs and time windows", "界值与时间窗"),
    "definitions_intro": (
        "Numbers the engine's logic reads that are not rows of the knowledge table (cards/definitions.yaml):",
        "引擎逻辑使用、但不属于知识表条目的数值（cards/definitions.yaml）：",
    ),
    "name": ("name", "名称"),
    "value": ("value", "数值"),
    "how_to": ("How to use this report", "如何使用本报告"),
    "how_to_text": (
        "Check each row's text in both languages, its conditions and its level against the consensus; start with "
        "the rows listed under “Needs committee review”. Record decisions in cards/*.yaml (set the provenance to "
        "stated with its source, update the review date), then regenerate this report: the knowledge version "
        "changes with every edit.",
        "请对照共识核对每个条目的中英文内容、适用条件及推荐级别，优先处理“需委员会审核”中列出的条目。审核结论请写入 "
        "cards/*.yaml（核实后将来源性质改为明示并注明来源，更新审核日期），然后重新生成本报告：每次修改后知识库版本都会变化。",
    ),
}


def label(key: str, language: str) -> str:
    en, zh = LABELS[key]
    return zh if language == "zh-CN" else en
