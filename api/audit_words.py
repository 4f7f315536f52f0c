"""The auditor's pages in plain words (fr/en): journal events, verification checks and problems, the
EN 16931 names of the fields, the roles of archived objects."""

from __future__ import annotations

from collections.abc import Callable

from api import i18n, seal_words

READERS = frozenset({"auditor", "agent", "admin"})  # a supplier is told these pages do not exist

MESSAGES: dict[str, tuple[str, str]] = {
    "nav.audit": ("Contrôle de l'archive", "Archive audit"),
    "search.title": ("Rechercher dans l'archive", "Search the archive"),
    "search.intro": (
        "Tous les critères sont facultatifs ; ceux qui sont remplis doivent tous être vérifiés.",
        "Every criterion is optional; those filled in must all hold.",
    ),
    "search.form": ("Critères de recherche", "Search criteria"),
    "search.seller": ("Vendeur", "Seller"),
    "search.invoice": ("Facture", "Invoice"),
    "search.state": ("État et classement", "State and class"),
    "search.siren": ("SIREN du vendeur (9 chiffres)", "Seller's SIREN (9 digits)"),
    "search.siret": ("SIRET du vendeur (14 chiffres)", "Seller's SIRET (14 digits)"),
    "search.vat": ("N° de TVA du vendeur (BT-31)", "Seller's VAT number (BT-31)"),
    "search.buyer": ("Acheteur (BT-44)", "Buyer (BT-44)"),
    "search.number": ("Numéro de facture (BT-1)", "Invoice number (BT-1)"),
    "search.from": ("Émise à partir du (BT-2)", "Issued from (BT-2)"),
    "search.to": ("Émise jusqu'au (BT-2)", "Issued until (BT-2)"),
    "search.min": ("Montant TTC minimum (BT-112)", "Minimum total with VAT (BT-112)"),
    "search.max": ("Montant TTC maximum (BT-112)", "Maximum total with VAT (BT-112)"),
    "search.amount.hint": ("Par exemple 1200,50", "For example 1200.50"),
    "search.status": ("Statut du traitement", "Processing status"),
    "search.lifecycle": ("Statut du cycle de vie", "Lifecycle status"),
    "search.class": ("Classe du document", "Document class"),
    "search.tenant": ("Locataire (tenant)", "Tenant"),
    "search.text": ("Texte lu dans le document", "Text read in the document"),
    "search.any": ("Indifférent", "Any"),
    "search.submit": ("Rechercher", "Search"),
    "search.reset": ("Effacer les critères", "Clear the criteria"),
    "search.caption": ("Documents trouvés, du plus ancien au plus récent", "Documents found, oldest first"),
    "search.empty": ("Aucun document ne répond à ces critères.", "No document meets these criteria."),
    "search.invalid": (
        "Critère ignoré, valeur invalide : {names}",
        "Criterion ignored, invalid value: {names}",
    ),
    "search.seller.col": ("Vendeur", "Seller"),
    "search.tenant.col": ("Locataire", "Tenant"),
    "doc.title": ("Contrôle du document {name}", "Audit of document {name}"),
    "doc.back": ("Retour à la recherche", "Back to the search"),
    "doc.facts": ("Le document", "The document"),
    "doc.id": ("Identifiant", "Identifier"),
    "doc.sha256": ("Empreinte SHA-256 du fichier reçu", "SHA-256 of the file received"),
    "doc.pages": ("Pages de la copie conservée", "Pages of the kept copy"),
    "doc.page": ("Page {n} de la copie conservée", "Page {n} of the kept copy"),
    "doc.no_pages": ("Pas de page à afficher (facture XML ou fichier illisible).", "No page to show."),
    "doc.fields": ("Données lues (EN 16931)", "Data read (EN 16931)"),
    "doc.fields.caption": ("Champs lus, avec leur terme EN 16931", "Fields read, with their EN 16931 term"),
    "doc.term": ("Terme", "Term"),
    "doc.name": ("Nom EN 16931", "EN 16931 name"),
    "doc.label": ("Libellé français", "French label"),
    "doc.value": ("Valeur", "Value"),
    "doc.no_fields": ("Aucun champ lu.", "No field read."),
    "doc.objects": ("Objets archivés", "Archived objects"),
    "doc.objects.caption": ("Objets archivés de ce document", "This document's archived objects"),
    "obj.role": ("Rôle", "Role"),
    "obj.key": ("Clé", "Key"),
    "obj.size": ("Taille", "Size"),
    "obj.until": ("Conservé jusqu'au", "Retained until"),
    "obj.hold": ("Gel juridique", "Legal hold"),
    "obj.get": ("Télécharger", "Download"),
    "obj.get.label": ("Télécharger l'objet {role}", "Download the {role} object"),
    "obj.forever": ("sans date (conservé)", "no date (kept)"),
    "hold.yes": ("oui", "yes"),
    "hold.no": ("non", "no"),
    "hold.unknown": ("inconnu", "unknown"),
    "doc.evidence": ("Dossier de preuve", "Evidence bundle"),
    "doc.evidence.text": (
        "Un ZIP avec les objets, les écritures du journal, les scellements quotidiens et les certificats, "
        "vérifiable sans dematflow (LISEZMOI.txt). Le téléchargement est journalisé.",
        "A ZIP with the objects, journal rows, day seals and certificates, checkable without dematflow "
        "(LISEZMOI.txt). The download is journalled.",
    ),
    "doc.evidence.get": ("Télécharger le dossier de preuve", "Download the evidence bundle"),
    "doc.timeline": ("Historique complet (journal)", "Full history (journal)"),
    "doc.timeline.caption": (
        "Chaque écriture du journal de ce document, dans l'ordre",
        "Every journal row of this document, in order",
    ),
    "tl.seq": ("N°", "No."),
    "tl.when": ("Quand", "When"),
    "tl.who": ("Qui", "Who"),
    "tl.what": ("Quoi", "What"),
    "tl.stage": ("Étape", "Stage"),
    "tl.hashes": ("Empreintes", "Fingerprints"),
    "tl.in": ("entrée", "in"),
    "tl.out": ("sortie", "out"),
    "tl.row": ("empreinte de l'écriture", "row hash"),
    "who.system": ("dematflow (traitement automatique)", "dematflow (automatic processing)"),
    "who.unknown": ("compte {id} (inconnu)", "account {id} (unknown)"),
    "verify.title": ("Vérifier l'intégrité", "Verify integrity"),
    "verify.text": (
        "Recalcule l'empreinte de chaque objet, contrôle la chaîne du journal et les scellements. "
        "La vérification est journalisée.",
        "Re-hashes every object, checks the journal chain and the seals. The verification is journalled.",
    ),
    "verify.button": ("Vérifier", "Verify"),
    "verify.busy": ("Vérification en cours…", "Verifying…"),
    "verify.result": ("Résultat de la vérification du {at}", "Verification result of {at}"),
    "verify.caption": ("Résultat de chaque contrôle", "Result of each check"),
    "verify.check": ("Contrôle", "Check"),
    "verify.outcome": ("Résultat", "Outcome"),
    "verify.details": ("Détail", "Detail"),
    "outcome.ok": ("OK", "OK"),
    "outcome.failed": ("ÉCHEC", "FAILED"),
    "outcome.not_checked": ("non vérifié", "not checked"),
    "summary.ok": ("Tous les contrôles ont réussi.", "Every check passed."),
    "summary.failed": ("ÉCHEC : au moins un contrôle a échoué.", "FAILED: at least one check failed."),
    "summary.not_checked": (
        "Aucune anomalie trouvée, mais au moins un contrôle n'a pas pu être fait (non vérifié).",
        "No anomaly found, but at least one check could not run (not checked).",
    ),
    "check.objects": ("Empreintes des objets archivés", "Fingerprints of the archived objects"),
    "check.journal": ("Chaîne du journal", "Journal chain"),
    "check.days": ("Scellements quotidiens du journal", "Daily journal seals"),
    "check.seal": ("Cachet de la copie scellée", "Seal of the sealed copy"),
    "count.objects": ("{n} objet(s) recalculé(s)", "{n} object(s) re-hashed"),
    "count.journal": ("{n} écriture(s) et leurs liens", "{n} row(s) and their links"),
    "count.days": ("{n} jour(s) scellé(s)", "{n} sealed day(s)"),
    "count.seal": ("{n} signature(s)", "{n} signature(s)"),
}

# Each problem and note code of pipeline.verify_document, in plain words.
PROBLEMS: dict[str, tuple[str, str]] = {
    "not_journalled": ("objet absent du journal", "object not in the journal"),
    "not_catalogued": ("objet absent du catalogue", "object not in the catalogue"),
    "catalogue_changed": ("empreinte modifiée dans le catalogue", "fingerprint changed in the catalogue"),
    "record_changed": ("empreinte modifiée dans la fiche du document", "fingerprint changed in the record"),
    "missing": ("objet introuvable dans l'archive", "object missing from the archive"),
    "content_changed": (
        "contenu modifié : l'empreinte recalculée diffère de celle du journal",
        "content changed: the recomputed fingerprint differs from the journal's",
    ),
    "archive_unavailable": ("l'archive ne répond pas", "the archive does not answer"),
    "no_objects": ("aucun objet archivé", "no archived object"),
    "no_rows": ("aucune écriture au journal pour ce document", "no journal row for this document"),
    "row_edited": ("écriture modifiée après coup", "row edited after it was written"),
    "not_chained": ("ne s'enchaîne pas à l'écriture précédente", "does not chain to the row before"),
    "previous_edited": ("l'écriture précédente a été modifiée", "the row before was edited"),
    "next_not_chained": (
        "l'écriture suivante ne s'enchaîne plus : écriture remplacée",
        "the next row no longer chains to it: row replaced",
    ),
    "row_deleted": ("écriture supprimée du journal", "row deleted from the journal"),
    "head_mismatch": ("la tête du journal ne correspond pas", "the journal head does not match"),
    "day_not_sealed": (
        "jour pas encore scellé ({detail} écriture(s)) : scellé après minuit UTC",
        "day not sealed yet ({detail} row(s)): sealed after midnight UTC",
    ),
    "day_segment_missing": (
        "journal du jour absent de l'archive",
        "the day's journal missing from the archive",
    ),
    "day_segment_unreadable": ("journal du jour illisible", "the day's journal is unreadable"),
    "day_seal_invalid": ("scellement du jour invalide", "the day seal is invalid"),
    "day_rows_invalid": (
        "écritures archivées du jour différentes de celles scellées",
        "the day's archived rows differ from the sealed ones",
    ),
    "not_in_day_seal": ("écriture absente du scellement du jour", "row missing from the day seal"),
    "differs_from_day_seal": ("écriture différente de celle scellée", "row differs from the sealed one"),
    "deleted_since_sealed": ("écriture scellée puis supprimée", "row sealed then deleted"),
    "not_sealed": ("document non scellé (statut : {detail})", "document not sealed (status: {detail})"),
    "seal_missing": ("copie scellée absente", "sealed copy missing"),
    "tool_unavailable": ("outil de validation indisponible", "validation tool unavailable"),
    "signature_invalid": ("signature invalide", "invalid signature"),
    "signature_unreadable": ("signature illisible", "unreadable signature"),
    "signer_unknown": (
        "signé par un certificat qui n'est pas le cachet configuré",
        "signed by a certificate that is not the configured seal",
    ),
    "no_signature": ("le PDF ne porte aucune signature", "the PDF carries no signature"),
    "changed_after_seal": ("le PDF a été modifié après le cachet", "the PDF was changed after the seal"),
    "timestamp_invalid": ("horodatage invalide", "invalid timestamp"),
    "original_not_sealed": (
        "la copie scellée ne commence pas par le fichier reçu",
        "the sealed copy does not begin with the file received",
    ),
}

# (stage, action) of a journal row as a sentence; a row not listed is shown by its stage and action.
EVENTS: dict[tuple[str, str], tuple[str, str]] = {
    ("ingest", "received"): ("Fichier reçu et conservé tel quel", "File received and kept as is"),
    ("ingest", "duplicate"): ("Même fichier reçu à nouveau", "Same file received again"),
    ("ingest", "identified"): ("Type de fichier identifié", "File type identified"),
    ("classify", "classified"): ("Document classé et texte lu", "Document classified and text read"),
    ("extract", "extracted"): ("Données de la facture extraites", "Invoice data extracted"),
    ("validate", "validated"): ("Contrôles de conformité passés", "Conformance checks run"),
    ("seal", "sealed"): ("Copie scellée (cachet électronique horodaté)", "Copy sealed (timestamped e-seal)"),
    ("archive", "archived"): ("Archivé avec sa durée de conservation", "Archived with its retention"),
    ("archive", "migrated"): ("Objet migré vers une autre archive", "Object migrated to another archive"),
    ("lifecycle", "status"): ("Statut du cycle de vie émis", "Lifecycle status issued"),
    ("access", "viewed"): ("Document consulté", "Document viewed"),
    ("access", "downloaded"): ("Objet téléchargé", "Object downloaded"),
    ("access", "verified"): ("Intégrité vérifiée", "Integrity verified"),
    ("evidence", "exported"): ("Dossier de preuve exporté", "Evidence bundle exported"),
    ("review", "confirmed"): ("Champs confirmés par un agent", "Fields confirmed by an agent"),
    ("review", "refused"): ("Refusée par un agent (210)", "Refused by an agent (210)"),
    ("review", "disputed"): ("Mise en litige par un agent (207)", "Disputed by an agent (207)"),
    ("review", "suspended"): ("Suspendue par un agent (208)", "Suspended by an agent (208)"),
    ("convert", "facturx"): ("Rendu Factur-X produit", "Factur-X rendition made"),
    ("retention", "legal-hold"): ("Gel juridique posé", "Legal hold set"),
    ("retention", "legal-hold-released"): ("Gel juridique levé", "Legal hold released"),
    ("retention", "delete-requested"): ("Suppression demandée", "Deletion requested"),
    ("retention", "deleted"): ("Supprimé après sa durée de conservation", "Deleted after its retention"),
}
ACTIONS: dict[str, tuple[str, str]] = {  # actions any stage may journal
    "quarantined": ("Mis en quarantaine : traitement impossible", "Quarantined: could not be processed"),
    "retry": ("Traitement repris", "Processing resumed"),
}
STAGES: dict[str, tuple[str, str]] = {
    "ingest": ("réception", "intake"),
    "classify": ("classement", "classification"),
    "extract": ("extraction", "extraction"),
    "validate": ("contrôle", "validation"),
    "seal": ("scellement", "sealing"),
    "archive": ("archivage", "archiving"),
    "lifecycle": ("cycle de vie", "lifecycle"),
    "access": ("consultation", "access"),
    "evidence": ("preuve", "evidence"),
    "review": ("revue", "review"),
    "retention": ("conservation", "retention"),
    "convert": ("conversion", "conversion"),
}
DETAILS: dict[str, tuple[str, str]] = {  # the details of a journal row the timeline shows, in this order
    "code": ("code", "code"),
    "label": ("libellé", "label"),
    "message": ("message", "message"),
    "reason": ("motif", "reason"),
    "object": ("objet", "object"),
    "screen": ("écran", "screen"),
    "outcome": ("résultat", "outcome"),
    "filename": ("fichier", "file"),
    "doc_type": ("classe", "class"),
}
ROLES: dict[str, tuple[str, str]] = {
    "original": ("fichier reçu", "file received"),
    "sealed": ("copie scellée", "sealed copy"),
    "capture": ("texte lu", "text read"),
    "data": ("données extraites", "extracted data"),
    "report": ("rapport de contrôle", "check report"),
    "einvoice_xml": ("XML de la facture électronique", "e-invoice XML"),
}
# EN 16931 business terms: (official English name, French label of NF EN 16931).
TERMS: dict[str, tuple[str, str]] = {
    "BT-1": ("Invoice number", "Numéro de facture"),
    "BT-2": ("Invoice issue date", "Date d'émission de la facture"),
    "BT-3": ("Invoice type code", "Code de type de facture"),
    "BT-5": ("Invoice currency code", "Code de devise de la facture"),
    "BT-9": ("Payment due date", "Date d'échéance de paiement"),
    "BT-13": ("Purchase order reference", "Référence de la commande"),
    "BT-24": ("Specification identifier", "Identifiant de spécification"),
    "BT-27": ("Seller name", "Nom du vendeur"),
    "BT-29": ("Seller identifier", "Identifiant du vendeur"),
    "BT-30": ("Seller legal registration identifier", "Identifiant d'immatriculation légale du vendeur"),
    "BT-31": ("Seller VAT identifier", "Identifiant à la TVA du vendeur"),
    "BT-40": ("Seller country code", "Code de pays du vendeur"),
    "BT-44": ("Buyer name", "Nom de l'acheteur"),
    "BT-46": ("Buyer identifier", "Identifiant de l'acheteur"),
    "BT-47": ("Buyer legal registration identifier", "Identifiant d'immatriculation légale de l'acheteur"),
    "BT-48": ("Buyer VAT identifier", "Identifiant à la TVA de l'acheteur"),
    "BT-55": ("Buyer country code", "Code de pays de l'acheteur"),
    "BT-84": ("Payment account identifier", "Identifiant du compte de paiement"),
    "BT-106": ("Sum of Invoice line net amount", "Somme des montants nets des lignes de facture"),
    "BT-109": ("Invoice total amount without VAT", "Montant total de la facture hors TVA"),
    "BT-110": ("Invoice total VAT amount", "Montant total de la TVA de la facture"),
    "BT-112": ("Invoice total amount with VAT", "Montant total de la facture TVA comprise"),
    "BT-115": ("Amount due for payment", "Montant à payer"),
}


def translator(lang: str) -> Callable[..., str]:
    """These pages' words first, then the portal's."""
    return i18n.translator(lang, MESSAGES)


def problem(lang: str, code: str, detail: str = "") -> str:
    french, english = PROBLEMS.get(code) or seal_words.REASONS.get(code, (code, code))
    return i18n.pick(lang, french, english).replace("{detail}", detail)


def event(lang: str, stage: str, action: str) -> str:
    pair = EVENTS.get((stage, action)) or ACTIONS.get(action)
    return i18n.pick(lang, *pair) if pair else f"{stage} / {action}"


def stage(lang: str, name: str) -> str:
    return i18n.pick(lang, *STAGES.get(name, (name, name)))


def role(lang: str, name: str) -> str:
    if name.startswith("lifecycle-"):
        return i18n.pick(lang, f"statut de cycle de vie n° {name[10:]}", f"lifecycle status no. {name[10:]}")
    return i18n.pick(lang, *ROLES.get(name, (name, name)))


def details(lang: str, detail: dict[str, object]) -> tuple[str, ...]:
    """The row's details worth reading, as « name : value »."""
    t = translator(lang)
    shown = []
    for key, names in DETAILS.items():
        value = detail.get(key)
        if value in (None, "", [], {}):
            continue
        text = t(f"outcome.{value}") if key == "outcome" else str(value)
        shown.append(f"{i18n.pick(lang, *names)} : {text}")
    return tuple(shown)
