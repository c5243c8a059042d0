"""The `when` conditions of a knowledge row in plain words, for the committee's report (en or zh-CN).

Every field of `When` has a phrase here: a field added to the model without one makes `describe` raise and
a unit test fail, so the report never drops a condition silently. Pairs that bound one quantity (line
min/max, age) read as one phrase."""

from collections.abc import Callable, Sequence

from .models import When

__all__ = ["COVERED_FIELDS", "describe", "sentence"]

DrugName = Callable[[str], str]  # drug id (mappings/) -> its name in the report language
Render = Callable[[When, bool, DrugName], str]  # (conditions, Chinese?, drug names) -> phrase

_HER2 = {
    "positive": ("positive", "阳性"),
    "low": ("low", "低表达"),
    "ultralow": ("ultralow", "超低表达"),
    "zero": ("IHC 0, ultralow not stated", "IHC 0（未注明是否超低表达）"),
    "null": ("0 (no staining)", "零表达（完全无着色）"),
    "negative": ("negative without IHC score", "阴性（无IHC评分）"),
    "equivocal": ("equivocal", "结果不确定"),
    "unknown": ("unknown", "未知"),
    "conflicting": ("conflicting", "结果矛盾"),
}
_SETTING = {
    "early": ("early", "早期"),
    "locally-advanced": ("locally advanced", "局部晚期"),
    "metastatic": ("metastatic", "晚期（转移性）"),
}
_PHASE = {
    "before-surgery": ("before surgery", "术前"),
    "after-neoadjuvant": ("at surgery after neoadjuvant therapy", "新辅助治疗后手术时"),
    "after-upfront-surgery": ("after upfront surgery", "直接手术后"),
}
_ORDINAL_EN = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
_ORDINAL_ZH = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}


def _or(items: Sequence[str], zh: bool) -> str:
    return "或".join(items) if zh else " or ".join(items)


def _pick(table: dict[str, tuple[str, str]], values: Sequence[str], zh: bool) -> list[str]:
    return [table[v][1] if zh else table[v][0] for v in values]


def _flag(value: bool | None, yes: tuple[str, str], no: tuple[str, str], zh: bool) -> str:
    return (yes if value else no)[1 if zh else 0]


def _her2(values: str, zh: bool) -> str:
    return "HER2" + ("" if zh and not values[:1].isascii() else " ") + values


def _n_lines(n: int | None) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def _line(n: int, zh: bool) -> str:
    if zh:
        return f"{_ORDINAL_ZH.get(n, str(n))}线"
    return f"{_ORDINAL_EN[n]} line" if n in _ORDINAL_EN else f"line {n}"


def _lines(w: When, zh: bool, _: DrugName) -> str:
    low, high = w.metastatic_line_min, w.metastatic_line_max
    if low is not None and high is not None:
        if low == high:
            return _line(low, zh)
        return f"{_line(low, zh)}至{_line(high, zh)}" if zh else f"{_line(low, zh)} to {_line(high, zh)}"
    if low is not None:
        return f"{_line(low, zh)}及以后" if zh else f"{_line(low, zh)} or later"
    assert high is not None
    if high == 1:
        return _line(1, zh)
    return f"不超过{_line(high, zh)}" if zh else f"{_line(high, zh)} at most"


def _count(low: int | None, high: int | None, what: tuple[str, str], zh: bool) -> str:
    """Lines of chemotherapy or endocrine therapy given for metastatic disease, within [low, high]."""
    noun = what[1] if zh else what[0]
    if high == 0:
        return f"转移阶段未接受{noun}" if zh else f"no {noun} for metastatic disease"
    if low is not None and high is not None:
        return f"转移阶段{noun}{low}–{high}线" if zh else f"{low}–{high} lines of {noun} for metastatic disease"
    if low is not None:
        return f"转移阶段{noun}至少{low}线" if zh else f"at least {_n_lines(low)} of {noun} for metastatic disease"
    return f"转移阶段{noun}至多{high}线" if zh else f"at most {_n_lines(high)} of {noun} for metastatic disease"


def _age(w: When, zh: bool, _: DrugName) -> str:
    older, at_most = w.age_over, w.age_at_most
    if older is not None and at_most is not None:
        return f"年龄 {older + 1}–{at_most} 岁" if zh else f"aged {older + 1} to {at_most}"
    if older is not None:
        return f"年龄大于 {older} 岁" if zh else f"older than {older}"
    return f"年龄不超过 {at_most} 岁" if zh else f"aged {at_most} or younger"


def _drugs(ids: Sequence[str] | None, name: DrugName, zh: bool) -> str:
    return _or([name(i) for i in ids or ()], zh)


def _any_of(w: When, zh: bool, name: DrugName) -> str:
    parts = [sentence(sub, "zh-CN" if zh else "en", name, joiner="，" if zh else ", ") for sub in w.any_of or ()]
    numbered = [f"({i}) {part}" for i, part in enumerate(parts, 1)]
    return "满足以下任一项：" + "；".join(numbered) if zh else "any one of: " + "; ".join(numbered)


# Field name(s) -> phrase. Keys are tuples so that a pair of bounds renders as one phrase.
_RENDER: dict[tuple[str, ...], Render] = {
    ("her2",): lambda w, zh, _: _her2(_or(_pick(_HER2, w.her2 or [], zh), zh), zh),
    ("hr",): lambda w, zh, _: (
        ("激素受体" if zh else "hormone receptor ")
        + _or(
            [("阳性" if zh else "positive") if v == "positive" else ("阴性" if zh else "negative") for v in w.hr or []],
            zh,
        )
    ),
    ("setting",): lambda w, zh, _: _or(_pick(_SETTING, w.setting or [], zh), zh),
    ("early_phase",): lambda w, zh, _: _or(_pick(_PHASE, w.early_phase or [], zh), zh),
    ("pcr",): lambda w, zh, _: _flag(
        w.pcr,
        ("pathologic complete response (ypT0/is ypN0)", "病理完全缓解（ypT0/is ypN0）"),
        ("residual invasive disease after neoadjuvant therapy (no pCR)", "新辅助治疗后有浸润性残留病灶（未达pCR）"),
        zh,
    ),
    ("clinical_t",): lambda w, zh, _: _or([f"c{t}" for t in w.clinical_t or []], zh),
    ("clinical_n_positive",): lambda w, zh, _: _flag(
        w.clinical_n_positive,
        ("clinically node-positive (cN1 or higher)", "临床淋巴结阳性（cN1及以上）"),
        ("clinically node-negative (cN0)", "临床淋巴结阴性（cN0）"),
        zh,
    ),
    ("clinical_n_at_least",): lambda w, zh, _: (
        f"cN{w.clinical_n_at_least}及以上" if zh else f"cN{w.clinical_n_at_least} or higher"
    ),
    ("pathologic_t",): lambda w, zh, _: _or([f"p{t}" for t in w.pathologic_t or []], zh),
    ("pathologic_n_positive",): lambda w, zh, _: _flag(
        w.pathologic_n_positive,
        ("pathologically node-positive (pN1 or higher)", "病理淋巴结阳性（pN1及以上）"),
        ("pathologically node-negative (pN0)", "病理淋巴结阴性（pN0）"),
        zh,
    ),
    ("post_neoadjuvant_n_positive",): lambda w, zh, _: _flag(
        w.post_neoadjuvant_n_positive,
        ("nodes positive after neoadjuvant therapy (ypN1 or higher)", "新辅助治疗后淋巴结阳性（ypN1及以上）"),
        ("nodes negative after neoadjuvant therapy (ypN0)", "新辅助治疗后淋巴结阴性（ypN0）"),
        zh,
    ),
    ("metastatic_line_min", "metastatic_line_max"): _lines,
    ("trastuzumab",): lambda w, zh, _: _or(
        [
            ("曲妥珠单抗敏感" if zh else "trastuzumab-sensitive")
            if v == "sensitive"
            else ("曲妥珠单抗耐药" if zh else "trastuzumab-resistant")
            for v in w.trastuzumab or []
        ],
        zh,
    ),
    ("brain_metastases",): lambda w, zh, _: _flag(
        w.brain_metastases, ("brain metastases", "脑转移"), ("no brain metastases", "无脑转移"), zh
    ),
    ("received_any",): lambda w, zh, name: (
        f"曾用过{_drugs(w.received_any, name, zh)}（含正在使用）"
        if zh
        else f"has received {_drugs(w.received_any, name, zh)} (ever, current included)"
    ),
    ("received_metastatic_any",): lambda w, zh, name: (
        f"转移阶段用过{_drugs(w.received_metastatic_any, name, zh)}"
        if zh
        else f"has received {_drugs(w.received_metastatic_any, name, zh)} for metastatic disease"
    ),
    ("on_any",): lambda w, zh, name: (
        f"正在使用{_drugs(w.on_any, name, zh)}" if zh else f"currently receiving {_drugs(w.on_any, name, zh)}"
    ),
    ("chemo_lines_metastatic_min", "chemo_lines_metastatic_max"): lambda w, zh, _: _count(
        w.chemo_lines_metastatic_min, w.chemo_lines_metastatic_max, ("chemotherapy", "化疗"), zh
    ),
    ("endocrine_lines_metastatic_min",): lambda w, zh, _: _count(
        w.endocrine_lines_metastatic_min, None, ("endocrine therapy", "内分泌治疗"), zh
    ),
    ("age_over", "age_at_most"): _age,
    ("stage_group_without_ctn",): lambda w, zh, _: (
        f"分期为{_or(list(w.stage_group_without_ctn or []), zh)}期（且无cT、cN记录）"
        if zh
        else f"stage group {_or(list(w.stage_group_without_ctn or []), zh)} with neither cT nor cN recorded"
    ),
    ("any_of",): _any_of,
}

COVERED_FIELDS = frozenset(name for fields in _RENDER for name in fields)


def describe(when: When, language: str, drug_name: DrugName) -> list[str]:
    """One phrase per condition that is set, in the order of the model's fields."""
    unexplained = sorted(f for f in when.model_fields_set if getattr(when, f) is not None and f not in COVERED_FIELDS)
    if unexplained:
        raise ValueError(f"no phrase for condition field(s): {', '.join(unexplained)}")
    zh = language == "zh-CN"
    return [
        render(when, zh, drug_name)
        for fields, render in _RENDER.items()
        if any(getattr(when, name) is not None for name in fields)
    ]


def sentence(when: When, language: str, drug_name: DrugName, joiner: str | None = None) -> str:
    """The conditions joined: 'HER2 positive; metastatic; first line; trastuzumab-sensitive'."""
    phrases = describe(when, language, drug_name)
    if not phrases:
        return "无条件" if language == "zh-CN" else "no conditions"
    return (joiner or ("；" if language == "zh-CN" else "; ")).join(phrases)
