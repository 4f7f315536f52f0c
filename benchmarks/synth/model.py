"""Synthetic ground truth: fictitious French companies, invoice lines, and the document record."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from cli.sample_invoices import InvoiceData, Line, Party, fake_french_iban, fake_siret, french_vat

BANKS = (
    ("30004", "BNPAFRPPXXX", "BNP Paribas"),
    ("30003", "SOGEFRPPXXX", "Société Générale"),
    ("10278", "CMCIFR2AXXX", "Crédit Mutuel"),
    ("20041", "PSSTFRPPXXX", "La Banque Postale"),
    ("11306", "AGRIFRPP813", "Crédit Agricole"),
    ("30066", "CMCIFRPPXXX", "CIC"),
)
CITIES = (
    ("35000", "Rennes"),
    ("69003", "Lyon"),
    ("31000", "Toulouse"),
    ("44000", "Nantes"),
    ("13001", "Marseille"),
    ("67000", "Strasbourg"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("75011", "Paris"),
    ("21000", "Dijon"),
    ("29200", "Brest"),
    ("63000", "Clermont-Ferrand"),
)
STREETS = (
    "rue des Lilas",
    "avenue Jean Jaurès",
    "boulevard Voltaire",
    "rue de la Gare",
    "place du Marché",
    "chemin des Vignes",
    "rue Victor Hugo",
    "allée des Tilleuls",
    "route de Paris",
    "quai Saint-Pierre",
)
TRADES = (
    (
        "Papeterie",
        (
            "Ramettes papier A4 80 g",
            "Classeurs à levier",
            "Stylos bille (boîte de 50)",
            "Enveloppes C5 (x500)",
            "Agendas 2026",
        ),
    ),
    (
        "Garage",
        (
            "Révision véhicule",
            "Pneumatiques 195/65 R15",
            "Main d'oeuvre (heures)",
            "Plaquettes de frein",
            "Vidange moteur",
        ),
    ),
    (
        "Boulangerie",
        ("Pains de campagne", "Viennoiseries assorties", "Tartes aux fruits", "Baguettes tradition"),
    ),
    (
        "Informatique",
        (
            "Ordinateur portable 14 pouces",
            "Licence logiciel annuelle",
            "Écran 27 pouces",
            "Maintenance (heures)",
            "Câbles réseau Cat 6",
        ),
    ),
    ("Plomberie", ("Remplacement chauffe-eau", "Déplacement", "Raccords cuivre", "Main d'oeuvre")),
    ("Traiteur", ("Buffet 30 personnes", "Boissons", "Service en salle (heures)", "Location vaisselle")),
    ("Imprimerie", ("Cartes de visite (x1000)", "Flyers A5 (x5000)", "Affiches A2", "Mise en page")),
    ("Nettoyage", ("Entretien des bureaux", "Nettoyage vitres", "Produits d'entretien")),
)
SURNAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Garnier",
    "Rousseau",
    "Faure",
    "Girard",
    "Bonnet",
    "Mercier",
    "Blanc",
    "Guérin",
    "Chevalier",
    "Fontaine",
)
FORMS = ("SARL", "SAS", "EURL", "SA", "et Fils", "& Associés", "")
BUYERS = (
    "Mairie de {city}",
    "Collège Jules Ferry",
    "Clinique du Parc",
    "Association Les Amis de {city}",
    "Cabinet {name} Conseil",
    "Hôtel de la Poste",
    "Lycée Condorcet",
    "Restaurant Le Central",
    "{name} Immobilier SAS",
    "Syndicat des eaux de {city}",
)
FIRST_NAMES = ("Camille", "Louise", "Jules", "Hugo", "Léa", "Arthur", "Chloé", "Lucas")
RATES = (Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"))

DOC_TYPES = (
    "invoice",
    "credit_note",
    "bank_details",
    "proof_of_address",
    "identity_document",
    "tax_notice",
    "other",
)


@dataclass(frozen=True)
class SynthDoc:
    """One generated document: its PDF, its class and what `extract --json` should report."""

    name: str
    doc_type: str  # a DocType value
    layout: str
    language: str
    pdf: bytes
    expected: dict[str, str] = field(default_factory=dict)  # contract forms, only what is printed


def party(rng: random.Random, *, with_vat: bool = True) -> Party:
    trade = rng.choice(TRADES)[0]
    form = rng.choice(FORMS)
    name = f"{trade} {rng.choice(SURNAMES)} {form}".strip()
    postcode, city = rng.choice(CITIES)
    siret = fake_siret(rng)
    street = f"{rng.randint(1, 120)} {rng.choice(STREETS)}"
    return Party(name, street, postcode, city, siret, french_vat(siret) if with_vat else None)


def buyer(rng: random.Random) -> Party:
    postcode, city = rng.choice(CITIES)
    name = rng.choice(BUYERS).format(city=city, name=rng.choice(SURNAMES))
    street = f"{rng.randint(1, 80)} {rng.choice(STREETS)}"
    return Party(name, street, postcode, city, fake_siret(rng) if rng.random() < 0.5 else None)


def person(rng: random.Random) -> tuple[str, str, str, str, str]:
    """(first name, surname, street, postcode, city) of a fictitious person."""
    postcode, city = rng.choice(CITIES)
    street = f"{rng.randint(1, 80)} {rng.choice(STREETS)}"
    return rng.choice(FIRST_NAMES), rng.choice(SURNAMES).upper(), street, postcode, city


def lines(rng: random.Random, seller_name: str, *, count: int, multi_rate: bool) -> tuple[Line, ...]:
    items = next((t[1] for t in TRADES if seller_name.startswith(t[0])), TRADES[0][1])
    main_rate = rng.choice(RATES[:3]) if rng.random() < 0.4 else RATES[0]
    out = []
    for i in range(count):
        rate = rng.choice(RATES) if multi_rate and i > 0 else main_rate
        qty = Decimal(rng.choice(("1", "2", "3", "4", "5", "6", "10", "12", "1.5", "2.5")))
        price = Decimal(rng.randint(150, 90000)) / 100
        out.append(Line(rng.choice(items), qty, price, rate))
    return tuple(out)


def invoice(rng: random.Random, *, credit: bool = False) -> InvoiceData:
    seller = party(rng, with_vat=rng.random() < 0.9)
    issued = date(2025, 1, 1) + timedelta(days=rng.randint(0, 600))
    bank_code, bic, bank = rng.choice(BANKS)
    prefix = rng.choice(("FA", "F", "FAC", "INV", "", "AV" if credit else "FCT"))
    sep = rng.choice(("-", "/", "", "_"))
    number = f"{prefix}{sep if prefix else ''}{issued.year}{sep}{rng.randint(1, 9999):04d}"
    if rng.random() < 0.2:
        number = str(rng.randint(1000, 999999))
    return InvoiceData(
        number=number,
        issue_date=issued,
        due_date=issued + timedelta(days=rng.choice((0, 15, 30, 45, 60))),
        seller=seller,
        buyer=buyer(rng),
        lines=lines(rng, seller.name, count=rng.randint(1, 7), multi_rate=rng.random() < 0.25),
        iban=fake_french_iban(rng, bank_code=bank_code),
        bic=bic,
        bank=bank,
        type_code="381" if credit else "380",
    )


def spaced(value: str, *, groups: tuple[int, ...]) -> str:
    """'12345678901234' with groups (3, 3, 3, 5) → '123 456 789 01234'."""
    out, i = [], 0
    for g in groups:
        out.append(value[i : i + g])
        i += g
    return " ".join(part for part in out if part)
