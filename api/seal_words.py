"""A kept seal's status in words (fr/en) for the pages that show a document: « Scellé : intact · approuvé ·
horodaté · validation à long terme complète », or what fails, or « non vérifié » when the check could not
run (never OK for what did not run). Shown as text, so it never rests on colour alone."""

from __future__ import annotations

from dataclasses import dataclass

from api import i18n
from signing.seal_status import BottomLine, SealReport, Verdict

LABEL = ("Scellé", "Sealed")

PARTS: dict[tuple[str, Verdict], tuple[str, str]] = {
    ("intact", Verdict.YES): ("intact", "intact"),
    ("intact", Verdict.NO): ("altéré", "not intact"),
    ("intact", Verdict.NOT_CHECKED): ("non vérifié", "not verified"),
    ("trusted", Verdict.YES): ("approuvé", "trusted"),
    ("trusted", Verdict.NO): ("non approuvé", "not trusted"),
    ("trusted", Verdict.NOT_CHECKED): ("confiance non vérifiée", "trust not verified"),
    ("timestamped", Verdict.YES): ("horodaté", "timestamped"),
    ("timestamped", Verdict.NO): ("non horodaté", "not timestamped"),
    ("timestamped", Verdict.NOT_CHECKED): ("horodatage non vérifié", "timestamp not verified"),
    ("ltv", Verdict.YES): ("validation à long terme complète", "long-term validation complete"),
    ("ltv", Verdict.NO): ("validation à long terme incomplète", "long-term validation incomplete"),
    ("ltv", Verdict.NOT_CHECKED): (
        "validation à long terme non vérifiée",
        "long-term validation not verified",
    ),
    ("ltv", Verdict.NOT_APPLICABLE): (
        "validation à long terme sans objet (XML : preuve par le scellement quotidien)",
        "long-term validation not applicable (XML: proven by the day seal)",
    ),
}

BOTTOM: dict[BottomLine, tuple[str, str]] = {
    BottomLine.LTV_COMPLETE: ("validation à long terme complète", "LTV-complete"),
    BottomLine.TIMESTAMPED: ("horodaté", "timestamped"),
    BottomLine.TRUSTED: ("approuvé", "trusted"),
    BottomLine.INTACT: ("intact seulement", "intact only"),
    BottomLine.NOT_INTACT: ("altéré", "not intact"),
    BottomLine.NOT_VERIFIED: ("non vérifié", "not verified"),
}

# What failed (problems) and why a rung is not reached or not checked (notes).
REASONS: dict[str, tuple[str, str]] = {
    "no_signature": ("la copie scellée ne porte aucune signature", "the sealed copy carries no signature"),
    "signature_invalid": (
        "signature invalide : l'empreinte ne correspond plus au contenu scellé",
        "invalid signature: the digest no longer matches the sealed content",
    ),
    "signature_unreadable": ("signature illisible", "unreadable signature"),
    "changed_after_seal": ("le PDF a été modifié après le cachet", "the PDF was changed after the seal"),
    "signer_untrusted": (
        "le certificat du cachet ne remonte à aucune racine de confiance configurée",
        "the seal certificate chains to none of the configured trust roots",
    ),
    "timestamp_invalid": ("horodatage invalide", "invalid timestamp"),
    "timestamp_untrusted": (
        "l'autorité d'horodatage ne remonte à aucune racine de confiance configurée",
        "the time-stamping authority chains to none of the configured trust roots",
    ),
    "document_timestamp_invalid": ("horodatage de document invalide", "invalid document timestamp"),
    "seal_missing": ("copie scellée absente", "sealed copy missing"),
    "missing": ("copie scellée absente de l'archive", "sealed copy missing from the archive"),
    "original_missing": ("fichier reçu absent du dossier", "file received missing from the record"),
    "no_timestamp": ("aucun horodatage", "no timestamp"),
    "no_dss": (
        "aucune donnée de validation (DSS) dans le PDF",
        "no validation data (DSS) in the PDF",
    ),
    "ltv_incomplete": (
        "les données de validation du PDF ne suffisent pas, sans rien chercher en ligne",
        "the PDF's validation data do not suffice without fetching anything",
    ),
    "ltv_not_checked": ("validation à long terme impossible", "long-term validation could not run"),
    "no_trust_roots": ("aucune racine de confiance configurée", "no trust roots configured"),
    "trust_roots_unreadable": (
        "racines de confiance illisibles (DEMATFLOW_SEAL_TRUST_ROOTS)",
        "trust roots unreadable (DEMATFLOW_SEAL_TRUST_ROOTS)",
    ),
    "archive_unavailable": ("l'archive ne répond pas", "the archive does not answer"),
    "tool_unavailable": ("outil de validation indisponible", "validation tool unavailable"),
}


@dataclass(frozen=True)
class SealView:
    """``state``: ok, partial (intact and trusted, a rung missing), failed or not_checked."""

    label: str
    text: str
    state: str
    problems: tuple[str, ...]
    notes: tuple[str, ...]


def view(lang: str, report: SealReport | None) -> SealView:
    label = i18n.pick(lang, *LABEL)
    if report is None:
        none = i18n.pick(lang, "non, document sans cachet", "no, no seal")
        return SealView(label, none, "not_checked", (), ())
    problems = tuple(reason(lang, c) for c in report.problems)
    notes = tuple(reason(lang, c) for c in report.notes)
    if report.intact is Verdict.NOT_CHECKED:
        return SealView(label, i18n.pick(lang, "non vérifié", "not verified"), "not_checked", problems, notes)
    if report.intact is Verdict.NO:
        return SealView(label, i18n.pick(lang, *PARTS[("intact", Verdict.NO)]), "failed", problems, notes)
    text = " · ".join(i18n.pick(lang, *PARTS[part]) for part in report.parts)
    if not report.ok:
        state = "failed" if report.problems else "not_checked"
    else:
        state = "ok" if report.bottom_line in (BottomLine.LTV_COMPLETE, BottomLine.TIMESTAMPED) else "partial"
    return SealView(label, text, state, problems, notes)


def reason(lang: str, code: str) -> str:
    return i18n.pick(lang, *REASONS.get(code, (code, code)))


def bottom(lang: str, line: BottomLine) -> str:
    return i18n.pick(lang, *BOTTOM[line])
