"""Document type from content keywords, with a confidence from the margin.

French and English first; the invoice and credit-note vocabulary also covers German and Dutch, which
suppliers across the border print (Rechnung, Factuur, MwSt., BTW, Totaal); the till-receipt vocabulary
German, Spanish and Italian too (Kassenbon, Rückgeld, ticket, cambio, scontrino, resto).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache

from extractors.results import DocType

log = logging.getLogger(__name__)

_AMT = r"-?\s?(?:eur\s?|€\s?)?\d+[.,]\d{2}\b"  # an amount printed after a till's payment word
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
    DocType.RECEIPT: (
        (r"ticket\s+(?:de\s+caisse|client|cb|carte)|\bkassen(?:bon|beleg|zettel)|\bscontrino"
         r"|documento\s+commerciale|factura\s+simplificada|sales\s+receipt", 5.0),
        (r"\bticket\b|(?<!upon )(?<!on )\breceipt\b(?!\s+of)|\bbon-nr|\bbeleg-nr", 1.5),
        (r"\bcaisse\b(?!\s+(?:d'epargne|des\s+depots|regionale|federale|nationale|primaire|d'allocations|de\s+"
         r"retraite))|\bcaissi(?:er|ere)\b|\bkasse\b|\bkassierer|\bcaja\b|\bcajero\b|\bcassa\b|\btill\b",
         1.5),
        (r"\b(?:rendu(?:\s+monnaie)?|monnaie(?:\s+rendue)?|a\s+rendre|change(?:\s+due)?|ruckgeld|zuruck"
         r"|cambio|devolucion|resto)\W{0,3}" + _AMT, 3.0),
        (r"\b(?:especes|cash(?:\s+tendered)?|bar(?:geld)?|gegeben|efectivo|entregado|contanti|contante)\W{0,3}"
         + _AMT, 2.0),
        (r"\bcb\b|carte\s+bancaire|sans\s+contact|contactless|ec-karte|girocard|kartenzahlung|\btarjeta\b"
         r"|bancomat|pagamento\s+elettronico", 1.0),
        (r"merci\s+(?:de\s+votre\s+visite|et\s+a\s+bientot|de\s+votre\s+achat)|\ba\s+bientot"
         r"|thank\s+you\s+for\s+shopping|please\s+come\s+again|vielen\s+dank\s+fur\s+ihren\s+einkauf"
         r"|gracias\s+por\s+su\s+(?:visita|compra)|grazie\s+(?:e\s+arrivederci|per\s+la\s+visita)", 2.0),
        (r"\btpe\b|\bauto\s+\d{6}|\btransaction\b|cardholder\s+copy|customer\s+copy|kundenbeleg"
         r"|copia\s+cliente", 1.0),
        (r"\bnb\s+articles|nombre\s+d'articles|\bitems\s*:?\s*\d|anzahl\s+artikel|\barticulos"
         r"|n\.\s*pezzi", 1.5),
        (r"\bsumme\b|\btotale\b|total\s+a\s+pagar|\bzu\s+zahlen|\bimporte\b|\bsous[-\s]total\b|\bsubtotal"
         r"|zwischensumme|\bbalance\s+due", 0.75),
        (r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\s+\d{1,2}[:h]\d{2}", 1.0),  # the sale's date and time
    ),
}  # fmt: skip
MIN_SCORE = 2.0
# A till slip prints TOTAL TTC, TVA and SIRET as an invoice does; its own words outweigh those unless
# the page names itself an invoice (a till-roll invoice to a customer stays an invoice).
RECEIPT_MIN = 4.0
# The shape of a till slip whatever its wording: many short lines, most of them ending in an amount.
SLIP_LINES, SLIP_WIDTH, SLIP_PRICED, SLIP_BONUS = 8, 42, 0.4, 2.5
_ENDS_PRICED = re.compile(r"\d[.,]\d{2}\s*(?:€|eur)?\s*$")
_INVOICE_WORD = re.compile(r"\b(?:facture|invoice|rechnung|factuur)\b")
_NOT_AN_INVOICE = re.compile(
    r"factures?\s+sur\s+demande|ne\s+vaut\s+pas\s+facture|valant\s+facture|(?:upon|on)\s+receipt\s+of\s+invoice"
)
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


def _slip_shaped(folded: str) -> bool:
    """Whether the text has a till slip's shape: short lines, most of them priced."""
    rows = [row.strip() for row in folded.splitlines() if row.strip()]
    if len(rows) < SLIP_LINES:
        return False
    median = sorted(len(row) for row in rows)[len(rows) // 2]
    priced = sum(bool(_ENDS_PRICED.search(row)) for row in rows) / len(rows)
    return median <= SLIP_WIDTH and priced >= SLIP_PRICED


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
    if _INVOICE_WORD.search(_NOT_AN_INVOICE.sub(" ", folded)):
        s[DocType.RECEIPT] *= 0.3
    else:
        s[DocType.RECEIPT] += SLIP_BONUS if _slip_shaped(folded) else 0.0
        if s[DocType.RECEIPT] >= RECEIPT_MIN:
            s[DocType.INVOICE] *= 0.4
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
