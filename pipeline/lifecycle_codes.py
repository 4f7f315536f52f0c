"""Lifecycle statuses (cycle de vie, DGFiP specifications v3.2 §3.6.4, XP Z12-012): codes, reasons, sides.

The allowed reasons per status mirror rule BR-FR-CDV-CL-09 of the BR-FR-CDV schematron (the
authority; tests/test_cdar.py reads the XSLT and checks that this table still agrees with it).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Code(IntEnum):
    DEPOSEE = 200
    EMISE = 201
    RECUE = 202
    MISE_A_DISPOSITION = 203
    PRISE_EN_CHARGE = 204
    APPROUVEE = 205
    APPROUVEE_PARTIELLEMENT = 206
    EN_LITIGE = 207
    SUSPENDUE = 208
    COMPLETEE = 209
    REFUSEE = 210
    PAIEMENT_TRANSMIS = 211
    ENCAISSEE = 212
    REJETEE = 213
    IRRECEVABLE = 501

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    Code.DEPOSEE: "Déposée",
    Code.EMISE: "Émise par la plateforme",
    Code.RECUE: "Reçue par la plateforme",
    Code.MISE_A_DISPOSITION: "Mise à disposition",
    Code.PRISE_EN_CHARGE: "Prise en charge",
    Code.APPROUVEE: "Approuvée",
    Code.APPROUVEE_PARTIELLEMENT: "Approuvée partiellement",
    Code.EN_LITIGE: "En litige",
    Code.SUSPENDUE: "Suspendue",
    Code.COMPLETEE: "Complétée",
    Code.REFUSEE: "Refusée",
    Code.PAIEMENT_TRANSMIS: "Paiement transmis",
    Code.ENCAISSEE: "Encaissée",
    Code.REJETEE: "Rejetée",
    Code.IRRECEVABLE: "Irrecevable",
}
# MDT-106 as the Annexe B examples write it, where it differs from the label above.
CDAR_LABELS = {Code.EMISE: "Émise", Code.RECUE: "Reçue"}


class Side(StrEnum):
    """Who may set a status: the buyer (our organisation), the supplier, or a platform."""

    BUYER = "buyer"
    SUPPLIER = "supplier"
    PLATFORM = "platform"


SIDES = {
    **{c: Side.BUYER for c in (204, 205, 206, 207, 208, 210, 211)},
    **{c: Side.SUPPLIER for c in (209, 212)},
    **{c: Side.PLATFORM for c in (200, 201, 202, 203, 213, 501)},
}
MANDATORY_REASON = frozenset({206, 207, 208, 210, 213, 501})  # BR-FR-CDV-15
# After these nothing moves, except a further 212 (a partial collection followed by the rest).
TERMINAL = frozenset({210, 212, 213, 501})
FIRST = frozenset({200, 213, 501})  # what the receiving platform says first

REASONS = {
    "RETRAIT_MAN_SERV": "Retrait du mandat de service",
    "ST_CT_NON_DECLAR": "Sous-traitant non déclaré",
    "SUPPR_COMP_AVOIR": "Suppression compensée par un avoir",
    "TRANSF_PMNT_REGIE": "Paiement transféré à la régie",
    "CONTACT_ACHTR": "Contacter l'acheteur",
    "NON_TRANSMISE": "Destinataire non connecté",
    "JUSTIF_ABS": "Justificatif absent ou insuffisant",
    "ROUTAGE_ERR": "Erreur de routage",
    "AUTRE": "Autre motif",
    "COORD_BANC_ERR": "Coordonnées bancaires erronées",
    "TX_TVA_ERR": "Taux de TVA erroné",
    "MONTANTTOTAL_ERR": "Montant total erroné",
    "CALCUL_ERR": "Erreur de calcul",
    "NON_CONFORME": "Mentions légales non conformes",
    "DOUBLON": "Facture en doublon",
    "DEST_INC": "Destinataire inconnu",
    "DEST_ERR": "Destinataire erroné",
    "TRANSAC_INC": "Transaction inconnue",
    "EMMET_INC": "Émetteur inconnu",
    "CONTRAT_TERM": "Contrat terminé",
    "DOUBLE_FACT": "Double facturation",
    "CMD_ERR": "Référence de commande erronée ou absente",
    "ADR_ERR": "Adresse erronée",
    "SIRET_ERR": "SIRET erroné ou absent",
    "CODE_ROUTAGE_ERR": "Code de routage erroné ou absent",
    "REF_CT_ABSENT": "Référence contractuelle absente",
    "REF_ERR": "Référence erronée",
    "PU_ERR": "Prix unitaire erroné",
    "REM_ERR": "Remise erronée",
    "QTE_ERR": "Quantité erronée",
    "ART_ERR": "Article erroné",
    "MODPAI_ERR": "Modalités de paiement erronées",
    "QUALITE_ERR": "Qualité de l'article livré erronée",
    "LIVR_INCOMP": "Livraison incomplète ou non conforme",
    "REJ_SEMAN": "Rejet sémantique : la facture ne respecte pas les règles",
    "REJ_UNI": "Rejet pour unicité : facture déjà déposée",
    "REJ_COH": "Rejet de cohérence",
    "REJ_ADR": "Rejet d'adressage",
    "REJ_CONT_B2G": "Rejet des contrôles de la sphère publique",
    "REJ_REF_PJ": "Référence de pièce jointe erronée",
    "REJ_ASS_PJ": "Pièce jointe mal associée",
    "IRR_VIDE_F": "Fichier vide",
    "IRR_TYPE_F": "Type de fichier non accepté",
    "IRR_SYNTAX": "Fichier illisible (syntaxe)",
    "IRR_TAILLE_PJ": "Pièce jointe trop volumineuse",
    "IRR_NOM_PJ": "Nom de pièce jointe non conforme",
    "IRR_VID_PJ": "Pièce jointe vide",
    "IRR_EXT_DOC": "Extension de document non acceptée",
    "IRR_TAILLE_F": "Fichier trop volumineux",
    "IRR_ANTIVIRUS": "Fichier refusé par l'antivirus",
    "IRR_NOM_F": "Nom de fichier non conforme",
}


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BUSINESS = (
    "CMD_ERR SIRET_ERR CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR PU_ERR REM_ERR QTE_ERR ART_ERR MODPAI_ERR "
    "QUALITE_ERR LIVR_INCOMP"
)
# BR-FR-CDV-CL-09 per status; a status not listed takes any code of REASONS. (210 sent by the PPF in
# the public sphere, sender 0238:9999, allows more codes: dematflow never sends as the PPF.)
ALLOWED_REASONS: dict[int, frozenset[str]] = {
    200: frozenset({"NON_TRANSMISE"}),
    206: _codes(f"AUTRE {_BUSINESS}"),
    207: _codes(
        "AUTRE COORD_BANC_ERR TX_TVA_ERR MONTANTTOTAL_ERR CALCUL_ERR NON_CONFORME DOUBLON DEST_INC "
        f"DEST_ERR TRANSAC_INC EMMET_INC CONTRAT_TERM DOUBLE_FACT ADR_ERR {_BUSINESS}"
    ),
    208: _codes("JUSTIF_ABS COORD_BANC_ERR CMD_ERR SIRET_ERR CODE_ROUTAGE_ERR REF_CT_ABSENT REF_ERR"),
    210: _codes(
        "TX_TVA_ERR MONTANTTOTAL_ERR CALCUL_ERR NON_CONFORME DOUBLON DEST_ERR TRANSAC_INC EMMET_INC "
        "CONTRAT_TERM DOUBLE_FACT CMD_ERR ADR_ERR REF_CT_ABSENT"
    ),
    213: _codes(
        "MONTANTTOTAL_ERR CALCUL_ERR DOUBLON DEST_INC ADR_ERR REJ_SEMAN REJ_UNI REJ_COH REJ_ADR "
        "REJ_CONT_B2G REJ_REF_PJ REJ_ASS_PJ"
    ),
    501: _codes(
        "IRR_VIDE_F IRR_TYPE_F IRR_SYNTAX IRR_TAILLE_PJ IRR_NOM_PJ IRR_VID_PJ IRR_EXT_DOC IRR_TAILLE_F "
        "IRR_ANTIVIRUS IRR_NOM_F"
    ),
}


def allowed_reasons(code: int) -> frozenset[str]:
    return ALLOWED_REASONS.get(code, frozenset(REASONS))


def side_of(code: int) -> Side:
    return SIDES[code]
