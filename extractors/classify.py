"""Document type from content keywords, with a confidence from the margin.

French and English first; the invoice and credit-note vocabulary also covers German and Dutch, which
suppliers across the border print (Rechnung, Factuur, MwSt., BTW, Totaal).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache

from extractors.results import DocType

log = logging.getLogger(__name__)

# (pattern on accent-free lower-case text, weight); a keyword counts at most twice.
_KEYWORDS: dict[DocType, tuple[tuple[str, float], ...]] = {
    DocType.INVOICE: (
        (r"facture", 2.0), (r"invoice", 2.0), (r"total\s+t\.?t\.?c", 2.0), (r"total\s+h\.?t", 1.5),
        (r"net\s+a\s+payer", 1.5), (r"tva", 0.5), (r"amount\s+due|total\s+due", 1.5),
        (r"date\s+d'?\s*echeance|due\s+date", 1.0), (r"conditions\s+de\s+paiement", 0.5),
        (r"penalites?\s+de\s+retard|indemnite\s+forfaitaire", 1.0),
        (r"designation|quantite|\bqte\b|prix\s+unitaire|unit\s+price|\bqty\b", 0.75),
        (r"bon\s+de\s+commande|purchase\s+order|\bsiret\b", 0.5),
        # German and Dutch; a text layer may split a spaced-out title letter ("F actuurnummer")
        (r"rechnung|\bf\s?a\s?c\s?t\s?u\s?u\s?r", 2.0), (r"\bmwst\b|\bbtw\b|\bust-?id", 0.5),
        (r"\btotaa?l\b|gesamtbetrag|te\s+betalen|zu\s+zahlen|zahlungs(?:ziel|bedingungen)", 0.75),
    ),
    DocType.CREDIT_NOTE: (
        (r"(?m)^\s*avoir\b|facture\s+d'avoir|avoir\s+n\s?[°o]", 4.0), (r"credit\s+(?:note|memo)", 4.0),
        (r"note\s+de\s+credit", 4.0), (r"avoir", 0.5), (r"rembourse", 0.5),
        # the number label says it even when OCR joins the "AVOIR" title to the seller's name
        (r"(?:numero|n\s?[°o]\.?)\s*(?:de\s+l'|d')\s*avoir", 4.0),
        (r"gutschrift|creditnota|creditfactuur", 4.0),
        # a credit-note number outweighs the invoice words every credit note also prints
        (r"(?:avoir|note\s+de\s+credit|credit\s+(?:note|memo))\s*(?:n\s?[°o]|no\b|numero|number|#)", 8.0),
        (r"(?m)\bavoir\s*$", 2.0),
    ),
    DocType.BANK_DETAILS: (
        (r"releve\s+d'identite\s+bancaire", 5.0), (r"\brib\b", 2.0), (r"\biban\b", 1.5),
        (r"\bbic\b|\bswift\b", 1.5), (r"titulaire\s+du\s+compte|account\s+holder", 1.5),
        (r"code\s+banque|code\s+guichet|cle\s+rib", 1.5), (r"domiciliation", 1.0),
    ),
    DocType.PROOF_OF_ADDRESS: (
        (r"justificatif\s+de\s+domicile", 5.0), (r"attestation\s+de\s+domicile", 5.0),
        (r"attestation\s+d'hebergement|proof\s+of\s+address", 4.0),
        (r"certifie\s+que\s+.{0,60}\s+(?:reside|demeure|habite)", 2.0), (r"domicilie", 0.5),
        (r"quittance\s+de\s+loyer", 5.0), (r"attestation\s+d'assurance\s+habitation", 4.0),
    ),
    DocType.IDENTITY_DOCUMENT: (
        (r"carte\s+nationale\s+d'identite", 6.0), (r"passeport|passport", 5.0),
        (r"titre\s+de\s+sejour|residence\s+permit", 5.0), (r"republique\s+francaise", 1.0),
        (r"nationalite|nationality", 1.5), (r"date\s+de\s+naissance|date\s+of\s+birth", 1.5),
        (r"lieu\s+de\s+naissance|place\s+of\s+birth", 1.0), (r"<<<", 2.0),
        (r"(?m)^[a-z0-9<]{20,}<<[a-z0-9<]*$", 3.0), (r"permis\s+de\s+conduire|driving\s+licen[cs]e", 5.0),
        (r"\bsexe\b|\bprenoms?\b|nom\s+d'usage|valable\s+jusqu|date\s+d'expiration", 1.0),
    ),
    DocType.TAX_NOTICE: (
        (r"avis\s+d'impot", 6.0), (r"avis\s+de\s+taxe\s+fonciere", 6.0),
        (r"impot\s+sur\s+le\s+revenu", 4.0), (r"taxe\s+d'habitation", 4.0),
        (r"revenu\s+fiscal\s+de\s+reference", 3.0), (r"direction\s+generale\s+des\s+finances", 1.5),
        (r"numero\s+fiscal|nombre\s+de\s+parts", 1.5), (r"avis\s+d'imposition", 6.0),
        (r"impots\.gouv|finances\s+publiques|prelevement\s+a\s+la\s+source", 1.5),
        (r"avis\s+de\s+situation\s+declarative|contribution\s+a\s+l'audiovisuel", 4.0),
    ),
}  # fmt: skip
MIN_SCORE = 2.0
# A utility bill (electricity, gas, water, telephone) or a rent receipt addressed to a private person
# is what people hand in as a proof of address; the same bill addressed to an organisation is an
# invoice to pay. Personal addressee: a civility (M., Mme, Monsieur, Madame) and no company form.
_UTILITY = re.compile(
    r"facture\s+d'(?:electricite|energie|eau|gaz)|(?:electricite|gaz\s+naturel)\s+et\s+gaz|\bkwh\b"
    r"|point\s+de\s+(?:livraison|comptage)|\bpdl\b|\bpce\b|releve\s+de\s+compteur|index\s+(?:releve|de\s+consommation)"
    r"|consommation\s+d'eau|abonnement\s+(?:internet|box|mobile|telephon)|quittance\s+de\s+loyer"
)
# A priced line: an amount with cents. A RIB is bank identifiers only; an itemised page is not one.
_PRICED = re.compile(r"(?<![\d.,])\d+(?:[ .,]\d{3})*[.,]\d{2}(?![\d.,%])")
PRICED_LINES = 3
_PERSON = re.compile(r"(?m)^\s*(?:m\.|mme|mlle|monsieur|madame|mr|mrs|ms)\s+[a-z]")
_COMPANY = re.compile(r"\b(?:sas|sarl|sa|eurl|sasu|sci|mairie|commune|departement|hopital|chu|conseil)\b")


@cache
def _compiled() -> dict[DocType, tuple[tuple[re.Pattern[str], float], ...]]:
    return {t: tuple((re.compile(p), w) for p, w in kws) for t, kws in _KEYWORDS.items()}


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(ch for ch in nfkd if not unicodedata.combining(ch))


def scores(text: str) -> dict[DocType, float]:
    """Weighted keyword score of each document type."""
    folded = _fold(text)
    return {
        doc: sum(w * min(2, len(rx.findall(folded))) for rx, w in kws) for doc, kws in _compiled().items()
    }


def _addressed_to_company(folded: str) -> bool:
    """Whether the lines after a civility name an organisation (the bill is then an invoice)."""
    m = _PERSON.search(folded)
    block = folded[m.start() : m.start() + 120] if m else ""
    return bool(_COMPANY.search(block))


def classify(text: str) -> tuple[DocType, float]:
    """The most likely document type and a confidence in 0..1 that grows with the winning margin."""
    s = scores(text)
    folded = _fold(text)
    if _UTILITY.search(folded) and _PERSON.search(folded) and not _addressed_to_company(folded):
        s[DocType.PROOF_OF_ADDRESS] += 6.0
        s[DocType.INVOICE] *= 0.5
    # A RIB carries an IBAN, but so does every invoice: invoice vocabulary or priced lines mean the
    # bank identifiers are a payment footer, not a bank-details sheet.
    priced = sum(1 for line in folded.splitlines() if _PRICED.search(line))
    if s[DocType.INVOICE] >= 4.0 or priced >= PRICED_LINES:
        s[DocType.BANK_DETAILS] *= 0.3
    if s[DocType.CREDIT_NOTE] >= 4.0:  # a credit note uses the invoice vocabulary too
        s[DocType.INVOICE] *= 0.5
    ranked = sorted(s.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < MIN_SCORE:
        return DocType.OTHER, round(0.5 + 0.2 * (1 - top / MIN_SCORE), 3)
    margin = (top - second) / top
    conf = min(0.99, 0.4 + 0.45 * margin + 0.15 * min(1.0, top / 10.0))
    log.debug("classified as %s (%.2f)", best.value, conf)
    return best, round(conf, 3)
