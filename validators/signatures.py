"""Incoming signatures as findings: a broken, modified or unreadable signature of the supplier is a
warning that sends the document to review; a signer we cannot trust (no trust list) is only reported."""

from __future__ import annotations

from collections.abc import Iterable

from signing.incoming import SignatureReport, Verdict
from validators.report import Finding, Severity

CHECK = "signatures"  # the name in a report's ``checked``, when the PDF carries signatures
INTACT = "SIG-INTACT"  # the signed bytes or the signature value do not match
TIMESTAMP = "SIG-TIMESTAMP"  # the signature's timestamp token does not match
MODIFIED = "SIG-MODIFIED"  # changed after signing beyond form filling, or against its DocMDP
UNREADABLE = "SIG-UNREADABLE"  # the signature dictionary or its CMS cannot be read
RULES = frozenset({INTACT, TIMESTAMP, MODIFIED, UNREADABLE})  # each one sends the document to review
CHANGES = {  # pyHanko's modification levels beyond form filling, as a French reader says them
    "annotations": "annotations ajoutées",
    "other": "contenu ou structure du document",
}


def signature_findings(reports: Iterable[SignatureReport]) -> list[Finding]:
    """One warning per signature that is not intact; none for an intact one, trusted or not."""
    return [f for f in map(_finding, reports) if f is not None]


def _finding(r: SignatureReport) -> Finding | None:
    name = f"« {r.field} »" if r.field else "du formulaire"
    where = f"signature {r.field}" if r.field else "signature"
    if r.verdict is Verdict.UNREADABLE:
        message = f"La signature {name} est illisible : elle n'a pas pu être vérifiée"
        return Finding(UNREADABLE, Severity.WARNING, message, where)
    if r.verdict is Verdict.BROKEN and r.intact and r.valid:
        message = f"L'horodatage de la signature {name} est invalide : la date de signature n'est pas prouvée"
        return Finding(TIMESTAMP, Severity.WARNING, message, where)
    if r.verdict is Verdict.BROKEN:
        message = (
            f"La signature {name} est rompue : le document a été altéré après sa signature "
            "(l'empreinte signée ne correspond plus)"
        )
        return Finding(INTACT, Severity.WARNING, message, where)
    if r.verdict is Verdict.MODIFIED:
        message = (
            f"Le document a été modifié après la signature {name} au-delà de ce qu'elle autorise "
            f"(modifications : {CHANGES.get(r.modification_level or '', 'inconnues')})"
        )
        return Finding(MODIFIED, Severity.WARNING, message, where)
    return None
