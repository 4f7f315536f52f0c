"""The review screen's words (fr/en), its confidence bands, and the reasons an agent may pick."""

from __future__ import annotations

from collections.abc import Callable

from api import i18n
from api.portal_words import FIELDS

LOW, HIGH = 0.5, 0.8  # confidence bands: below LOW "faible", below HIGH "à vérifier", else "bonne"
# The allowed codes of 210 (BR-FR-CDV-CL-09), in the order an agent meets them most.
REFUSE_REASONS = (
    "TX_TVA_ERR",
    "MONTANTTOTAL_ERR",
    "CALCUL_ERR",
    "NON_CONFORME",
    "DOUBLON",
    "DEST_ERR",
    "TRANSAC_INC",
    "EMMET_INC",
    "CONTRAT_TERM",
    "DOUBLE_FACT",
    "CMD_ERR",
    "ADR_ERR",
    "REF_CT_ABSENT",
)
SUSPEND_REASON = "JUSTIF_ABS"
DECIDERS = frozenset({"agent", "admin"})
READERS = frozenset({"agent", "admin", "auditor"})

MESSAGES: dict[str, tuple[str, str]] = {
    "nav.review": ("File de revue", "Review queue"),
    "queue.title": ("File de revue", "Review queue"),
    "queue.intro": (
        "Les documents dont un champ ou une règle demande l'œil d'une personne.",
        "Documents with a field or rule that needs a person's eye.",
    ),
    "queue.sort": ("Trier par", "Sort by"),
    "queue.sort.age": ("Ancienneté", "Age"),
    "queue.sort.confidence": ("Confiance la plus basse", "Lowest confidence"),
    "queue.supplier": ("Fournisseur (SIREN ou nom)", "Supplier (SIREN or name)"),
    "queue.class": ("Classe", "Class"),
    "queue.reason": ("Motif", "Reason"),
    "queue.all": ("Toutes", "All"),
    "queue.filter": ("Appliquer", "Apply"),
    "queue.caption": ("Documents à revoir", "Documents to review"),
    "queue.file": ("Fichier", "File"),
    "queue.received": ("Reçu le", "Received on"),
    "queue.confidence": ("Confiance min.", "Min. confidence"),
    "queue.lock": ("Verrou", "Lock"),
    "queue.free": ("Libre", "Free"),
    "queue.held": ("Détenu par {name}", "Held by {name}"),
    "queue.empty": ("La file est vide : rien à revoir.", "The queue is empty: nothing to review."),
    "queue.next": ("Page suivante", "Next page"),
    "queue.first": ("Revenir au début", "Back to the start"),
    "queue.start": ("Commencer la revue", "Start reviewing"),
    "review.title": ("Revue de {name}", "Review of {name}"),
    "review.back": ("Retour à la file", "Back to the queue"),
    "review.page": ("Page {n} sur {total}", "Page {n} of {total}"),
    "review.pages": ("Pages du document", "Pages of the document"),
    "review.thumb": ("Aller à la page {n}", "Go to page {n}"),
    "review.image": (
        "Image de la page {n}. Son texte lu est listé sous l'image.",
        "Image of page {n}. The text read is listed below the image.",
    ),
    "review.words": ("Texte lu sur la page", "Text read on the page"),
    "review.words.hint": (
        "Choisir un mot remplit le champ actif ; glisser sur l'image lit la zone tracée.",
        "Choosing a word fills the active field; dragging on the image reads the area drawn.",
    ),
    "review.nowords": ("Aucun mot lu sur cette page.", "No words read on this page."),
    "review.fields": ("Champs lus", "Fields read"),
    "review.confidence": ("Confiance : {pct} % ({band})", "Confidence: {pct}% ({band})"),
    "band.low": ("faible", "low"),
    "band.mid": ("à vérifier", "to check"),
    "band.high": ("bonne", "good"),
    "band.none": ("inconnue", "unknown"),
    "review.rules": ("Règles non respectées", "Rules failed"),
    "review.candidates": ("Autres lectures", "Other readings"),
    "review.use": ("Utiliser « {value} »", "Use “{value}”"),
    "review.totals": ("Contrôle HT + TVA = TTC", "Check excl. VAT + VAT = total"),
    "review.legend": ("Légende des cadres", "Box legend"),
    "review.legend.text": (
        "Trait plein : confiance bonne ; tirets : à vérifier ; pointillés serrés : faible.",
        "Solid line: good confidence; dashes: to check; tight dots: low.",
    ),
    "review.keys": (
        "Clavier : Tab passe d'un champ à l'autre, Entrée confirme et ouvre le suivant, "
        "Ctrl+→ / Ctrl+← document suivant / précédent, Échap revient à la file.",
        "Keyboard: Tab moves between fields, Enter confirms and opens the next, "
        "Ctrl+→ / Ctrl+← next / previous document, Esc goes back to the queue.",
    ),
    "review.readonly": ("Lecture seule.", "Read only."),
    "review.held": (
        "Ce document est détenu par {name} jusqu'à {until} : lecture seule.",
        "This document is held by {name} until {until}: read only.",
    ),
    "review.auditor": (
        "Votre rôle d'auditeur permet de lire ce document, pas de décider.",
        "Your auditor role can read this document, not decide.",
    ),
    "review.nojs": (
        "Sans JavaScript, ce document s'affiche en lecture seule.",
        "Without JavaScript, this document is shown read only.",
    ),
    "review.decide": ("Décision", "Decision"),
    "review.confirm": ("Confirmer et suivant", "Confirm and next"),
    "review.approve": ("Approuver aussi la facture (205)", "Also approve the invoice (205)"),
    "review.reason": ("Motif", "Reason"),
    "review.message": ("Message au fournisseur", "Message to the supplier"),
    "review.refuse": ("Refuser (210)", "Refuse (210)"),
    "review.dispute": ("Mettre en litige (207)", "Dispute (207)"),
    "review.suspend": ("Demander des justificatifs (208)", "Ask for documents (208)"),
    "review.derive": ("Découper ou fusionner", "Split or merge"),
    "review.parts": ("Pages de chaque nouveau document", "Pages of each new document"),
    "review.parts.hint": (
        "Séparez les documents par « ; », par exemple « 1-2 ; 3 ». Une page non citée est écartée.",
        "Separate the documents with “;”, for example “1-2; 3”. A page not listed is left out.",
    ),
    "review.split": ("Découper", "Split"),
    "review.merge": ("Fusionner avec le document suivant", "Merge with the next document"),
    "review.previous": ("Document précédent", "Previous document"),
    "review.next": ("Document suivant", "Next document"),
    "review.reload": ("Recharger le document", "Reload the document"),
    "review.seal.pending": ("Scellé", "Sealed"),
    "review.seal.check": ("vérifier le cachet de la copie conservée", "check the kept copy's seal"),
    "review.facturx": (
        "Produire aussi la Factur-X (PDF/A-3) à partir des champs confirmés",
        "Also make the Factur-X (PDF/A-3) from the confirmed fields",
    ),
    "review.facturx.done": ("Factur-X produite (profil {profile}).", "Factur-X made (profile {profile})."),
    "review.facturx.get": ("Télécharger la Factur-X", "Download the Factur-X"),
    "review.facturx.failed": ("Pas de Factur-X : {why}", "No Factur-X: {why}"),
    "review.answers": ("Réponse du fournisseur", "The supplier's answer"),
    "review.answer": ("Le {at}, {name} a répondu", "On {at}, {name} answered"),
    "review.answer.files": ("Pièces jointes", "Attached documents"),
    "review.memory.taught": ("Fournisseur {name} : disposition apprise", "Supplier {name}: layout learnt"),
    "review.memory.used": (
        "Lu avec la disposition apprise de ce fournisseur",
        "Read with the layout learnt for this supplier",
    ),
    "review.memory.when": ("(le {day} par {name})", "(on {day} by {name})"),
    "msg.taught": ("Fournisseur {name} : disposition apprise.", "Supplier {name}: layout learnt."),
    "msg.facturx": ("Factur-X produite.", "Factur-X made."),
    "msg.claimed": ("Document réservé pour vous.", "Document reserved for you."),
    "msg.held": ("Détenu par {name} : lecture seule.", "Held by {name}: read only."),
    "msg.stale": (
        "Ce document a été modifié par quelqu'un d'autre depuis son ouverture : votre décision n'a pas "
        "été enregistrée. Rechargez-le pour voir la version actuelle.",
        "Someone else changed this document since you opened it: your decision was not saved. "
        "Reload it to see the current version.",
    ),
    "msg.locked": ("Décision refusée : document détenu par {name}.", "Decision refused: held by {name}."),
    "msg.saving": ("Enregistrement…", "Saving…"),
    "msg.done": ("Décision enregistrée.", "Decision saved."),
    "msg.failed": ("La décision n'a pas pu être enregistrée", "The decision could not be saved"),
    "msg.ocr": ("Lecture de la zone…", "Reading the area…"),
    "msg.filled": ("{field} : « {value} »", "{field}: “{value}”"),
    "msg.nofield": ("Choisissez d'abord un champ.", "Choose a field first."),
    "msg.reason": ("Choisissez un motif.", "Choose a reason."),
    "msg.parts": (
        "Pages illisibles : écrivez par exemple « 1-2 ; 3 ».",
        "Pages not understood: write for example “1-2; 3”.",
    ),
    "msg.derived": (
        "{count} nouveau(x) document(s) en cours de traitement ; l'original reste archivé tel que reçu.",
        "{count} new document(s) being processed; the original stays archived as received.",
    ),
    "msg.last": ("C'était le dernier document de la file.", "That was the last document in the queue."),
    "check.siren.ok": ("Clé de contrôle correcte.", "Check digit correct."),
    "check.siren.bad": ("Clé de contrôle incorrecte (Luhn).", "Wrong check digit (Luhn)."),
    "check.vat.ok": ("Clé TVA correcte.", "VAT key correct."),
    "check.vat.bad": ("Clé TVA incorrecte.", "Wrong VAT key."),
    "check.iban.ok": ("IBAN valide.", "IBAN valid."),
    "check.iban.bad": ("IBAN invalide (clé mod 97).", "Invalid IBAN (mod-97 key)."),
    "check.totals.ok": ("{ht} + {tva} = {ttc} : cohérent.", "{ht} + {tva} = {ttc}: consistent."),
    "check.totals.bad": (
        "{ht} + {tva} = {sum}, et non {ttc} : écart.",
        "{ht} + {tva} = {sum}, not {ttc}: mismatch.",
    ),
    "check.totals.missing": ("Totaux incomplets.", "Totals incomplete."),
}


def translator(lang: str) -> Callable[..., str]:
    """This screen's words first, then the portal's."""
    return i18n.translator(lang, MESSAGES)


def band(confidence: float | None) -> str:
    if confidence is None:
        return "none"
    return "low" if confidence < LOW else "mid" if confidence < HIGH else "high"


def percent(confidence: float | None) -> str:
    return "—" if confidence is None else f"{round(confidence * 100)}"


CHECKS = {"BT-30": "siren", "BT-47": "siren", "BT-31": "vat", "BT-48": "vat", "BT-84": "iban"}
CLIENT_KEYS = (
    *(key for key in MESSAGES if key.startswith(("msg.", "check."))),
    "review.page",
    "review.image",
)


def field_label(lang: str, term: str, label: str | None) -> str:
    pair = FIELDS.get(term)
    return i18n.pick(lang, *pair) if pair else (label or term)


def client_messages(lang: str) -> dict[str, str]:
    """The words revue.js shows, placeholders kept as ``{name}`` for it to fill."""
    index = i18n.LANGS.index(lang) if lang in i18n.LANGS else 0
    return {key: MESSAGES[key][index] for key in CLIENT_KEYS}
