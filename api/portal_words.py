"""What the portal tells a supplier in plain words: statuses, what to do next, rules, fields (fr/en)."""

from __future__ import annotations

from api.i18n import pick
from api.models import STATUS_FR
from pipeline.lifecycle_codes import LABELS, REASONS, Code

STATUS_EN = {
    "received": "Being processed",
    "archived": "Accepted and archived",
    "needs_review": "Received: a buyer's agent checks some points",
    "rejected": "Rejected: the invoice does not conform",
    "quarantined": "Inadmissible: the file could not be processed",
}
LIFECYCLE_EN = {
    200: "Deposited",
    201: "Issued by the platform",
    202: "Received by the platform",
    203: "Made available",
    204: "Taken over",
    205: "Approved",
    206: "Partially approved",
    207: "In dispute",
    208: "Suspended",
    209: "Completed",
    210: "Refused",
    211: "Payment sent",
    212: "Collected",
    213: "Rejected",
    501: "Inadmissible",
}
REASONS_EN = {
    "DOUBLON": "Duplicate invoice",
    "CALCUL_ERR": "Calculation error",
    "REJ_SEMAN": "Semantic rejection: the invoice breaks the rules",
    "REJ_UNI": "Already deposited",
    "REJ_COH": "Consistency rejection",
    "MONTANTTOTAL_ERR": "Wrong total amount",
    "JUSTIF_ABS": "Supporting document missing or insufficient",
    "CMD_ERR": "Order reference wrong or missing",
    "SIRET_ERR": "SIRET wrong or missing",
    "COORD_BANC_ERR": "Wrong bank details",
    "TX_TVA_ERR": "Wrong VAT rate",
    "NON_CONFORME": "Legal mentions not compliant",
    "IRR_VIDE_F": "Empty file",
    "IRR_TYPE_F": "File type not accepted",
    "IRR_SYNTAX": "Unreadable file (syntax)",
    "IRR_TAILLE_F": "File too large",
    "AUTRE": "Other reason",
}
# Tone of a lifecycle badge: always shown with its code and label, never as colour alone.
TONES = {
    **dict.fromkeys((200, 201, 202, 203, 204, 209), "info"),
    **dict.fromkeys((205, 211, 212), "success"),
    **dict.fromkeys((206, 207, 208), "warning"),
    **dict.fromkeys((210, 213, 501), "error"),
}
NEXT_STEPS: dict[int, tuple[str, str]] = {
    200: (
        "Rien : l'acheteur traite votre facture. Ses décisions (prise en charge, approbation, paiement) "
        "apparaîtront ici.",
        "Nothing: the buyer processes your invoice. Its decisions (taken over, "
        "approved, paid) will appear here.",
    ),
    204: (
        "Rien : le service comptable de l'acheteur traite votre facture.",
        "Nothing: the buyer's accounts department is processing your invoice.",
    ),
    205: (
        "Rien : la facture est approuvée, le paiement va suivre.",
        "Nothing: the invoice is approved, payment will follow.",
    ),
    206: (
        "Une partie seulement est approuvée : lisez le motif et, si besoin, émettez un avoir pour le reste.",
        "Only part is approved: read the reason and, if needed, issue a credit note for the rest.",
    ),
    207: (
        "Contactez l'acheteur pour régler le litige décrit ci-dessous.",
        "Contact the buyer to settle the dispute described below.",
    ),
    208: (
        "Envoyez à l'acheteur les pièces demandées ci-dessous ; il reprendra alors le traitement.",
        "Send the buyer the documents requested below; it will then resume processing.",
    ),
    209: (
        "Rien : vous avez complété le dossier, l'acheteur reprend le traitement.",
        "Nothing: you completed the file, the buyer resumes processing.",
    ),
    210: (
        "L'acheteur refuse cette facture : ne la déposez pas à nouveau ; "
        "contactez-le, et émettez un avoir si nécessaire.",
        "The buyer refuses this invoice: do not deposit it again; contact the buyer and "
        "issue a credit note if needed.",
    ),
    211: (
        "Rien : le paiement est parti. Vérifiez sa réception sur votre compte.",
        "Nothing: payment was sent. Check that it reaches your account.",
    ),
    212: ("Rien : la facture est payée.", "Nothing: the invoice is paid."),
    213: (
        "Corrigez la facture selon les raisons ci-dessous, puis déposez la facture corrigée.",
        "Correct the invoice as the reasons below say, then deposit the corrected invoice.",
    ),
    501: (
        "Nous n'avons pas pu lire ce fichier. Envoyez un PDF lisible (non protégé) ou une facture XML "
        "(Factur-X, UBL ou CII).",
        "We could not read this file. Send a readable PDF (not protected) or "
        "an XML invoice (Factur-X, UBL or CII).",
    ),
}
STATUS_NEXT = {
    "received": (
        "Rien pour l'instant : le traitement prend en général quelques secondes.",
        "Nothing yet: processing usually takes a few seconds.",
    ),
    "needs_review": (
        "Rien pour l'instant : un agent de l'acheteur vérifie les points listés ci-dessous.",
        "Nothing yet: a buyer's agent checks the points listed below.",
    ),
    "archived": ("Rien : le document est archivé.", "Nothing: the document is archived."),
    "rejected": NEXT_STEPS[213],
    "quarantined": NEXT_STEPS[501],
}
REASON_NEXT = {
    "DOUBLON": (
        "Cette facture a déjà été déposée : ne la déposez pas une seconde fois, suivez la première. "
        "S'il s'agit d'une autre facture, donnez-lui un numéro qui lui est propre.",
        "This invoice was already deposited: do not deposit it twice, follow the first one. "
        "If it is another invoice, give it a number of its own.",
    ),
}
RULES: dict[str, tuple[str, str]] = {
    "XSD": (
        "La structure du fichier XML n'est pas celle attendue.",
        "The XML file's structure is not the expected one.",
    ),
    "XML": ("Le fichier XML est mal formé.", "The XML file is malformed."),
    "XML-DECL": ("L'en-tête du fichier XML est incorrect.", "The XML file's header is wrong."),
    "DOUBLON": (
        "Une facture de même numéro a déjà été déposée.",
        "An invoice with the same number was already deposited.",
    ),
    "DUPLICATE": (
        "Une facture de même numéro a déjà été déposée.",
        "An invoice with the same number was already deposited.",
    ),
    "AMOUNT": ("Un montant n'a pas pu être lu comme un nombre.", "An amount could not be read as a number."),
    "FR-SIREN": ("Le numéro SIREN du vendeur est invalide.", "The seller's SIREN is invalid."),
    "FR-SIRET": ("Le numéro SIRET du vendeur est invalide.", "The seller's SIRET is invalid."),
    "FR-VAT": (
        "Le numéro de TVA intracommunautaire est invalide ou ne correspond pas au SIREN.",
        "The VAT number is invalid or does not match the SIREN.",
    ),
    "IBAN": ("L'IBAN indiqué est invalide.", "The IBAN given is invalid."),
    "BR-CO-10": (
        "La somme des lignes ne correspond pas au total des lignes.",
        "The lines do not add up to the line total.",
    ),
    "BR-CO-15": (
        "Le total TTC doit être égal au total HT plus la TVA.",
        "The total with VAT must equal the net total plus VAT.",
    ),
    "BR-CO-16": (
        "Le montant à payer doit être égal au total TTC moins les acomptes.",
        "The amount due must equal the total with VAT less prepaid amounts.",
    ),
    "DF-LINE-NET": (
        "Le montant d'une ligne ne correspond pas à la quantité multipliée par le prix.",
        "A line amount does not equal quantity times price.",
    ),
    "PDF-ENCRYPTED": (
        "Le PDF est chiffré : envoyez-le sans protection.",
        "The PDF is encrypted: send it unprotected.",
    ),
}
RULE_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("BR-FR-", "Règle française de la facturation électronique.", "French e-invoicing rule."),
    ("BR-CO-", "Règle de cohérence de la norme européenne EN 16931.", "EN 16931 consistency rule."),
    (
        "BR-",
        "Règle de la norme européenne de facture EN 16931.",
        "Rule of the European invoice standard EN 16931.",
    ),
    (
        "PDFA",
        "Le PDF ne se déclare pas PDF/A-3, comme Factur-X l'exige.",
        "The PDF does not declare PDF/A-3, as Factur-X requires.",
    ),
    ("FX-", "Règle du format Factur-X.", "Factur-X format rule."),
    (
        "PEPPOL-",
        "Règle de bonne pratique de la norme EN 16931 (PEPPOL).",
        "EN 16931 good-practice rule (PEPPOL).",
    ),
)
SEVERITY = {
    "fatal": ("Bloquant", "Blocking"),
    "error": ("Bloquant", "Blocking"),
    "warning": ("À vérifier", "To check"),
    "info": ("Information", "Information"),
}
FIELDS = {
    "BT-1": ("Numéro de facture", "Invoice number"),
    "BT-2": ("Date de facture", "Invoice date"),
    "BT-9": ("Date d'échéance", "Due date"),
    "BT-5": ("Devise", "Currency"),
    "BT-27": ("Vendeur", "Seller"),
    "BT-30": ("SIREN ou SIRET du vendeur", "Seller's SIREN or SIRET"),
    "BT-31": ("N° de TVA du vendeur", "Seller's VAT number"),
    "BT-44": ("Acheteur", "Buyer"),
    "BT-109": ("Total HT", "Total without VAT"),
    "BT-110": ("Total TVA", "Total VAT"),
    "BT-112": ("Total TTC", "Total with VAT"),
    "BT-115": ("Montant à payer", "Amount due"),
}
META = {
    "BT-13": ("Numéro de commande", "Order number"),
    "supplier_reference": ("Votre référence", "Your reference"),
    "comment": ("Commentaire", "Comment"),
    "answer_to": ("En réponse à la demande sur le document", "Answering the request on document"),
}
ANSWER = {  # the 208 → 209 answer on a document page
    "asked": ("Pièces demandées par l'acheteur", "Documents the buyer asks for"),
    "what": ("Demande", "Request"),
    "by": ("Demandé par", "Asked by"),
    "when": ("Le", "On"),
    "buyer": ("le service comptable ({name})", "the accounts department ({name})"),
    "files": ("Vos pièces", "Your documents"),
    "files.hint": (
        "Un ou plusieurs fichiers : {size} au plus chacun.",
        "One or more files: {size} at most each.",
    ),
    "comment": ("Votre commentaire", "Your comment"),
    "submit": ("Envoyer la réponse", "Send the answer"),
    "sent": (
        "Votre réponse est envoyée : la facture est complétée (209) et revient à l'acheteur.",
        "Your answer is sent: the invoice is completed (209) and goes back to the buyer.",
    ),
    "answers": ("Vos réponses", "Your answers"),
    "answered": ("Le {at}, par {name}", "On {at}, by {name}"),
    "error": ("Votre réponse n'a pas été envoyée", "Your answer was not sent"),
}


def status_label(lang: str, status: str) -> str:
    return pick(lang, STATUS_FR.get(status, status), STATUS_EN.get(status, status))


def lifecycle_label(lang: str, code: int) -> str:
    french = LABELS[Code(code)] if code in Code._value2member_map_ else str(code)
    return pick(lang, french, LIFECYCLE_EN.get(code, french))


def reason_label(lang: str, reason: str | None) -> str | None:
    if not reason:
        return None
    french = REASONS.get(reason, reason)
    return pick(lang, french, REASONS_EN.get(reason, french))


def tone(code: int | None) -> str:
    return TONES.get(code, "neutral") if code is not None else "neutral"


def next_step(lang: str, code: int | None, status: str, reason: str | None = None) -> str:
    if reason in REASON_NEXT:
        return pick(lang, *REASON_NEXT[reason])
    pair = NEXT_STEPS.get(code) if code is not None else None
    pair = pair or STATUS_NEXT.get(status, STATUS_NEXT["archived"])
    return pick(lang, *pair)


def rule_words(lang: str, rule: str) -> str:
    """A rule id in plain words: the rule itself when known, else its family."""
    if rule in RULES:
        return pick(lang, *RULES[rule])
    for prefix, french, english in RULE_FAMILIES:
        if rule.upper().startswith(prefix):
            return pick(lang, french, english)
    return pick(lang, "Contrôle automatique de la plateforme.", "Automatic platform check.")


def severity_label(lang: str, severity: str) -> str:
    return pick(lang, *SEVERITY.get(severity, (severity, severity)))


def actor_side(actor: str) -> str:
    """``platform:…`` / ``agent:…`` / ``supplier:…`` as who.platform / who.buyer / who.supplier."""
    role = actor.split(":", 1)[0]
    return {"supplier": "who.supplier", "agent": "who.buyer", "admin": "who.buyer"}.get(role, "who.platform")


def say(lang: str, key: str, **values: str) -> str:
    """A word of the answer form, filled with ``values``."""
    text = pick(lang, *ANSWER[key])
    return text.format(**values) if values else text
