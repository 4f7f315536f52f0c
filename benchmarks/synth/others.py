"""Supporting documents: RIB, proof of address, identity card mock, tax notice, a plain letter."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from benchmarks.synth.draw import HEIGHT, WIDTH, finish, new_page
from benchmarks.synth.model import BANKS, party, person
from benchmarks.synth.style import Style, amount_fr_space
from cli.sample_invoices import fake_french_iban, group4

# (pdf, expected fields) from a style and a seeded generator
Maker = Callable[[Style, random.Random], tuple[bytes, dict[str, str]]]


def bank_details(style: Style, rng: random.Random) -> tuple[bytes, dict[str, str]]:
    """Relevé d'identité bancaire: holder, domiciliation, bank/branch/account/key, IBAN, BIC."""
    code, bic, bank = rng.choice(BANKS)
    iban = fake_french_iban(rng, bank_code=code)
    holder = party(rng)
    page, buf = new_page(style, "RIB")
    page.text(
        50,
        HEIGHT - 70,
        rng.choice(("RELEVÉ D'IDENTITÉ BANCAIRE", "Relevé d'Identité Bancaire (RIB)")),
        bold=True,
        size=15,
    )
    y = page.lines(
        50,
        HEIGHT - 110,
        [
            "Titulaire du compte :",
            f"  {holder.name}",
            f"  {holder.street}",
            f"  {holder.postcode} {holder.city}",
            "",
            "Domiciliation :",
            f"  {bank} — agence {holder.city}",
        ],
    )
    bban = iban[4:]
    for i, (label, value) in enumerate(
        (
            ("Code banque", bban[:5]),
            ("Code guichet", bban[5:10]),
            ("N° de compte", bban[10:21]),
            ("Clé RIB", bban[21:]),
        )
    ):
        page.text(50 + i * 120, y - 10, label, bold=True)
        page.text(50 + i * 120, y - 28, value)
    page.text(50, y - 70, f"IBAN : {group4(iban)}", bold=True, size=12)
    page.text(50, y - 90, f"BIC : {bic}", bold=True, size=12)
    return finish(page, buf), {"BT-84": iban}


def proof_of_address(style: Style, rng: random.Random) -> tuple[bytes, dict[str, str]]:
    """An electricity bill summary or a sworn 'attestation de domicile'."""
    first, last, street, postcode, city = person(rng)
    day = date(2025, 1, 1) + timedelta(days=rng.randint(0, 500))
    page, buf = new_page(style, "Justificatif de domicile")
    if rng.random() < 0.5:
        page.text(
            50,
            HEIGHT - 60,
            rng.choice(("Électricité Lumière de France", "Énergie Verte Distribution")),
            bold=True,
            size=15,
        )
        page.text(50, HEIGHT - 90, "Facture d'électricité — justificatif de domicile", bold=True, size=12)
        rows = [
            f"Titulaire du contrat : {first} {last}",
            f"Adresse de consommation : {street}, {postcode} {city}",
            f"Point de livraison (PDL) : {rng.randint(10**13, 10**14 - 1)}",
            f"Période de consommation du {day:%d/%m/%Y} au {day + timedelta(days=60):%d/%m/%Y}",
            f"Consommation : {rng.randint(200, 1500)} kWh — option Base {rng.choice((6, 9, 12))} kVA",
            f"Montant de la période : {amount_fr_space(Decimal(rng.randint(5000, 40000)) / 100)}",
            "Ce document vaut justificatif de domicile.",
        ]
    else:
        page.text(50, HEIGHT - 80, "ATTESTATION D'HÉBERGEMENT / DE DOMICILE", bold=True, size=14)
        rows = [
            f"Je soussigné(e) {first} {last},",
            f"demeurant {street}, {postcode} {city},",
            "atteste sur l'honneur que la personne ci-dessous réside à mon domicile",
            "depuis le " + day.strftime("%d/%m/%Y") + ".",
            f"Fait à {city}, le {(day + timedelta(days=400)):%d/%m/%Y},",
            "pour servir et valoir ce que de droit.",
            "Signature :",
        ]
    page.lines(50, HEIGHT - 140, rows)
    return finish(page, buf), {}


def identity_document(style: Style, rng: random.Random) -> tuple[bytes, dict[str, str]]:
    """A card-sized mock of a French identity card, marked SPECIMEN, with obviously fictitious data."""
    first, last, _, _, city = person(rng)
    page, buf = new_page(style, "Carte d'identité (spécimen)")
    x, y, w, h = 60, HEIGHT - 330, 470, 290
    page.canvas.setFillColorRGB(0.9, 0.93, 0.97)
    page.canvas.roundRect(x, y, w, h, 12, stroke=1, fill=1)
    page.canvas.setFillColorRGB(0.75, 0.75, 0.75)
    page.canvas.rect(x + 20, y + 40, 110, 140, stroke=1, fill=1)
    page.canvas.setFillColorRGB(0, 0, 0)
    page.text(x + 20, y + h - 30, "RÉPUBLIQUE FRANÇAISE", bold=True, size=13)
    page.text(x + 20, y + h - 50, "CARTE NATIONALE D'IDENTITÉ — SPÉCIMEN", bold=True, size=11)
    born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000))
    rows = [
        f"Nom : {last}",
        f"Prénom(s) : {first}",
        f"Sexe : {rng.choice('FM')}   Nationalité : FRA",
        f"Date de naissance : {born:%d %m %Y}",
        f"Lieu de naissance : {city.upper()}",
        f"N° du document : X{rng.randint(0, 99999999):08d}Z",
        "Document fictif — exemple de test",
    ]
    page.lines(x + 150, y + h - 80, rows)
    page.text(x + 20, y + 15, f"IDFRA{last[:12]:<<12}<<<<<<<<<<<<<<<{rng.randint(100000, 999999)}", size=9)
    return finish(page, buf), {}


def tax_notice(style: Style, rng: random.Random) -> tuple[bytes, dict[str, str]]:
    """An 'avis d'impôt sur le revenu' summary with fiscal number and reference income."""
    first, last, street, postcode, city = person(rng)
    year = rng.choice((2023, 2024, 2025))
    page, buf = new_page(style, "Avis d'impôt")
    page.text(50, HEIGHT - 60, "DIRECTION GÉNÉRALE DES FINANCES PUBLIQUES", bold=True, size=12)
    page.text(
        50, HEIGHT - 90, f"AVIS D'IMPÔT {year + 1} SUR LES REVENUS DE L'ANNÉE {year}", bold=True, size=14
    )
    rows = [
        f"{first} {last}",
        street,
        f"{postcode} {city}",
        "",
        f"Numéro fiscal : {rng.randint(10**12, 10**13 - 1)}",
        f"Référence de l'avis : {rng.randint(10**12, 10**13 - 1)}",
        f"Revenu fiscal de référence : {rng.randint(12000, 90000)} €",
        f"Nombre de parts : {rng.choice(('1', '1,5', '2', '2,5', '3'))}",
        f"Impôt sur le revenu net : {rng.randint(0, 9000)} €",
        "Montant restant à payer : 0 €  (prélevé à la source)",
    ]
    page.lines(50, HEIGHT - 140, rows)
    return finish(page, buf), {}


def letter(style: Style, rng: random.Random) -> tuple[bytes, dict[str, str]]:
    """A plain business letter (courrier) with no amounts to pay."""
    sender = party(rng)
    first, last, street, postcode, city = person(rng)
    page, buf = new_page(style, "Courrier")
    page.lines(
        50, HEIGHT - 60, [sender.name, sender.street, f"{sender.postcode} {sender.city}"], bold_first=True
    )
    page.lines(WIDTH - 240, HEIGHT - 150, [f"{first} {last}", street, f"{postcode} {city}"])
    day = date(2025, 1, 1) + timedelta(days=rng.randint(0, 500))
    page.text(WIDTH - 240, HEIGHT - 220, f"{sender.city}, le {day:%d/%m/%Y}")
    subject = rng.choice(
        (
            "Objet : changement d'horaires d'ouverture",
            "Objet : invitation à notre journée portes ouvertes",
            "Objet : suite à notre entretien téléphonique",
        )
    )
    page.text(50, HEIGHT - 260, subject, bold=True)
    body = [
        "Madame, Monsieur,",
        "",
        "Nous avons le plaisir de vous informer que notre équipe reste à votre disposition",
        "pour toute question relative à nos services. Nos bureaux vous accueillent du lundi",
        "au vendredi, de 9 h à 18 h, sans interruption.",
        "",
        "Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées.",
        "",
        "La direction",
    ]
    page.lines(50, HEIGHT - 290, body)
    return finish(page, buf), {}


MAKERS: dict[str, Maker] = {
    "bank_details": bank_details,
    "proof_of_address": proof_of_address,
    "identity_document": identity_document,
    "tax_notice": tax_notice,
    "other": letter,
}
