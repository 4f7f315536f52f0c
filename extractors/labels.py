"""Label vocabulary (French, English, some German and Dutch) and where each label's value may be."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from extractors.candidates import AMOUNTS
from extractors.layout import Lines, Segment, below, fold, right_of

_D = r"(?![a-z_])"  # end of a word in folded text (a digit may follow: "Total excl. VAT3389,00")
_HT = r"h\.?\s?t\.?" + _D
_TVA = r"t\.?v\.?a\.?" + _D
_TTC = r"t\.?[ti]\.?c\.?" + _D  # OCR reads TTC as TIC
NO = r"(?:n\s?[°º*o]\.?|no\.?|nr\.?|num[eé]ro|number|#)"
HT, TVA, TTC, DUE = AMOUNTS
_NAMES = ("BT-27", "BT-44")  # the fields whose values hold no digit
# (field, tier, folded-text pattern); earlier entries win at the same position. Tier 0 labels may
# take their value from the line below, tiers 1 and 2 (generic words, 2 the weakest) only from the same
# line unless they stand alone.
# Field "" marks label-like phrases to skip (identifier labels, "code client", other documents' numbers).
LABELS: tuple[tuple[str, int, str], ...] = (
    ("BT-1", 3, r"(?:code|ref\.?|reference|id)\s+client|client\s+" + NO + r"|(?:n\s?[°o]\.?\s*)?client\s+id"),
    ("BT-1", 3, NO + r"\s*(?:de\s+)?client|[nv]\s?/\s?ref\.?|vos\s+references?|nos\s+references?"),
    ("", 0, r"objet|betreff|oggetto|asunto"),
    (
        "BT-1",
        3,
        NO + r"\s*(?:de\s+)?(?:la\s+)?facture\s+(?:associee|d'origine|initiale|precedente|rectifiee)"
        r"|(?:previous|original|referenced?|related|preceding)\s+invoice(?:\s+" + NO + r")?"
        r"|invoice\s+reference|bezug(?:s?rechnung)?|ursprungsrechnung|(?:ref|reference)\s+(?:comptable|projet|appel"
        r"\s+d'offres|avis\s+de\s+paiement)|payment\s+reference|verwendungszweck|account\s+ref",
    ),
    (
        "BT-1",
        3,
        r"kunden[\s-]?(?:nr|nummer|no)\.?|(?:bestell|auftrags|lieferschein|vertrags)[\s-]?(?:nr|nummer|no)\.?"
        r"|customer\s+(?:no|number|id|ref\w*)\.?|(?:klant|order|debiteur)[\s-]?(?:nummer|nr)\.?"
        r"|(?:numero\s+de\s+)?(?:pedido|cliente|albaran)\s*"
        + NO
        + r"?|(?:rif\.?|n\.)\s+ordine|codice\s+cliente",
    ),
    (
        "",
        0,
        r"adresse\s+de\s+livraison|livr(?:e|er|aison)\s+a|ship(?:ped)?\s+to|deliver(?:y|ed)\s+(?:to|address)",
    ),
    ("", 0, NO + r"\s*(?:de\s+)?" + _TVA + r"(?:\s*intra\w*)?|" + _TVA + r"\s*intra[\w.-]*"),
    ("", 0, r"identifiant\s+tva|vat\s+(?:number|no|id|reg\w*)|" + _TVA + r"\s+non\s+applicable"),
    ("", 0, r"(?:uw\s+)?btw[\s-]?(?:nummer|nr|id)\.?|ust-?id(?:nr)?\.?|steuer-?nr\.?"),
    ("", 0, r"iban|bic|swift|siret|siren|rcs|code\s+(?:banque|guichet)|cle\s+rib|capital(?:\s+social)?"),
    (
        "BT-1",
        3,
        NO + r"\s*(?:de\s+)?(?:bon\s+de\s+)?(?:commande|livraison|vente|reception|contrat)"
        r"|(?:bon\s+de\s+)?(?:commande|livraison)\s*"
        + NO
        + r"?|(?:order|po|devis|quote|contrat|dossier)\s*"
        + NO,
    ),
    ("", 0, r"date\s+de\s+naissance"),
    (
        "BT-2",
        3,
        r"date\s+(?:de\s+)?(?:livraison|commande|prestation|debut|fin|facture\s+associee)"
        r"|date\s+(?:de\s+)?(?:debut|fin)\s+de\s+prestation|(?:delivery|order|service|shipping)\s+date"
        r"|(?:order|bestel|lever|liefer|bestell|leistungs)\s?datum|liefer-?\s+und\s+leistungsdatum"
        r"|(?:bestellung|lieferung)\s+vom|fecha\s+de\s+(?:entrega|pedido)|data\s+(?:di\s+)?(?:consegna|ordine)",
    ),
    ("", 0, r"acompte(?:\s+verse)?|deja\s+(?:paye|regle)|remise|escompte|paid\s+to\s+date"),
    ("", 0, r"(?:erhaltene\s*)?anzahlung\w*|gesamtbetrag\s*der\s*(?:zuschlage|abschlage)|skonto"),
    (
        "BT-9",
        0,
        r"date\s+(?:d'|de\s+l')?\s*echeance|echeance(?:\s+le)?|due\s+date|date\s+due|payment\s+due(?:\s+date)?",
    ),
    (
        "BT-9",
        0,
        r"date\s+limite(?:\s+de(?:\s+(?:paiement|reglement))?)?(?:\s+le)?|(?:a\s+)?(?:payer|regler)\s+(?:avant|au\s+plus\s+tard)(?:\s+le)?",
    ),
    ("BT-9", 0, r"payable\s+(?:avant\s+)?le|due\s+(?:by|on)|pay\s+by|date\s+de\s+(?:reglement|paiement)"),
    ("BT-9", 0, r"(?:regle|payee?|acquittee?)s?\s+au\s+plus\s+tard\s+le|au\s+plus\s+tard\s+le"),
    ("BT-9", 0, r"verval\s?datum|falligkeits?datum|fallig\s+(?:am|bis)|zahlungsziel|zahlbar\s+bis"),
    ("BT-9", 0, r"(?:fecha\s+de\s+)?vencimiento|(?:data\s+(?:di\s+)?)?scadenza|te\s+betalen\s+voor"),
    ("BT-2", 0, r"date\s+(?:de\s+(?:la\s+)?)?(?:facture|facturation|l'avoir)|date\s+d'\s*emission"),
    (
        "BT-2",
        0,
        r"invoice\s+date|date\s+of\s+(?:issue|invoice)|issue\s+date|issued\s+on|facture\s+du|emise?\s+le",
    ),
    ("BT-2", 0, r"facturee?\s+le|dated|date\s+issued|^[a-z][a-z' -]+,\s+le(?=\s+\d)"),
    ("BT-2", 0, r"rechnungs\s?datum|f\s?actuur\s?datum|^date(?=\s*:)|(?<=[0-9]\s)du(?=\s+\d)"),
    (
        "BT-2",
        0,
        r"belegdatum|fecha(?:\s+de\s+(?:la\s+)?(?:factura|emision|expedicion))?|data\s+(?:di\s+)?"
        r"(?:emissione|fattura|documento)|(?<=[0-9]\s)vom(?=\s+\d)",
    ),
    (
        "BT-44",
        0,
        r"facturee?s?\s+a|facturer\s+a|doit|bill(?:ed)?\s?to|invoice\s+to|sold\s+to|adressee?\s+a|des\s?tinataire"
        r"|adresse\s+de\s+facturation|adresse\s+du\s+client|rechnungs\s?empfanger|leistungsempfanger|kaufer"
        r"|sold\s+to|cliente|destinatario|klant|afnemer|customer",
    ),
    ("BT-1", 0, r"(?:facture|invoice|avoir|credit\s+(?:note|memo))\s*" + NO + r"(?:\s*de\s+facture)?"),
    ("BT-1", 0, NO + r"\s*(?:de\s+)?(?:la\s+)?(?:facture|d'avoir|avoir|invoice)"),
    ("BT-1", 0, NO + r"\s*de\s+piece|numero\s+de\s+piece|piece\s+" + NO),
    ("BT-1", 0, r"invoice\s+(?:id|ref(?:erence)?)|ref(?:erence)?\.?\s*(?:de\s+(?:la\s+)?)?facture"),
    ("BT-1", 0, r"rechnungs?[\s-]?(?:nr|nummer|no)\.?|f\s?actuur\s?(?:nr|nummer|no)\.?"),
    ("BT-1", 0, r"(?:handels|schluss)?rechnung\s+" + NO + r"|beleg[\s-]?(?:nr|nummer)\.?|gutschrift\s+" + NO),
    (
        "BT-1",
        0,
        r"(?:numero\s+de\s+)?factura\s*" + NO + r"?|(?:numero|n\.)\s+(?:di\s+)?fattura|fattura\s+" + NO,
    ),
    (HT, 0, r"(?:sous[\s-]?)?total\s+(?:net\s+)?(?:\(?" + _HT + r"\)?|hors\s+tax\w*)"),
    (HT, 0, r"(?:montant|base|prix)\s+(?:total\s+)?(?:net\s+)?(?:" + _HT + r"|hors\s+tax\w*)|net\s+" + _HT),
    (HT, 0, r"sub[\s-]?total(?:\s*\(\s*(?:excl\.?|excluding|hors|before)\s+(?:vat|tax\w*|tva)\s*\))?"),
    (HT, 0, r"(?:total|amount)\s+(?:excl\.?|excluding|before|without|net\s+of|ex\.?)\s+(?:vat|tax\w*)"),
    (HT, 0, r"total\s+net|net\s+(?:amount|total)|sous[\s-]?total|total\s+" + _HT),
    (HT, 0, r"exclusief\s+btw|excl\.?\s+btw|grondslag|netto\s?(?:betrag|summe|bedrag)|subtotaal"),
    (
        HT,
        0,
        r"rechnungssumme\s*ohne\s*ust\.?|summe\s+ohne\s+ust\.?|nettosumme|summe\s+(?:der\s+)?nettobetrage",
    ),
    (HT, 1, r"positionssumme|summe\s+(?:der\s+)?positionen"),
    (
        HT,
        0,
        r"(?:summe|gesamt)\s+netto|warenwert|base\s+imponible|(?:totale\s+)?imponibile|total\s+hors\s+taxes?",
    ),
    (TVA, 0, r"(?:total|montant)\s+(?:de\s+la\s+|total\s+|des\s+)?" + _TVA + r"|total\s+(?:vat|tax(?:es)?)"),
    (TVA, 0, r"(?:vat|tax)\s+amount|sales\s+tax"),
    (TVA, 0, r"btw[\s-]?bedrag|mwst\.?[\s-]?betrag|umsatzsteuer|mehrwertsteuer|steuerbetrag|total\s+taxes"),
    (
        TVA,
        0,
        r"(?:summe|gesamt)\s+(?:ust|mwst)\.?|(?:cuota|total|importe)\s+(?:de\s+)?iva|totale\s+iva|imposta",
    ),
    (TTC, 0, r"(?:total|montant)\s+(?:total\s+|net\s+)?" + _TTC + r"|grand\s+total|total\s+facture"),
    (TTC, 0, r"total\s+(?:incl\.?|including|inc\.?)\s+(?:vat|tax\w*)|invoice\s+total|total\s+general"),
    (TTC, 0, r"total\s+toutes\s+taxes(?:\s+comprises)?|total\s+amount|montant\s+total"),
    (TTC, 0, r"factuur\s?totaal|totaal\s+(?:incl\.?|inclusief)\s+btw|(?:gesamt|rechnungs|end)betrag"),
    (TTC, 0, r"bruttosumme|rechnungssumme(?:\s*(?:mit|inkl\.?)\s*ust\.?)?|gesamtbetrag\s+brutto"),
    (TTC, 0, r"total\s+for\s+this\s+invoice|(?:summe|gesamt)\s+brutto|brutto\s?betrag|gesamtsumme"),
    (TTC, 0, r"(?:importe\s+)?total\s+(?:de\s+la\s+)?factura|importe\s+total|totale\s+(?:documento|fattura)"),
    (
        DUE,
        0,
        r"net\s+a\s+payer|montant\s+(?:du|a\s+regler|a\s+payer)|reste\s+(?:a\s+payer|du)|(?:total|somme)\s+(?:a\s+payer|due?)",
    ),
    (DUE, 0, r"solde\s+(?:a\s+payer|du)|amount\s+(?:due|payable)|balance\s+due|total\s+due|a\s+regler"),
    (
        DUE,
        0,
        r"zahlbetrag|zu\s+zahlen(?:der\s+betrag)?|offener\s+betrag|total\s+a\s+pagar|netto\s+a\s+pagare"
        r"|totale\s+da\s+pagare|te\s+betalen",
    ),
    ("BT-27", 0, r"vendeur|fournisseur|emetteur|prestataire|seller|supplier|vendor|raison\s+sociale"),
    ("BT-27", 0, r"verkaufer|lieferant|rechnungssteller|emisor|proveedor|fornitore|cedente|leverancier"),
    ("BT-27", 1, r"^(?:from|de\s+la\s+part\s+de|expediteur)"),
    ("BT-44", 1, r"client|customer|acheteur|buyer|pour(?=\s*(?::|$))|^to(?=\s*:)"),
    (TVA, 1, _TVA + r"|vat|tax|btw|mwst\.?"),
    (TTC, 1, r"total|totaal|" + _TTC),
    ("BT-2", 1, r"date|datum|data|(?:le|du|of|dated|vom)(?=\s+\d)"),
    (
        "BT-1",
        1,
        r"facture|invoice|avoir|n\s?[°º]|factuur|rechnung|factura|fattura|nr\.?|no\.|numero|nummer|number",
    ),
    ("BT-1", 2, r"reference|ref\."),  # any reference: a customer's too, so it yields to the above
)
TIER_CONF = (0.9, 0.7, 0.6, 0.25)  # tier 3: another number's or date's label (a distractor)


@cache
def label_regex() -> re.Pattern[str]:
    parts = (f"(?P<g{i}>{pat})" for i, (_, _, pat) in enumerate(LABELS))
    return re.compile(r"(?<![a-z0-9_])(?:" + "|".join(parts) + r")" + _D)


@dataclass(frozen=True)
class Hit:
    """A label found in a segment and the text that follows it up to the next label."""

    field: str
    tier: int
    seg: Segment
    start: int  # of the value region in seg.text
    end: int
    label_x: tuple[float, float]


def hits(segs: Sequence[Segment]) -> list[Hit]:
    out: list[Hit] = []
    for seg in segs:
        matches = list(label_regex().finditer(fold(seg.text)))
        for i, m in enumerate(matches):
            index = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
            field, tier, _ = LABELS[index]
            end = matches[i + 1].start() if i + 1 < len(matches) else len(seg.text)
            width = (seg.x1 - seg.x0) / max(len(seg.text), 1)
            box = (seg.x0 + m.start() * width, seg.x0 + m.end() * width)
            if field:
                out.append(Hit(field, tier, seg, m.end(), end, box))
    return out


def first_label(text: str) -> tuple[str, int] | None:
    """The field of the first label in ``text`` ("" for a phrase to skip, such as "Date de livraison")
    and where it starts."""
    m = label_regex().search(fold(text))
    if m is None:
        return None
    return LABELS[int(next(k for k, v in m.groupdict().items() if v)[1:])][0], m.start()


def starts_with_label(seg: Segment) -> bool:
    m = label_regex().search(fold(seg.text))
    return m is not None and m.start() <= 2


def value_regions(hit: Hit, lines: Lines) -> Iterable[tuple[Segment, int, int, float]]:
    """Where a label's value may be, with a weight: after it, in the segments to its right, or in the
    two lines below (tier 0 labels, and labels standing alone as in a column header)."""
    yield hit.seg, hit.start, hit.end, 1.0
    seg: Segment | None = hit.seg
    for _ in range(3 if hit.end == len(hit.seg.text) else 0):  # values right of a segment's last label
        seg = right_of(lines, seg) if seg else None
        if seg is None or starts_with_label(seg):
            break
        yield seg, 0, len(seg.text), 1.0  # "T.V.A. | : 20 % | 2 761,01 EUR": a rate may come first
    rest = hit.seg.text[hit.start : hit.end]
    bare = not any(c.isalnum() for c in rest) or (
        hit.field not in _NAMES and not any(c.isdigit() for c in rest)
    )
    if hit.tier in (0, 3) or bare:  # a label without a value beside it ("Date: d'émission", "Client")
        lo, hi = hit.label_x[0], max(hit.label_x[1], hit.seg.x1)
        for under in below(lines, hit.seg, lo, hi, depth=2):  # 2: "Date limite de / paiement / 8 août"
            if starts_with_label(under):
                break
            yield under, 0, len(under.text), 1.0 if under.line == hit.seg.line + 1 else 0.9
