"""Everything the cards say that is not knowledge-base text, in both languages (en, zh-CN).

Keys are referenced by rules.py / orders.py; a test checks that every key used exists in both
languages and that every `{name}` placeholder is the same in both."""

from collections.abc import Mapping

__all__ = ["LANGUAGES", "PHRASES", "phrase", "phrases_in"]

LANGUAGES = ("en", "zh-CN")

PHRASES: Mapping[str, tuple[str, str]] = {
    # -- values --------------------------------------------------------------------------------
    "her2.positive": ("HER2-positive", "HER2阳性"),
    "her2.low": ("HER2-low", "HER2低表达"),
    "her2.ultralow": ("HER2-ultralow", "HER2超低表达"),
    "her2.zero": ("HER2 0 (no staining)", "HER2零表达（完全无着色）"),
    "her2.zero-unspecified": ("HER2 IHC 0 (ultralow not stated)", "HER2 IHC 0（未注明是否超低表达）"),
    "her2.negative": ("HER2-negative, IHC score not recorded", "HER2阴性（未记录IHC评分）"),
    "her2.equivocal": ("HER2 equivocal", "HER2结果不确定"),
    "her2.unknown": ("HER2 status unknown", "HER2状态未知"),
    "her2.conflicting": ("HER2 results conflict", "HER2结果相互矛盾"),
    "hr.positive": ("HR-positive", "HR阳性"),
    "hr.negative": ("HR-negative", "HR阴性"),
    "hr.unknown": ("HR status unknown", "HR状态未知"),
    "estrogen-receptor.positive": ("ER positive", "ER阳性"),
    "estrogen-receptor.negative": ("ER negative", "ER阴性"),
    "estrogen-receptor.unknown": ("ER not recorded", "ER未记录"),
    "progesterone-receptor.positive": ("PR positive", "PR阳性"),
    "progesterone-receptor.negative": ("PR negative", "PR阴性"),
    "progesterone-receptor.unknown": ("PR not recorded", "PR未记录"),
    "setting.early": ("early", "早期"),
    "setting.locally-advanced": ("locally advanced", "局部晚期"),
    "setting.metastatic": ("metastatic", "晚期（转移性）"),
    "setting.unknown": ("setting unknown", "疾病阶段未知"),
    "phase.before-surgery": ("before surgery", "术前"),
    "phase.after-neoadjuvant": ("after neoadjuvant therapy and surgery", "新辅助治疗及手术后"),
    "phase.after-upfront-surgery": ("after upfront surgery", "直接手术后"),
    "h.sensitive": ("trastuzumab-sensitive", "曲妥珠单抗敏感"),
    "h.resistant": ("trastuzumab-resistant", "曲妥珠单抗耐药"),
    "pregnancy.pregnant": ("pregnant", "妊娠"),
    "pregnancy.not-pregnant": ("not pregnant", "未妊娠"),
    "value.unknown": ("not recorded", "未记录"),
    "value.yes": ("yes", "是"),
    "value.no": ("no", "否"),
    "value.undated": ("undated", "日期未记录"),
    "value.none": ("none", "无"),
    "value.none_recorded": ("none recorded", "未见记录"),
    "value.see": ("see sources", "见来源"),
    # -- fact names ----------------------------------------------------------------------------
    "fact.her2": ("HER2 status", "HER2状态"),
    "fact.diagnosis": ("Breast cancer diagnosis", "乳腺癌诊断"),
    "value.breast_cancer": ("on record", "已记录"),
    "fact.her2_earlier": ("Earlier specimen", "既往标本"),
    "fact.her2_latest": ("Latest specimen", "最近标本"),
    "fact.her2_diagnosis": ("HER2 status in the diagnosis code (not a result)", "诊断编码中的HER2状态（非检测结果）"),
    "fact.hr": ("Hormone receptors (ER/PR)", "激素受体（ER/PR）"),
    "fact.setting": ("Disease setting", "疾病阶段"),
    "fact.stage": ("Stage group", "分期"),
    "fact.stage_disagrees": ("Other stage record (disagrees)", "其他分期记录（不一致）"),
    "fact.line": ("Next anti-HER2 line (metastatic)", "下一线抗HER2治疗（晚期）"),
    "fact.current": ("Current anti-HER2 therapy", "当前抗HER2治疗"),
    "fact.phase": ("Treatment phase", "治疗阶段"),
    "fact.pcr": ("Pathologic complete response (ypT0/is ypN0)", "病理完全缓解（ypT0/is ypN0）"),
    "fact.cT": ("Clinical T", "临床T分期"),
    "fact.cN": ("Clinical N", "临床N分期"),
    "fact.pT": ("Pathological T", "病理T分期"),
    "fact.pN": ("Pathological N", "病理N分期"),
    "fact.trastuzumab": ("Trastuzumab sensitivity", "曲妥珠单抗敏感性"),
    "fact.brain": ("Brain metastases", "脑转移"),
    "fact.received": ("Drugs received", "既往用药"),
    "fact.received_metastatic": ("Given for metastatic disease", "晚期阶段已用药物"),
    "fact.on": ("Receiving now", "正在使用"),
    "fact.chemo_lines": ("Chemotherapy lines for metastatic disease", "晚期化疗线数"),
    "fact.endocrine_lines": ("Endocrine lines for metastatic disease", "晚期内分泌治疗线数"),
    "fact.age": ("Age", "年龄"),
    "fact.ki67": ("Ki-67", "Ki-67指数"),
    "fact.not_understood": ("HER2 results with codes the service does not know", "无法识别编码的HER2结果"),
    "fact.unreadable": ("HER2 resources that are not valid FHIR", "不符合FHIR格式的HER2资源"),
    "fact.serum": ("Serum HER2 results", "血清HER2结果"),
    "fact.metastatic_since": ("Metastatic since", "转移诊断日期"),
    "fact.lvef": ("LVEF", "LVEF"),
    "fact.lv_dysfunction": ("Heart failure / LV dysfunction on record", "病历记录心力衰竭/左心室功能不全"),
    "fact.pregnancy": ("Pregnancy status", "妊娠状态"),
    "fact.ild": ("ILD / pneumonitis on record", "间质性肺病/肺炎记录"),
    # -- HER2 status problems -------------------------------------------------------------------
    "problem.ish-missing": (
        "IHC 2+ without an ISH result: the status stays equivocal until ISH is done.",
        "IHC 2+且无ISH结果：在完成ISH前状态为不确定。",
    ),
    "problem.ish-group-needs-ihc": (
        "ISH group 2–4 needs a concurrent IHC result to be resolved; none is on file.",
        "ISH第2–4组需结合同期IHC结果判定，但未见IHC结果。",
    ),
    "problem.ish-numbers-missing": (
        "ISH reported equivocal without ratio and copy number on file.",
        "ISH报告为不确定，但未见比值和拷贝数。",
    ),
    "problem.specimens-disagree": (
        "The latest specimen and an earlier one lead to different treatment. No status is chosen for you: "
        "use the most recent tissue and consider the most actionable status, as an MDT decision.",
        "最近标本与既往标本的结果对应不同的治疗。系统不代为选择：以最近组织为准并考虑最具治疗价值的状态，由MDT决定。",
    ),
    "problem.results-disagree": (
        "Results of the same specimen disagree; no status is assigned.",
        "同一标本的结果相互矛盾，无法判定状态。",
    ),
    "problem.ish-numbers-disagree": (
        "The reported ISH result disagrees with its own ratio and copy number.",
        "ISH报告结论与其比值和拷贝数不一致。",
    ),
    "problem.interpretation-disagrees": (
        "The reported HER2 interpretation disagrees with the IHC/ISH results.",
        "HER2判读结论与IHC/ISH结果不一致。",
    ),
    "problem.ihc-score-missing": (
        "HER2-negative, but no IHC score is recorded: HER2-low, ultralow and 0 cannot be told apart.",
        "HER2阴性，但未记录IHC评分：无法区分HER2低表达、超低表达和0。",
    ),
    "problem.ultralow-not-stated": (
        "IHC 0: the report does not state whether faint staining in ≤10% of cells (ultralow) was seen (consensus statement C5); HER2-ultralow and HER2-null are treated differently.",
        "IHC 0：报告未说明是否存在≤10%细胞的微弱着色（超低表达，共识C5）；超低表达与完全无着色的处理不同。",
    ),
    "problem.ihc-indeterminate": (
        "IHC was indeterminate and no ISH result is on file.",
        "IHC结果无法判定，且无ISH结果。",
    ),
    "problem.value-not-understood": (
        "HER2 results exist, but their values use codes or texts the service does not know.",
        "存在HER2结果，但其数值使用了本服务无法识别的编码或文本。",
    ),
    "problem.serum-only": (
        "Only serum HER2 is on file; it cannot decide HER2 status.",
        "仅有血清HER2，不能据此判定HER2状态。",
    ),
    "problem.no-result": ("No HER2 result is on file.", "未见HER2检测结果。"),
    # -- HER2 status card ------------------------------------------------------------------------
    "status.summary": ("{her2} ({date}) · {hr} · {setting}", "{her2}（{date}）· {hr} · {setting}"),
    "status.summary_undated": ("{her2} · {hr} · {setting}", "{her2} · {hr} · {setting}"),
    # -- testing gaps ----------------------------------------------------------------------------
    "gap.no_result": (
        "Breast cancer without a recognised HER2 result: order HER2 testing",
        "乳腺癌未见可识别的HER2结果：请申请HER2检测",
    ),
    "gap.no_result.why": (
        "The consensus asks for HER2 testing of every primary invasive breast cancer, by standardised IHC "
        "(with ISH for IHC 2+) in a quality-certified laboratory (statements C1, C2; stated). A result filed "
        "under a local code the service does not know is not seen: add the code with a ConceptMap (README).",
        "共识要求所有原发浸润性乳腺癌均应检测HER2，在质控认证的实验室采用标准化IHC（IHC 2+者加做ISH）"
        "（共识C1、C2，原文）。以本服务未知的本地编码记录的结果无法识别，请通过ConceptMap添加该编码（见README）。",
    ),
    "gap.coded_diagnosis.why": (
        "The diagnosis is coded with a HER2 status, but no HER2 test result is on file. A problem-list code "
        "is not a pathology report: find the report, or retest, before any HER2-directed decision.",
        "诊断编码中包含HER2状态，但未见HER2检测结果。问题列表编码不等同于病理报告：在做出HER2相关决策前，请查找报告或重新检测。",
    ),
    "gap.not_understood": (
        "{count} HER2 result(s) not understood: HER2 status not assessed from them",
        "{count}条HER2结果无法识别：未据此判定HER2状态",
    ),
    "gap.not_understood.why": (
        "Their value codes or texts are not in the service's mappings. Nothing is guessed. Add the local "
        "codes with a ConceptMap (see README) or read the reports directly.",
        "其结果编码或文本不在本服务的术语映射中，系统不做猜测。请通过ConceptMap添加本地编码（见README），或直接查阅报告。",
    ),
    "gap.unreadable": ("{count} HER2 resource(s) not valid FHIR: ignored", "{count}条HER2资源不符合FHIR格式：已忽略"),
    "gap.unreadable.why": (
        "These resources fail FHIR R4 validation and were not used. Check them in the source system.",
        "这些资源未通过FHIR R4校验，未被使用。请在源系统中核查。",
    ),
    "gap.ish_missing": (
        "HER2 IHC 2+ ({date}) without ISH: order ISH before deciding",
        "HER2 IHC 2+（{date}）无ISH结果：请先行ISH检测",
    ),
    "gap.ish_missing.why": (
        "IHC 2+ is equivocal; HER2 status depends on reflex ISH (FISH, CISH or SISH) on the same specimen. "
        "Do not start or withhold anti-HER2 therapy on IHC 2+ alone.",
        "IHC 2+为不确定，HER2状态取决于同一标本的反射ISH（FISH、CISH或SISH）。不应仅凭IHC 2+开始或放弃抗HER2治疗。",
    ),
    "gap.ihc_needed": (
        "HER2 ISH group {group} ({date}): concurrent IHC needed to decide",
        "HER2 ISH第{group}组（{date}）：需同期IHC结果判定",
    ),
    "gap.ihc_needed.why": (
        "ISH groups 2–4 are resolved by concurrent IHC review on the same specimen (ASCO/CAP 2018). "
        "No IHC result is on file, so the status stays undecided.",
        "ISH第2–4组需结合同一标本的同期IHC复核判定（ASCO/CAP 2018）。未见IHC结果，状态暂无法判定。",
    ),
    "gap.conflicting": (
        "HER2 results of one specimen conflict: review before treating",
        "同一标本HER2结果矛盾：治疗前请复核",
    ),
    "gap.conflicting.why": (
        "The results below cannot all be true. Review with pathology (re-read, or retest) before any HER2-directed decision.",
        "以下结果不可能同时成立。在做出任何HER2相关决策前，请与病理科复核（复阅或重检）。",
    ),
    "gap.discordant": (
        "HER2 changed: {before} ({when}) → {now} ({date}); MDT review",
        "HER2状态变化：{before}（{when}）→ {now}（{date}）；建议MDT讨论",
    ),
    "gap.discordant.why": (
        "HER2 varies in space and time. Use the most recent tissue and consider the most actionable status; "
        "this is an MDT decision.",
        "HER2存在时空异质性。以最近一次组织结果为准，并考虑最具治疗价值的状态；由MDT决定。",
    ),
    "gap.retest_metastasis.why": (
        "Retest HER2 (and ER/PR) on recurrent or metastatic lesions where possible (consensus statement C1).",
        "如条件允许，应对复发或转移病灶重新检测HER2（及ER/PR）（共识C1）。",
    ),
    "gap.stage_conflict": (
        "Stage records disagree ({stage} vs {other}): check the setting",
        "分期记录不一致（{stage}与{other}）：请核对疾病阶段",
    ),
    "gap.stage_conflict.why": (
        "The stage groups on file put the patient in different settings, and the recommendations depend on "
        "the setting. The newest stage Observation was used; correct the record or confirm the setting.",
        "病历中的分期对应不同的疾病阶段，而推荐取决于疾病阶段。已采用最新的分期Observation；请更正病历或确认疾病阶段。",
    ),
    "gap.score_missing": (
        "HER2-negative without IHC score: low, ultralow or 0 unknown",
        "HER2阴性但无IHC评分：无法区分低表达、超低表达或0",
    ),
    "gap.score_missing.why": (
        "HER2-low (IHC 1+, or 2+/ISH−) and ultralow open T-DXd in metastatic disease; HER2 0 does not. "
        "Ask pathology for the IHC score.",
        "HER2低表达（IHC 1+或2+/ISH−）及超低表达的晚期患者可考虑T-DXd，HER2 0则不适用。请向病理科索取IHC评分。",
    ),
    "gap.ultralow_unstated": (
        "IHC 0: ask pathology whether faint staining (ultralow) was seen",
        "IHC 0：请向病理科确认是否存在微弱着色（超低表达）",
    ),
    "gap.ultralow_unstated.why": (
        "HR-positive metastatic HER2-ultralow disease may be eligible for T-DXd after endocrine therapy "
        "for metastatic disease (DESTINY-Breast06); the consensus asks reports to state ultralow (statement C5).",
        "HR阳性晚期HER2超低表达患者在晚期内分泌治疗后可能适合T-DXd（DESTINY-Breast06）；共识要求报告注明超低表达（共识C5）。",
    ),
    "gap.serum": ("Serum HER2 on file: not used for HER2 decisions", "存在血清HER2结果：不用于HER2决策"),
    "gap.serum.why": (
        "Serum, liquid-biopsy or ctDNA HER2 is not sufficient for HER2 decisions; tissue IHC/ISH decides.",
        "血清、液体活检或ctDNA的HER2结果不足以指导HER2决策，应以组织IHC/ISH为准。",
    ),
    "gap.setting_unknown.why": (
        "The consensus recommendations depend on the setting (early, locally advanced, metastatic). Record "
        "the stage group or TNM (AJCC) to see them.",
        "共识推荐取决于疾病阶段（早期、局部晚期、晚期）。请记录分期或TNM（AJCC）后查看。",
    ),
    "gap.line_unknown": ("Metastatic HER2-positive: line of therapy unknown", "晚期HER2阳性：治疗线数未知"),
    "gap.line_unknown.why": (
        "The line cannot be counted from the record, so line-specific options are not shown.",
        "无法从病历中计算治疗线数，因此不显示分线推荐。",
    ),
    "note.metastasis-date-missing": (
        "The date of metastasis is not recorded, so earlier anti-HER2 therapy cannot be placed before or after it.",
        "未记录转移日期，无法判断既往抗HER2治疗在转移之前还是之后。",
    ),
    "note.therapy-dates-missing": (
        "Some anti-HER2 or chemotherapy records have no date, so lines cannot be counted.",
        "部分抗HER2或化疗记录缺少日期，无法计算治疗线数。",
    ),
    # -- recommendations ---------------------------------------------------------------------------
    "rec.summary": ("{title} · {level}", "{title}·{level}"),
    "rec.next_line": (
        "Currently on {current}: the options below are for line {line}, at progression.",
        "当前治疗：{current}；以下为进展后第{line}线的可选方案。",
    ),
    "rec.more": ("Also matching for this patient", "该患者同样适用的其他推荐"),
    "rec.applies_if": ("Confirm (not in the record)", "请确认（病历中无法判断）"),
    "rec.regimens": ("Regimens", "方案"),
    "rec.trials": ("Trials", "研究"),
    "rec.china": ("China-specific option (availability / NMPA approval)", "中国特有选择（可及性/NMPA批准）"),
    "rec.preferred": ("Preferred option (stated in the consensus)", "优选方案（共识原文）"),
    # -- levels and provenance --------------------------------------------------------------------
    "level.stated": ("Level {level} (as graded by {source})", "{level}级推荐（{source}分级）"),
    "level.inferred": (
        "Level {level} (inferred, pending clinical review; not the consensus's own grading)",
        "{level}级（推断，待临床审核；非共识原文分级）",
    ),
    "level.unknown": ("Level not known", "推荐级别未知"),
    "level.short_stated": ("Level {level} ({source})", "{level}级（{source}）"),
    "level.short_inferred": ("Level {level}, inferred", "{level}级（推断）"),
    "category.stated": ("Evidence category {category} (stated)", "证据类别{category}（原文）"),
    "category.inferred": ("Evidence category {category} (inferred)", "证据类别{category}（推断）"),
    "category.unknown": ("Evidence category not known", "证据类别未知"),
    "provenance.stated": ("Content: stated in a public source", "内容：公开来源原文"),
    "provenance.inferred": (
        "Content: domain knowledge, inferred; pending clinical review",
        "内容：领域知识推断，待临床审核",
    ),
    "label.basis": ("Basis", "依据"),
    "label.for_patient": ("For this patient", "本患者"),
    "label.recommendation": ("Recommendation", "推荐"),
    "label.rule": ("Rule", "规则"),
    "label.sources": ("Sources", "来源"),
    "label.knowledge_version": ("Knowledge {version}", "知识版本 {version}"),
    "label.order": ("Order", "医嘱"),
    "label.undated": ("undated", "日期未记录"),
    # -- safety -----------------------------------------------------------------------------------
    "safety.lvef_missing": (
        "No LVEF on file: baseline echocardiogram before anti-HER2 therapy",
        "未见LVEF：抗HER2治疗前需基线超声心动图",
    ),
    "safety.lvef_baseline_old": (
        "Baseline LVEF older than {days} days ({date}): repeat before starting",
        "基线LVEF已超过{days}天（{date}）：开始治疗前请复查",
    ),
    "safety.lvef_overdue": (
        "LVEF last measured {date}: due every {days} days on anti-HER2 therapy",
        "LVEF最近测量于{date}：抗HER2治疗期间每{days}天复查",
    ),
    "safety.tdxd_lvef": (
        "LVEF {lvef} % (drop {drop} points): T-DXd interruption threshold",
        "LVEF {lvef}%（下降{drop}个百分点）：达到T-DXd暂停阈值",
    ),
    "safety.s2": (
        "LVEF {lvef} % (drop {drop} points): hold trastuzumab/pertuzumab",
        "LVEF {lvef}%（下降{drop}个百分点）：暂停曲妥珠单抗/帕妥珠单抗",
    ),
    "safety.s4": (
        "LVEF decline persists: consider stopping anti-HER2 antibody",
        "LVEF持续下降：考虑永久停用抗HER2抗体",
    ),
    "safety.lvef_low": (
        "LVEF {lvef} % below {min} %: anti-HER2 start not advised",
        "LVEF {lvef}%低于{min}%：不建议开始抗HER2治疗",
    ),
    "safety.lvef_low_on_therapy": (
        "LVEF {lvef} % on anti-HER2 therapy, below {min} %: review with cardiology",
        "抗HER2治疗中LVEF {lvef}%，低于{min}%：请与心内科评估",
    ),
    "safety.s3": (
        "LVEF recovered to {lvef} %: anti-HER2 antibody may resume",
        "LVEF恢复至{lvef}%：可恢复抗HER2抗体治疗",
    ),
    "safety.pregnant": (
        "Pregnancy on record: anti-HER2 therapy risks embryo-fetal harm",
        "病历记录妊娠：抗HER2治疗有胚胎-胎儿毒性风险",
    ),
    "safety.pregnancy_unknown": (
        "Pregnancy status not recorded: verify before starting",
        "未记录妊娠状态：开始治疗前请确认",
    ),
    "safety.ild_history": ("ILD/pneumonitis on record: T-DXd risk", "病历记录间质性肺病/肺炎：T-DXd风险"),
    "safety.ild_monitoring": ("T-DXd: monitor for interstitial lung disease", "T-DXd：监测间质性肺病"),
    "safety.diarrhoea": ("{drug}: plan diarrhoea prophylaxis", "{drug}：请安排腹泻预防"),
    # -- orders -------------------------------------------------------------------------------------
    "order.caution": ("{drug} for {her2}: {caution}", "{her2}使用{drug}：{caution}"),
    "order.fits": ("Fits consensus: {drug}, {title} · {level}", "符合共识：{drug}，{title}·{level}"),
    "order.combination": (
        "{drugs} ordered together: no consensus regimen combines them",
        "同时开具{drugs}：共识中无此联合方案",
    ),
    "order.combination.why": (
        "No recommendation row of the knowledge base has a regimen with all of these anti-HER2 drugs. "
        "Check that both are intended (a switch can leave the old drug's order open).",
        "知识库中没有同时包含这些抗HER2药物的推荐方案。请确认两者均为本意（换药时旧药医嘱可能未停止）。",
    ),
    "order.her2_unsettled": (
        "{drug} ordered, but {her2}: confirm HER2 first",
        "已开{drug}，但{her2}：请先明确HER2状态",
    ),
    "order.her2_unsettled.why": (
        "Anti-HER2 therapy rests on a HER2-positive result (IHC 3+, or IHC 2+ with ISH amplification; statement C3), "
        "or for T-DXd on HER2-low/ultralow. Settle the status before starting.",
        "抗HER2治疗基于HER2阳性（IHC 3+，或IHC 2+且ISH扩增；共识C3），T-DXd另可用于HER2低表达/超低表达。开始前请明确状态。",
    ),
    "order.her2_mismatch": ("{drug} ordered, but patient is {her2}", "已开{drug}，但患者为{her2}"),
    "order.her2_mismatch.why": (
        "This drug is recommended for HER2-positive disease only (IHC 3+, or IHC 2+ with ISH amplification; "
        "statement C3). The patient's latest HER2 status does not meet that.",
        "该药仅推荐用于HER2阳性（IHC 3+，或IHC 2+且ISH扩增；共识C3）。患者最近的HER2状态不符合。",
    ),
    "order.setting_unknown": (
        "{drug}: stage not recorded, consensus fit not checked",
        "{drug}：未记录分期，未核对共识适用性",
    ),
    "order.line_unknown": (
        "{drug}: line of therapy unknown, sequence not checked",
        "{drug}：治疗线数未知，未核对用药顺序",
    ),
    "order.her2_not_eligible": (
        "{drug} for {her2}: consensus criteria not met",
        "{her2}使用{drug}：未满足共识条件",
    ),
    "order.outside": (
        "{drug}: record outside the trial population of {title}",
        "{drug}：病历显示不在“{title}”的研究入组人群内",
    ),
    "order.not_fitting.why": (
        "Check the order: the consensus options with this drug need facts this record does not show (the options "
        "and the facts read are in the basis). Choose among this patient's recommendation cards, or record why "
        "this drug is given (trial, MDT decision).",
        "请核对该医嘱：含该药的共识方案所需条件在病历中未见（方案及所读取的患者信息见“依据”）。"
        "请从该患者的推荐卡片中选择，或记录用药理由（临床试验、MDT决定）。",
    ),
    "order.not_here": (
        "{drug}: not a consensus option at this point (line {line})",
        "{drug}：非该阶段共识推荐（第{line}线）",
    ),
    "order.not_matched": (
        "{drug}: the record does not meet the consensus criteria for it",
        "{drug}：病历不满足使用该药的共识条件",
    ),
    "order.needs_facts": (
        "{drug}: consensus fit unconfirmed; record lacks: {facts}",
        "{drug}：无法确认是否符合共识，病历缺少：{facts}",
    ),
    "order.no_row": ("{drug}: no consensus recommendation for this setting", "{drug}：该疾病阶段无相应共识推荐"),
    "order.unidentified": (
        "Ordered medication could not be identified: HER2 checks not applied",
        "无法识别所开药物：未执行HER2核查",
    ),
    "order.unidentified.why": (
        "The order names its drug only as `{reference}`, which could not be read ({reason}). If it is an "
        "anti-HER2 drug, check HER2 status yourself.",
        "医嘱仅以`{reference}`指代药物，且无法读取（{reason}）。如为抗HER2药物，请自行核对HER2状态。",
    ),
    "order.other_patient": ("Order for another patient: not checked", "该医嘱属于其他患者：未核查"),
    "order.other_patient.why": (
        "The order's subject is {subject}, not the patient of this hook call. Nothing was checked against "
        "this record; make sure the order is placed for the right patient.",
        "该医嘱的subject为{subject}，不是本次调用的患者。未按本病历核查；请确认医嘱开给了正确的患者。",
    ),
    "data.cards_cut": (
        "{count} more findings not shown: review the record and the orders directly",
        "另有{count}条提示未显示：请直接核查病历和医嘱",
    ),
    "data.truncated": (
        "Patient record only partly read: checks may miss results",
        "仅读取了部分病历：核查可能遗漏结果",
    ),
    "data.truncated.why": (
        "The record holds more pages or resources than the service reads for: {keys}. Results beyond the cap "
        "were not considered.",
        "病历的分页或资源数超出本服务读取上限：{keys}。超出部分未纳入核查。",
    ),
    "data.partial": (
        "Part of the record could not be read ({keys}): therapy history may be incomplete",
        "部分病历无法读取（{keys}）：治疗史可能不完整",
    ),
    "data.partial.why": (
        "The FHIR server did not return: {reasons}. Lines of therapy and trastuzumab sensitivity are counted "
        "from what could be read.",
        "FHIR服务器未返回：{reasons}。治疗线数和曲妥珠单抗敏感性仅依据已读取的数据计算。",
    ),
    "data.medications_unread": (
        "Drug not readable in {count} medication record(s): therapy history may be incomplete",
        "{count}条用药记录无法读取药物：治疗史可能不完整",
    ),
    "data.medications_unread.why": (
        "These records name their drug only by a reference to a Medication that was neither sent nor readable, "
        "and carry no drug name: {records}. Lines of therapy, trastuzumab sensitivity and duplicate checks are "
        "counted without them. Check the medication history, or send the Medications with the prefetch.",
        "以下记录仅以引用指向未随请求发送、也无法读取的Medication，且无药名：{records}。治疗线数、曲妥珠单抗"
        "敏感性和重复用药检查均未计入这些记录。请核对用药史，或在预取中一并发送Medication。",
    ),
    # -- biosimilars --------------------------------------------------------------------------------
    "bio.product": ("Product {product_name}: record brand and batch", "产品{product_name}：请记录商品名和批号"),
    "bio.brand_missing": (
        "{drug} ordered by ingredient: record the brand (biosimilar)",
        "{drug}按通用名开具：请记录商品名（生物类似药）",
    ),
    "bio.role.originator": ("originator (reference product)", "原研药（参照药）"),
    "bio.role.biosimilar": ("biosimilar of {reference}", "{reference}的生物类似药"),
    "bio.role.subcutaneous": ("subcutaneous form", "皮下注射剂型"),
    "bio.sc_form": ("{drug}: subcutaneous form; record the product", "{drug}：皮下注射剂型；请记录产品名"),
    "bio.approved": ("approved in {region} ({date})", "{region}已批准（{date}）"),
    "bio.not_approved": ("no {region} approval on record", "未见{region}批准记录"),
    # -- suggestions and overrides --------------------------------------------------------------------
    "suggest.order-ish": ("Order HER2 ISH on the same specimen", "对同一标本申请HER2 ISH检测"),
    "suggest.order-ihc": ("Order HER2 IHC (with reflex ISH)", "申请HER2 IHC检测（必要时反射ISH）"),
    "suggest.order-ihc-same-specimen": ("Order HER2 IHC on the ISH specimen", "对ISH同一标本申请HER2 IHC检测"),
    "suggest.order-echo": ("Order echocardiogram (LVEF)", "申请超声心动图（LVEF）"),
    "action.order-ish": ("HER2 ISH (FISH) on the tumour specimen", "肿瘤标本HER2 ISH（FISH）检测"),
    "action.order-ihc": ("HER2 immunohistochemistry on the tumour specimen", "肿瘤标本HER2免疫组化检测"),
    "action.order-ihc-same-specimen": (
        "HER2 immunohistochemistry on the specimen that had ISH (concurrent review)",
        "对已行ISH的同一标本进行HER2免疫组化检测（同期复核）",
    ),
    "action.order-echo": ("Echocardiogram to measure LVEF", "超声心动图测定LVEF"),
    "override.result-elsewhere": ("Result documented elsewhere", "结果已在别处记录"),
    "override.test-pending": ("Test already ordered", "检测已申请"),
    "override.mdt-reviewed": ("Reviewed by the MDT", "已经MDT讨论"),
    "override.biopsy-not-feasible": ("Biopsy of the new lesion not feasible", "新病灶无法活检"),
    "override.echo-elsewhere": ("LVEF measured elsewhere", "LVEF已在他处测量"),
    "override.echo-booked": ("Echocardiogram already booked", "超声心动图已预约"),
    "override.cardiology-reviewed": ("Reviewed with cardiology", "已与心内科讨论"),
    "override.pregnancy-excluded": ("Pregnancy excluded today", "今日已排除妊娠"),
    "override.benefit-outweighs-risk": ("Benefit outweighs risk (documented)", "获益大于风险（已记录）"),
    "override.ild-resolved-grade1": ("Grade 1 ILD resolved, per label", "1级ILD已缓解（按说明书）"),
    "override.trial-protocol": ("Given under a clinical trial protocol", "按临床试验方案用药"),
    "override.mdt-decision": ("MDT decision", "MDT决定"),
    "override.patient-specific": ("Patient-specific reason (documented)", "患者个体化原因（已记录）"),
    # -- issue 7 recommendation logic
    "fact.ypT": ("Post-neoadjuvant pathological T", "新辅助治疗后病理T分期"),
    "fact.ypN": ("Post-neoadjuvant pathological N", "新辅助治疗后病理N分期"),
    "gap.place.none": (
        "Stage not recorded: record cT/cN or the stage group; {why}",
        "未记录分期：请记录cT/cN或分期；{why}",
    ),
    "gap.place.missing": ("{facts} not recorded: record it; {why}", "未记录{facts}：请补充；{why}"),
    "gap.place.why.before-surgery": (
        "neoadjuvant vs upfront surgery depends on it",
        "新辅助治疗还是直接手术取决于此",
    ),
    "gap.place.why.after-neoadjuvant": (
        "T-DM1 for residual disease vs completing HP depends on it",
        "残留病灶用T-DM1还是完成HP取决于此",
    ),
    "gap.place.why.after-upfront-surgery": (
        "the adjuvant regimen (pN+, high-risk pN0, pT1 N0) depends on it",
        "辅助方案（pN+、高危pN0、pT1 N0）取决于此",
    ),
    "gap.place.why.phase": (
        "the treatment phase (before surgery, after neoadjuvant therapy, after upfront surgery) depends on it",
        "治疗阶段（术前、新辅助治疗后、直接手术后）取决于此",
    ),
    "rec.summary_running": ("Continue: {title} · {level}", "继续当前治疗：{title}·{level}"),
    "rec.running": (
        "Already running ({current}): continue it as planned; this is not a new regimen to start.",
        "正在进行（{current}）：按计划继续；并非需新开始的方案。",
    ),
    "rec.brain_first": (
        "Brain metastases newer than the current line: assess local therapy (surgery or SRS) and CNS-active "
        "options first.",
        "脑转移晚于当前治疗线出现：应首先评估局部治疗（手术或SRS）及可透过血脑屏障的方案。",
    ),
    "rec.outside_limit": (
        "Outside the population of the trial behind this option (see the checked criteria below): weigh it "
        "against the other options.",
        "患者不在支持该方案的研究入组人群内（见下方核对结果）：请与其他方案权衡。",
    ),
    "gap.plan_unmatched": (
        "HER2-positive, {phase}: no consensus treatment step fits this staging; decide at MDT",
        "HER2阳性，{phase}：该分期无相应共识治疗推荐；请MDT讨论决定",
    ),
    "gap.plan_unmatched.why": (
        "The staging on record is complete but no row of the knowledge base covers it (e.g. pT1mi pN0, "
        "microinvasion, outside the APT population). Check the staging, then decide with the MDT.",
        "病历中的分期完整，但知识库中没有覆盖该情况的条目（如pT1mi pN0微浸润，不在APT研究人群内）。"
        "请核对分期，并由MDT决定。",
    ),
    "rec.checked": ("Checked against the record", "已根据病历核对"),
    "rec.checked_line": ("{criterion}: **{verdict}**", "{criterion}：**{verdict}**（据病历）"),
    "rec.qualifier_met": ("met", "符合"),
    "rec.qualifier_not_met": ("not met", "不符合"),
    "fact.new_lesion": ("New lesion after the latest HER2 result", "最近HER2检测后出现的新病灶"),
    "fact.residual": ("Residual disease at surgery (surgical specimen)", "术后残留病灶（手术标本）"),
    "value.residual": ("residual invasive disease", "残留浸润性病灶"),
    "gap.retest_lesion": (
        "New lesion ({lesion}, {since}) after the latest HER2 ({date}): retest HER2 on it",
        "最近HER2检测（{date}）后出现新病灶（{lesion}，{since}）：建议对该病灶重新检测HER2",
    ),
    "gap.retest_residual": (
        "Residual disease at surgery ({date}); latest HER2 from {her2_date}: retest on the surgical specimen",
        "手术（{date}）见残留病灶；最近HER2结果为{her2_date}：建议对手术标本重新检测HER2",
    ),
    "gap.retest_residual.why": (
        "HER2 can change under neoadjuvant therapy; retest HER2 (and ER/PR) on the residual tumour in the "
        "surgical specimen (consensus statement C1). T-DM1 is still given for residual disease that retests "
        "HER2-negative (KATHERINE).",
        "HER2在新辅助治疗中可能改变；应对手术标本中的残留肿瘤重新检测HER2（及ER/PR）（共识C1）。"
        "残留病灶重检为HER2阴性者仍可使用T-DM1（KATHERINE）。",
    ),
    # -- issue 7 safety ------------------------------------------------------------------------------
    "identity.other_patient": (
        "{count} resources of another patient excluded from this check",
        "已排除{count}条属于其他患者的资源，未纳入本次核查",
    ),
    "identity.other_patient.why": (
        "Their subject or patient reference names a different patient from the one in context. They were "
        "not used for any card. Check the EHR's prefetch or FHIR search for this patient.",
        "这些资源的subject或patient引用指向的不是当前患者，未用于任何卡片。请检查EHR对该患者的预取或FHIR检索。",
    ),
    "identity.unconfirmed": (
        "{count} resources excluded: their patient could not be confirmed",
        "已排除{count}条资源：无法确认其所属患者",
    ),
    "identity.unconfirmed.why": (
        "They name their patient only by a logical identifier or a reference that cannot be resolved, or name "
        "none. Results that cannot be tied to this patient are not used.",
        "这些资源仅以逻辑标识符或无法解析的引用指代患者，或未注明患者。无法确认属于该患者的结果不予使用。",
    ),
    "identity.key": ("Prefetch key: resources excluded", "预取键：已排除资源数"),
    "shape.summary": (
        "Prefetch content not of the expected kind ({keys}): used, please check",
        "预取内容与预期不符（{keys}）：已使用，请核查",
    ),
    "shape.summary.why": (
        "The EHR sent something other than what these prefetch keys ask for. Resources of this patient were "
        "still read (each resource's patient is checked); nothing was dropped without saying so.",
        "EHR在这些预取键下发送的内容与模板要求不符。属于该患者的资源仍被读取（逐条核对所属患者），未静默丢弃任何内容。",
    ),
    "shape.type": ("Resources of another type under the key", "该键下含其他类型资源"),
    "shape.not-a-bundle": ("A single resource where a search Bundle belongs", "应为检索Bundle处为单个资源"),
    "shape.bundle-for-read": ("A Bundle where a single resource belongs", "应为单个资源处为Bundle"),
    "shape.bundle-type": ("Bundle type not searchset or collection", "Bundle类型不是searchset或collection"),
    "scope.other_primary": (
        "HER2 result in a non-breast cancer: this service covers breast cancer only",
        "非乳腺癌患者的HER2结果：本服务仅适用于乳腺癌",
    ),
    "scope.dcis": (
        "DCIS without invasive breast cancer on record: no anti-HER2 treatment card",
        "仅记录导管原位癌（DCIS），无浸润性乳腺癌：不提供抗HER2治疗建议",
    ),
    "scope.no_diagnosis": (
        "No invasive breast cancer diagnosis on record: treatment options not shown",
        "未记录浸润性乳腺癌诊断：不显示治疗方案",
    ),
    "scope.order_other_primary": (
        "{drug}: chart's cancer is not breast ({primary}); consensus fit not checked",
        "{drug}：病历所载肿瘤非乳腺癌（{primary}）；未核对共识适用性",
    ),
    "scope.order_dcis": (
        "{drug}: only DCIS on record; anti-HER2 therapy is for invasive disease",
        "{drug}：病历仅记录导管原位癌；抗HER2治疗适用于浸润性乳腺癌",
    ),
    "scope.order_no_diagnosis": (
        "{drug}: no invasive breast cancer diagnosis on record; fit not checked",
        "{drug}：未记录浸润性乳腺癌诊断；未核对共识适用性",
    ),
    "scope.other_primary.why": (
        "The diagnosis on record is {primary}. The 2025 consensus and this service's rules are for breast "
        "cancer: HER2 scoring and anti-HER2 regimens differ for other cancers. Safety checks still run.",
        "病历诊断为{primary}。2025共识及本服务规则仅适用于乳腺癌：其他肿瘤的HER2判读及抗HER2方案不同。安全性核查仍照常执行。",
    ),
    "scope.dcis.why": (
        "Anti-HER2 therapy is given for invasive HER2-positive breast cancer; DCIS alone is not an "
        "indication outside a trial. Record an invasive diagnosis if there is one. Safety checks still run.",
        "抗HER2治疗适用于HER2阳性浸润性乳腺癌；单纯导管原位癌在临床试验之外并非适应证。如有浸润性诊断请补录。安全性核查仍照常执行。",
    ),
    "scope.no_diagnosis.why": (
        "Treatment recommendations need an invasive breast cancer diagnosis (a Condition coded C50 or its "
        "SNOMED equivalent). Record the diagnosis to see them. Safety checks still run.",
        "治疗建议需要浸润性乳腺癌诊断（ICD-10 C50或相应SNOMED编码的Condition）。补录诊断后方可显示。安全性核查仍照常执行。",
    ),
    "scope.fact.other_primary": ("Primary cancer on record (not breast)", "病历所载原发肿瘤（非乳腺）"),
    "scope.fact.dcis": ("Breast carcinoma in situ", "乳腺原位癌"),
    "scope.fact.no_diagnosis": ("Invasive breast cancer diagnosis", "浸润性乳腺癌诊断"),
    "order.fits_contraindicated": (
        "CONTRAINDICATED now ({why}): {drug}; otherwise fits {title}",
        "目前禁用（{why}）：{drug}；否则符合{title}",
    ),
    "order.fits_not_advised": (
        "Not advised now ({why}): {drug}; otherwise fits {title}",
        "目前不建议（{why}）：{drug}；否则符合{title}",
    ),
    "contra.lvef_low": ("LVEF below the start threshold", "LVEF低于开始治疗阈值"),
    "contra.lvef_low.detail": (
        "**Not advised now: LVEF below the threshold to start.** Recheck LVEF and review with cardiology "
        "before the first dose (see the LVEF card).",
        "**目前不建议：LVEF低于开始治疗阈值。**首次用药前请复查LVEF并请心内科评估（见LVEF卡片）。",
    ),
    "contra.pregnancy": ("pregnancy", "妊娠"),
    "contra.ild": ("ILD/pneumonitis", "间质性肺病/肺炎"),
    "contra.lvef": ("LVEF at hold threshold", "LVEF达暂停阈值"),
    "contra.pregnancy.detail": (
        "**Contraindicated now: pregnancy on record.** Anti-HER2 antibodies and ADCs cause embryo-fetal harm "
        "(oligohydramnios); do not start while pregnant (see the pregnancy card).",
        "**目前禁用：病历记录妊娠。**抗HER2抗体及ADC有胚胎-胎儿毒性（羊水过少）；妊娠期间不应开始（见妊娠卡片）。",
    ),
    "contra.ild.detail": (
        "**Contraindicated now: ILD/pneumonitis on record.** T-DXd needs a documented pulmonary assessment and "
        "risk–benefit decision first (see the ILD card).",
        "**目前禁用：病历记录间质性肺病/肺炎。**使用T-DXd前需有肺部评估及获益-风险决策记录（见间质性肺病卡片）。",
    ),
    "contra.lvef.detail": (
        "**Contraindicated now: LVEF at the label's hold threshold.** Hold and recheck LVEF before giving the "
        "drug (see the LVEF card).",
        "**目前禁用：LVEF达到说明书暂停阈值。**请暂停并复查LVEF后再用药（见LVEF卡片）。",
    ),
    "rec.contra.pregnancy": (
        "**Not now: the patient is pregnant.** Anti-HER2 antibodies and ADCs cause embryo-fetal harm; this "
        "regimen cannot start during pregnancy (see the pregnancy card).",
        "**目前不可：患者妊娠。**抗HER2抗体及ADC有胚胎-胎儿毒性；妊娠期间不能开始该方案（见妊娠卡片）。",
    ),
    "rec.contra.ild": (
        "**Not now without pulmonary review: ILD/pneumonitis on record.** T-DXd in this regimen needs a "
        "baseline CT, pulmonary review and an explicit risk–benefit decision (see the S9/S6 card).",
        "**需先行肺部评估：病历记录间质性肺病/肺炎。**该方案中的T-DXd需基线CT、呼吸科评估及明确的获益-风险决策（见S9/S6卡片）。",
    ),
    "rec.contra.lvef": (
        "**Not now: LVEF below the threshold to start or at the hold threshold** (see the LVEF card).",
        "**目前不可：LVEF低于开始治疗阈值或达到暂停阈值**（见LVEF卡片）。",
    ),
    "safety.ild_before_first": (
        "ILD/pneumonitis history before first T-DXd: CT, pulmonary review, risk–benefit",
        "首次使用T-DXd前有间质性肺病/肺炎史：CT、呼吸科评估、获益-风险评估",
    ),
    "safety.ild_before_first.why": (
        "The DESTINY trials excluded patients with a history of non-infectious ILD/pneumonitis needing "
        "steroids, or with current or suspected ILD: there are no efficacy or safety data for them. Before a "
        "first dose: baseline high-resolution CT, pulmonary review, and a documented risk–benefit decision "
        "with the patient; if T-DXd is given, monitor closely.",
        "DESTINY系列试验排除了既往需激素治疗的非感染性间质性肺病/肺炎或现有/疑似间质性肺病患者，缺乏该人群的疗效及安全性数据。"
        "首次给药前：基线高分辨率CT、呼吸科评估，并与患者记录获益-风险决策；如使用T-DXd，须密切监测。",
    ),
    "order.duplicate": (
        "Duplicate {drugs}: {first} and {second} both deliver it",
        "{drugs}重复：{first}与{second}含相同成分",
    ),
    "order.duplicate.why": (
        "Two orders in this session deliver the same anti-HER2 ingredient ({drugs}): {first_ref} ({first}) "
        "and {second_ref} ({second}). Keep one product per ingredient unless a switch is intended; record "
        "which product the patient receives.",
        "本次医嘱中有两条含相同抗HER2成分（{drugs}）：{first_ref}（{first}）与{second_ref}（{second}）。"
        "除非有意换药，每种成分只保留一个产品；请记录患者实际使用的产品。",
    ),
    "order.duplicate_active": (
        "Duplicate {drugs}: new {first}, while {second} is active",
        "{drugs}重复：新开{first}，而{second}仍在使用",
    ),
    "order.duplicate_active.why": (
        "The new order {first_ref} ({first}) delivers {drugs}, which the active order {second_ref} ({second}) "
        "already gives. Stop or replace the active order if this is a switch.",
        "新医嘱{first_ref}（{first}）含{drugs}，而在用医嘱{second_ref}（{second}）已含该成分。如为换药，请停止或替换在用医嘱。",
    ),
    "order.medication_unreadable": (
        "An order's medication could not be read: HER2 and safety checks not applied",
        "无法读取医嘱中的药物：未执行HER2及安全性核查",
    ),
    "order.medication_unreadable.why": (
        "The order has no readable {field} (not a CodeableConcept or Reference). If it is an anti-HER2 drug, "
        "check pregnancy, LVEF and HER2 status yourself.",
        "该医嘱的{field}无法读取（既非CodeableConcept也非Reference）。如为抗HER2药物，请自行核对妊娠、LVEF及HER2状态。",
    ),
    "order.dstu2": (
        "{drug} order in DSTU2 format (MedicationOrder): read for drug and patient only",
        "{drug}医嘱为DSTU2格式（MedicationOrder）：仅读取药物和患者",
    ),
    "order.dstu2.why": (
        "The order was read as an R4 MedicationRequest: its medication and patient. Other fields were not "
        "read; the checks shown still apply.",
        "该医嘱按R4 MedicationRequest读取：仅读取药物及患者，其他字段未读取；所示核查仍然适用。",
    ),
    "order.code_unknown": (
        "Drug code not recognised ({codes}): read as {drug} from its name",
        "药品编码无法识别（{codes}）：按名称识别为{drug}",
    ),
    "order.code_unknown.why": (
        "None of the order's codes is in this service's drug mappings; the name {name} identifies {drug}. The "
        "product (originator, biosimilar, form) could not be confirmed. Patient-level safety checks were applied.",
        "医嘱中的编码均不在本服务的药品映射中；名称{name}识别为{drug}。无法确认具体产品（原研药、生物类似药或剂型）。已执行患者层面的安全性核查。",
    ),
    "order.invalid_partly": (
        "Anti-HER2 order malformed at {field}: only safety checks applied",
        "抗HER2医嘱{field}格式无效：仅执行安全性核查",
    ),
    "order.invalid_partly.why": (
        "The order's {field} is not valid FHIR, so what the order is (status, intent, patient) is uncertain. "
        "Pregnancy, ILD and LVEF were checked; the consensus fit was not. Correct the order and check again.",
        "该医嘱的{field}不符合FHIR格式，医嘱性质（状态、意图、患者）不确定。已核查妊娠、间质性肺病及LVEF，未核对共识适用性。请更正医嘱后重新核查。",
    ),
    "override.duplicate-intended": ("Both orders intended (documented)", "两条医嘱均为本意（已记录）"),
    "override.pulmonary-reviewed": ("Pulmonary review and risk–benefit documented", "已完成呼吸科评估并记录获益-风险"),
}


# Each language's templates, split out once: a card looks up some thirty phrases.
_BY_LANGUAGE: Mapping[str, Mapping[str, str]] = {
    "en": {key: en for key, (en, _) in PHRASES.items()},
    "zh-CN": {key: zh for key, (_, zh) in PHRASES.items()},
}


def phrases_in(language: str) -> Mapping[str, str]:
    """Key → template in `language` (English for any language but zh-CN, as `phrase` does)."""
    return _BY_LANGUAGE["zh-CN" if language == "zh-CN" else "en"]


def phrase(key: str, language: str, **args: str) -> str:
    en, zh = PHRASES[key]
    template = zh if language == "zh-CN" else en
    return template.format(**args) if args else template
