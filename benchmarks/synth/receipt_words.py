"""What till receipts print, per language: wordings, shop names, items, date and amount forms. The
held-out wordings (``WORDS[(lang, True)]``) are never used to tune the reader."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

money = Callable[[Decimal], str]
MOIS = ("janv.", "févr.", "mars", "avril", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
JOURS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def _comma(v: Decimal) -> str:
    return f"{v:.2f}".replace(".", ",")


def _euro(v: Decimal) -> str:
    return _comma(v) + " €"


def _dot(v: Decimal) -> str:
    return f"{v:.2f}"


def _eur_before(v: Decimal) -> str:
    return "EUR " + _comma(v)


def _euro_tight(v: Decimal) -> str:
    return _comma(v) + "€"


@dataclass(frozen=True)
class Words:
    ticket: tuple[str, ...]
    till: tuple[str, ...]
    cashier: tuple[str, ...]
    subtotal: tuple[str, ...]
    discount: tuple[str, ...]
    total: tuple[str, ...]
    card: tuple[str, ...]
    cash: tuple[str, ...]
    change: tuple[str, ...]
    thanks: tuple[str, ...]
    card_slip: tuple[str, ...]
    amounts: tuple[money, ...]
    vat: str = "TVA"
    rate: str = "Taux"
    base: str = "HT"
    gross: str = "TTC"
    articles: str = "NB ARTICLES"
    vat_id: str = "TVA"
    amount_word: str = "MONTANT"


FR = Words(
    ticket=("Ticket", "TICKET N°", "Ticket n°"),
    till=("Caisse", "CAISSE"),
    cashier=("Caissier", "Vendeur", "Hôtesse"),
    subtotal=("SOUS-TOTAL", "Sous total"),
    discount=("REMISE", "Remise fidélité", "Bon de réduction"),
    total=("TOTAL", "TOTAL TTC", "TOTAL EUR", "A PAYER", "MONTANT DÛ"),
    card=("CB", "CARTE BANCAIRE", "CB SANS CONTACT"),
    cash=("ESPECES", "Espèces"),
    change=("RENDU", "Rendu monnaie", "MONNAIE RENDUE"),
    thanks=("Merci de votre visite", "MERCI ET A BIENTOT", "Merci de votre visite, à bientôt !"),
    card_slip=("CARTE BANCAIRE", "TICKET CLIENT CB", "VISA SANS CONTACT"),
    amounts=(_comma, _euro, _comma),
)
FR_HELD = Words(
    ticket=("Reçu n°", "Vente n°"),
    till=("Poste", "Terminal"),
    cashier=("Servi par", "Conseiller"),
    subtotal=("TOTAL PARTIEL", "Montant brut"),
    discount=("Avantage carte", "Réduction"),
    total=("NET À PAYER", "TOTAL CLIENT", "Total à régler"),
    card=("Paiement CB", "Carte Visa"),
    cash=("Payé en espèces", "Règlement espèces"),
    change=("À rendre", "Monnaie"),
    thanks=("Au plaisir de vous revoir", "Bonne journée !"),
    card_slip=("PAIEMENT PAR CARTE", "DEBIT CARTE"),
    amounts=(_eur_before, _euro_tight),
    articles="Articles :",
)
EN = Words(
    ticket=("Receipt", "RECEIPT #", "Sales receipt"),
    till=("Till", "Register"),
    cashier=("Served by", "Cashier"),
    subtotal=("SUBTOTAL", "Sub-total"),
    discount=("DISCOUNT", "Promotion"),
    total=("TOTAL", "TOTAL DUE", "BALANCE DUE"),
    card=("CARD", "VISA", "CONTACTLESS"),
    cash=("CASH", "CASH TENDERED"),
    change=("CHANGE", "CHANGE DUE"),
    thanks=("Thank you for shopping with us", "Please come again"),
    card_slip=("CARDHOLDER COPY", "CUSTOMER COPY"),
    amounts=(_dot,),
    vat="VAT", rate="Rate", base="Net", gross="Gross", articles="ITEMS", vat_id="VAT No GB",
    amount_word="AMOUNT",
)  # fmt: skip
EN_HELD = Words(
    ticket=("Transaction", "Order #"),
    till=("POS", "Lane"),
    cashier=("Operator", "Staff"),
    subtotal=("Goods total", "Net total"),
    discount=("Saving", "Offer"),
    total=("AMOUNT PAYABLE", "TO PAY", "GRAND TOTAL"),
    card=("Card payment", "Debit card"),
    cash=("Cash paid", "Cash given"),
    change=("Change given", "Your change"),
    thanks=("Thanks for your visit", "See you soon"),
    card_slip=("CARD SALE", "PLEASE RETAIN"),
    amounts=(_dot,),
    vat="VAT", rate="Rate", base="Net", gross="Gross", articles="Items:", vat_id="VAT Reg",
    amount_word="SALE",
)  # fmt: skip
DE = Words(
    ticket=("Kassenbon", "Bon-Nr.", "Beleg-Nr."),
    till=("Kasse",),
    cashier=("Es bediente Sie", "Kassierer"),
    subtotal=("ZWISCHENSUMME",),
    discount=("RABATT",),
    total=("SUMME", "SUMME EUR", "ZU ZAHLEN", "GESAMT"),
    card=("EC-KARTE", "Girocard", "KARTENZAHLUNG"),
    cash=("BAR", "Bargeld", "GEGEBEN"),
    change=("RÜCKGELD", "ZURÜCK"),
    thanks=("Vielen Dank für Ihren Einkauf",),
    card_slip=("KUNDENBELEG", "ZAHLUNG ERFOLGT"),
    amounts=(_comma, _euro),
    vat="MwSt", rate="Satz", base="Netto", gross="Brutto", articles="ANZAHL ARTIKEL", vat_id="USt-IdNr DE",
    amount_word="BETRAG",
)  # fmt: skip
ES = Words(
    ticket=("TICKET", "FACTURA SIMPLIFICADA", "Ticket n.º"),
    till=("Caja",),
    cashier=("Le atendió", "Cajero"),
    subtotal=("SUBTOTAL",),
    discount=("DESCUENTO",),
    total=("TOTAL", "TOTAL A PAGAR", "IMPORTE"),
    card=("TARJETA", "PAGO CON TARJETA"),
    cash=("EFECTIVO", "ENTREGADO"),
    change=("CAMBIO", "DEVOLUCIÓN"),
    thanks=("Gracias por su visita", "Gracias por su compra"),
    card_slip=("COPIA CLIENTE", "OPERACIÓN APROBADA"),
    amounts=(_comma, _euro),
    vat="IVA", rate="Tipo", base="Base", gross="Total", articles="N.º ARTÍCULOS", vat_id="CIF B",
    amount_word="IMPORTE",
)  # fmt: skip
IT = Words(
    ticket=("SCONTRINO", "DOCUMENTO COMMERCIALE", "Scontrino n."),
    till=("Cassa",),
    cashier=("Operatore",),
    subtotal=("SUBTOTALE",),
    discount=("SCONTO",),
    total=("TOTALE", "TOTALE COMPLESSIVO", "TOTALE EURO"),
    card=("CARTA", "PAGAMENTO ELETTRONICO", "BANCOMAT"),
    cash=("CONTANTI", "CONTANTE"),
    change=("RESTO",),
    thanks=("Grazie e arrivederci", "Grazie per la visita"),
    card_slip=("COPIA CLIENTE", "TRANSAZIONE ESEGUITA"),
    amounts=(_comma,),
    vat="IVA", rate="Aliq.", base="Imponibile", gross="Totale", articles="N. PEZZI", vat_id="P.IVA",
    amount_word="IMPORTO",
)  # fmt: skip
WORDS = {("fr", False): FR, ("fr", True): FR_HELD, ("en", False): EN, ("en", True): EN_HELD,
         ("de", False): DE, ("es", False): ES, ("it", False): IT}  # fmt: skip

_FR_SHOPS = {
    "supermarche": ("Supermarché {name}", "MARCHÉ DU CENTRE", "Épicerie {name}", "Proxi {name}"),
    "boulangerie": ("Boulangerie {name}", "Au Fournil de {name}", "La Mie Dorée"),
    "restaurant": ("Restaurant Le Central", "Brasserie {name}", "Le Petit Bistrot", "Pizzeria {name}"),
    "station": ("Station {name}", "Relais des Routiers", "Garage {name} Carburants"),
    "pharmacie": ("Pharmacie {name}", "Pharmacie du Marché", "Parapharmacie {name}"),
    "kiosque": ("Maison de la Presse", "Tabac Presse {name}", "Le Kiosque {name}"),
}
SHOPS = {
    "fr": _FR_SHOPS,
    "en": {"supermarche": ("{name} Foods", "Corner Market"), "boulangerie": ("{name} Bakery",),
           "restaurant": ("The Red Lion", "{name}'s Diner"), "station": ("{name} Fuel Stop",),
           "pharmacie": ("{name} Chemist",), "kiosque": ("News & Co", "{name} Newsagent")},
    "de": {"supermarche": ("Markt {name}", "Frischemarkt"), "boulangerie": ("Bäckerei {name}",),
           "restaurant": ("Gasthaus zur Post", "Café {name}"), "station": ("Tankstelle {name}",)},
    "es": {"supermarche": ("Supermercado {name}",), "boulangerie": ("Panadería {name}",),
           "restaurant": ("Restaurante El Puerto", "Cafetería {name}"), "station": ("Gasolinera {name}",)},
    "it": {"supermarche": ("Alimentari {name}",), "boulangerie": ("Panificio {name}",),
           "restaurant": ("Trattoria da {name}", "Ristorante Il Faro"), "station": ("Stazione {name}",)},
}  # fmt: skip
# (label, lowest and highest price in cents, VAT rate)
ITEMS: dict[str, tuple[tuple[str, int, int, str], ...]] = {
    "supermarche": (("LAIT DEMI-ECREME 1L", 89, 135, "5.5"), ("PAIN DE MIE", 119, 229, "5.5"),
                    ("POMMES GOLDEN", 199, 349, "5.5"), ("CAFE MOULU 250G", 259, 489, "5.5"),
                    ("EAU MINERALE 6X1.5L", 189, 329, "5.5"), ("LESSIVE LIQUIDE", 599, 1299, "20"),
                    ("PAPIER TOILETTE X12", 399, 799, "20"), ("YAOURTS NATURE X8", 149, 299, "5.5")),
    "boulangerie": (("BAGUETTE TRADITION", 110, 135, "5.5"), ("CROISSANT", 105, 140, "5.5"),
                    ("PAIN AU CHOCOLAT", 115, 155, "5.5"), ("TARTE AUX FRAISES", 1850, 2890, "5.5"),
                    ("SANDWICH JAMBON", 450, 690, "10"), ("CAFE", 120, 220, "10")),
    "restaurant": (("MENU DU JOUR", 1450, 2200, "10"), ("PLAT DU JOUR", 1200, 1800, "10"),
                   ("CAFE", 180, 290, "10"), ("EAU GAZEUSE 50CL", 350, 550, "10"),
                   ("VERRE DE VIN ROUGE", 450, 750, "20"), ("DESSERT MAISON", 650, 950, "10")),
    "station": (("SP95-E10", 4500, 8900, "20"), ("GAZOLE", 4000, 9500, "20"),
                ("LAVAGE AUTO", 900, 1500, "20"), ("LAVE-GLACE 5L", 599, 899, "20"),
                ("CAFE DISTRIBUTEUR", 150, 250, "10")),
    "pharmacie": (("DOLIPRANE 1000MG", 195, 245, "2.1"), ("CREME SOLAIRE SPF50", 1290, 1990, "20"),
                  ("SERUM PHYSIOLOGIQUE", 290, 490, "5.5"), ("BROSSE A DENTS", 350, 690, "20"),
                  ("VITAMINE C", 590, 990, "5.5")),
    "kiosque": (("QUOTIDIEN", 250, 350, "2.1"), ("MAGAZINE", 390, 690, "2.1"),
                ("CARTE POSTALE", 100, 200, "20"), ("CONFISERIE", 150, 290, "5.5"),
                ("PILES AA X4", 490, 790, "20")),
}  # fmt: skip


def date_text(when: datetime, rng: random.Random, lang: str, *, heldout: bool = False) -> str:
    """The sale's date and time as a till prints it."""
    d, t = when, f"{when:%H:%M}"
    forms: tuple[str, ...]
    if heldout and lang == "fr":
        forms = (f"{d.day} {MOIS[d.month - 1]} {d.year} {d:%Hh%M}", f"Le {d:%d-%m-%Y} à {d:%Hh%M}",
                 f"{JOURS[d.weekday()]} {d.day} {MOIS[d.month - 1]} {d:%y} {t}")  # fmt: skip
    elif lang == "en":
        forms = (f"{d:%d/%m/%Y} {t}", f"{d.day} {MONTHS[d.month - 1]} {d.year} {t}")
    elif lang == "de":
        forms = (f"{d:%d.%m.%Y} {t}", f"{d:%d.%m.%y} {t} Uhr")
    elif lang == "it":
        forms = (f"{d:%d-%m-%Y} {t}", f"{d:%d/%m/%y} ore {t}")
    else:
        forms = (f"{d:%d/%m/%Y} {t}", f"{d:%d/%m/%y} {d:%H:%M:%S}", f"{d:%d.%m.%Y} {t}", f"{d:%Y-%m-%d} {t}")
    return rng.choice(forms)
