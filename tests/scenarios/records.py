"""Small patient records, one per clinical situation, built from tests/utils/clinical.py.

Dates are relative to today. Metastatic records date the metastasis before the HER2 result on purpose
(unless a scenario is about an old HER2 result), so that the retest warning (T11) stays out of the way."""

from tests.utils import clinical as c

from .helpers import Resource

ago = c.ago


def her2_positive(*, when: str | None = None) -> list[Resource]:
    return [c.breast_cancer(), c.her2_ihc("3+", when=when)]


# -- early disease ---------------------------------------------------------------------------------
def early_before_surgery(t: str = "cT2", n: str = "cN0", *, stage: str = "IIA", hr: bool = False) -> list[Resource]:
    """HER2-positive early breast cancer, staged clinically, not yet operated on."""
    return [*her2_positive(), c.stage(stage), c.tnm(t), c.tnm(n), *c.hormone_receptors(hr)]


def after_neoadjuvant(yp_t: str, yp_n: str, *, cn: str = "cN0", given: bool = True) -> list[Resource]:
    """HER2-positive, cT2, neoadjuvant trastuzumab + pertuzumab (if `given`), then surgery with ypT/ypN."""
    record = [
        *her2_positive(when=ago(months=8)),
        c.stage("IIA" if cn == "cN0" else "IIB", when=ago(months=8)),
        c.tnm("cT2", when=ago(months=8)),
        c.tnm(cn, when=ago(months=8)),
        c.tnm(yp_t, when=ago(days=20)),
        c.tnm(yp_n, when=ago(days=20)),
        *c.hormone_receptors(False),
    ]
    if given:
        record += [
            c.given("trastuzumab", start=ago(months=7), end=ago(months=3)),
            c.given("pertuzumab", start=ago(months=7), end=ago(months=3)),
            c.given("docetaxel", start=ago(months=7), end=ago(months=3)),
        ]
    return record


def after_upfront_surgery(pt: str, pn: str, *, stage: str = "IIA", hr: bool = False) -> list[Resource]:
    """HER2-positive, operated first: pathological T and N on file, no neoadjuvant therapy."""
    return [
        *her2_positive(),
        c.stage(stage, pathologic=True),
        c.tnm(pt, when=ago(days=20)),
        c.tnm(pn, when=ago(days=20)),
        *c.hormone_receptors(hr),
    ]


def adjuvant_trastuzumab_hr_positive() -> list[Resource]:
    """HR+ HER2+ after upfront surgery, one year of adjuvant trastuzumab completed."""
    return [
        *after_upfront_surgery("pT2", "pN1", stage="IIB", hr=True),
        c.given("trastuzumab", start=ago(months=13), end=ago(days=20)),
    ]


# -- metastatic disease ----------------------------------------------------------------------------
def de_novo_metastatic(*, hr: bool = False, site: str = "liver") -> list[Resource]:
    """HER2-positive, metastatic at diagnosis, no anti-HER2 therapy yet: first line, trastuzumab-sensitive."""
    return [
        c.breast_cancer(onset=ago(months=3)),
        c.metastasis(site, onset=ago(months=3)),
        c.her2_ihc("3+", when=ago(months=2)),
        *c.hormone_receptors(hr),
    ]


def metastatic_after_first_line(*, hr: bool = False) -> list[Resource]:
    """HER2-positive metastatic, first-line THP given (still on trastuzumab + pertuzumab): next is second line."""
    return [
        c.breast_cancer(onset=ago(months=15)),
        c.metastasis("liver", onset=ago(months=14)),
        c.her2_ihc("3+", when=ago(months=13, days=-5)),
        *c.hormone_receptors(hr),
        c.given("docetaxel", start=ago(months=13), end=ago(months=9)),
        c.given("trastuzumab", start=ago(months=13), status="active"),
        c.given("pertuzumab", start=ago(months=13), status="active"),
        c.lvef(62, when=ago(months=13, days=5)),
        c.lvef(60, when=ago(days=30)),
    ]


def metastatic_after_two_lines() -> list[Resource]:
    """HER2-positive metastatic after THP and then T-DXd: next is third line."""
    return [
        c.breast_cancer(onset=ago(months=31)),
        c.metastasis("liver", onset=ago(months=30)),
        c.her2_ihc("3+", when=ago(months=29, days=-5)),
        *c.hormone_receptors(False),
        c.given("docetaxel", start=ago(months=29), end=ago(months=25)),
        c.given("trastuzumab", start=ago(months=29), end=ago(months=17)),
        c.given("pertuzumab", start=ago(months=29), end=ago(months=17)),
        c.given("trastuzumab-deruxtecan", start=ago(months=16), end=ago(days=20)),
    ]


def early_relapse_after_adjuvant_trastuzumab() -> list[Resource]:
    """Metastatic relapse 5 months after adjuvant trastuzumab ended: trastuzumab-resistant, no metastatic line yet."""
    return [
        c.breast_cancer(onset=ago(months=24)),
        c.metastasis("lung", onset=ago(months=3)),
        c.her2_ihc("3+", when=ago(months=2)),
        *c.hormone_receptors(False),
        c.given("trastuzumab", start=ago(months=20), end=ago(months=8)),
    ]


def late_relapse_after_adjuvant_trastuzumab() -> list[Resource]:
    """Metastatic relapse 30 months after adjuvant trastuzumab ended: trastuzumab-sensitive, first line."""
    return [
        c.breast_cancer(onset=ago(months=48)),
        c.metastasis("bone", onset=ago(months=3)),
        c.her2_ihc("3+", when=ago(months=2)),
        *c.hormone_receptors(False),
        c.given("trastuzumab", start=ago(months=45), end=ago(months=33)),
    ]


def her2_low_metastatic(*, hr: bool, chemo: bool = False, endocrine: bool = False, ihc: str = "1+") -> list[Resource]:
    """HER2-low (IHC 1+) metastatic disease, with chemotherapy and/or endocrine therapy for metastases if asked."""
    record = [
        c.breast_cancer(onset=ago(months=10)),
        c.metastasis("liver", onset=ago(months=9)),
        c.her2_ihc(ihc, when=ago(months=8)),
        *c.hormone_receptors(hr),
    ]
    if chemo:
        record.append(c.given("paclitaxel", start=ago(months=8), end=ago(months=3)))
    if endocrine:
        record.append(c.given("letrozole", start=ago(months=8), end=ago(days=20)))
    return record


def ultralow_metastatic_after_endocrine() -> list[Resource]:
    """HR+ HER2-ultralow (IHC 0 with faint staining) metastatic disease after letrozole, no chemotherapy."""
    return [
        c.breast_cancer(onset=ago(months=10)),
        c.metastasis("bone", onset=ago(months=9)),
        c.her2_ihc_text("HER2-ultralow", when=ago(months=8)),
        *c.hormone_receptors(True),
        c.given("letrozole", start=ago(months=8), end=ago(days=20)),
    ]


def her2_low_early() -> list[Resource]:
    return [c.breast_cancer(), c.her2_ihc("1+"), c.stage("IIA"), c.tnm("cT2"), c.tnm("cN0"), *c.hormone_receptors(True)]


def her2_zero(*, metastatic: bool = False, hr: bool = False, score: str = "null") -> list[Resource]:
    """HER2-0 reported as no staining ("0 (null)"); score="0" gives a plain IHC 0, silent on ultralow."""
    if metastatic:
        return [
            c.breast_cancer(onset=ago(months=4)),
            c.metastasis("liver", onset=ago(months=3)),
            c.her2_ihc(score, when=ago(months=2)),
            *c.hormone_receptors(hr),
        ]
    return [c.breast_cancer(), c.her2_ihc(score), c.stage("IIA"), c.tnm("cT2"), c.tnm("cN0"), *c.hormone_receptors(hr)]


# -- on anti-HER2 therapy, for the safety rows -----------------------------------------------------
def on_trastuzumab(*lvef: tuple[float, int]) -> list[Resource]:
    """HER2+ early disease on adjuvant trastuzumab started 4 months ago; LVEF readings as (percent, days ago)."""
    return [
        *after_upfront_surgery("pT2", "pN1", stage="IIB"),
        c.given("trastuzumab", start=ago(months=4), status="active"),
        *(c.lvef(percent, when=ago(days=days)) for percent, days in lvef),
    ]


def on_tdxd(*lvef: tuple[float, int]) -> list[Resource]:
    """HER2+ metastatic disease on second-line T-DXd started 3 months ago; LVEF readings as (percent, days ago)."""
    return [
        c.breast_cancer(onset=ago(months=20)),
        c.metastasis("liver", onset=ago(months=19)),
        c.her2_ihc("3+", when=ago(months=18)),
        *c.hormone_receptors(False),
        c.given("trastuzumab", start=ago(months=18), end=ago(months=4)),
        c.given("pertuzumab", start=ago(months=18), end=ago(months=4)),
        c.given("trastuzumab-deruxtecan", start=ago(months=3), status="active"),
        *(c.lvef(percent, when=ago(days=days)) for percent, days in lvef),
    ]
