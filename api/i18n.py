"""The portal's words in French (the default) and English: the language chosen, and a small message table."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request

LANGS = ("fr", "en")
DEFAULT = "fr"
COOKIE = "dematflow_lang"

# key: (French, English). Placeholders are str.format fields.
MESSAGES: dict[str, tuple[str, str]] = {
    "site": ("Portail des fournisseurs", "Supplier portal"),
    "skip": ("Aller au contenu", "Skip to content"),
    "nav": ("Menu principal", "Main menu"),
    "nav.deposit": ("Déposer des factures", "Deposit invoices"),
    "nav.documents": ("Mes documents", "My documents"),
    "signed_in_as": ("Connecté : {name}", "Signed in: {name}"),
    "sign_out": ("Se déconnecter", "Sign out"),
    "switch": ("English", "Français"),
    "switch.title": ("Read this site in English", "Lire ce site en français"),
    "footer": (
        "Les documents déposés sont scellés et archivés à l'identique ; chaque action est journalisée.",
        "Deposited documents are sealed and archived unaltered; every action is journalled.",
    ),
    "required": (
        "Les champs marqués d'un astérisque (*) sont obligatoires.",
        "Fields marked * are required.",
    ),
    "login.title": ("Connexion", "Sign in"),
    "login.intro": (
        "Connectez-vous avec votre identifiant et votre mot de passe, ou avec votre seul jeton d'API.",
        "Sign in with your name and password, or with your API token alone.",
    ),
    "login.name": ("Identifiant", "Name"),
    "login.name.hint": (
        "Laissez vide si vous utilisez un jeton d'API.",
        "Leave empty if you use an API token.",
    ),
    "login.secret": ("Mot de passe ou jeton d'API", "Password or API token"),
    "login.submit": ("Se connecter", "Sign in"),
    "login.failed": ("Identifiant ou mot de passe incorrect.", "Wrong name or password."),
    "login.name.missing": (
        "Indiquez votre identifiant (ou utilisez un jeton d'API).",
        "Enter your name (or use an API token).",
    ),
    "login.secret.missing": ("Indiquez votre mot de passe ou votre jeton.", "Enter your password or token."),
    "login.blocked": (
        "Trop de tentatives de connexion échouées. Par sécurité, réessayez dans {minutes} minutes.",
        "Too many failed sign-in attempts. For your security, try again in {minutes} minutes.",
    ),
    "login.csrf": (
        "Le formulaire a expiré. Rechargez la page puis réessayez.",
        "The form has expired. Reload the page and try again.",
    ),
    "signed_out": ("Vous êtes déconnecté.", "You are signed out."),
    "errors.title": ("Le formulaire contient des erreurs :", "The form has errors:"),
    "error": ("Erreur", "Error"),
    "deposit.title": ("Déposer des factures", "Deposit invoices"),
    "deposit.intro": (
        "Factures PDF, Factur-X, XML UBL ou CII, ou photos lisibles. "
        "Vous pouvez en déposer plusieurs à la fois.",
        "PDF, Factur-X, UBL or CII XML invoices, or readable photos. You may deposit several at once.",
    ),
    "deposit.files": ("Fichiers à déposer", "Files to deposit"),
    "deposit.files.hint": (
        "Glissez-déposez vos fichiers ici, ou choisissez-les. Taille maximale : {size} par fichier.",
        "Drag and drop your files here, or choose them. Maximum size: {size} per file.",
    ),
    "deposit.order": ("Numéro de commande (facultatif)", "Order number (optional)"),
    "deposit.reference": ("Votre référence (facultatif)", "Your reference (optional)"),
    "deposit.comment": ("Commentaire (facultatif)", "Comment (optional)"),
    "deposit.submit": ("Déposer", "Deposit"),
    "deposit.none": ("Choisissez au moins un fichier.", "Choose at least one file."),
    "deposit.results": ("Résultat des dépôts", "Deposit results"),
    "deposit.sending": ("envoi en cours", "uploading"),
    "deposit.done": ("déposé : le traitement commence", "deposited: processing starts"),
    "deposit.duplicate": (
        "déjà déposé : voici le même document",
        "already deposited: here is the same document",
    ),
    "deposit.failed": ("échec du dépôt", "deposit failed"),
    "deposit.expired": ("session expirée : reconnectez-vous", "session expired: sign in again"),
    "deposit.see": ("Voir le document", "See the document"),
    "deposit.progress": ("Envoi de {name}", "Uploading {name}"),
    "deposit.readonly": ("Votre rôle ne permet pas de déposer.", "Your role cannot deposit."),
    "docs.title": ("Mes documents", "My documents"),
    "docs.filter": ("Filtrer", "Filter"),
    "docs.status": ("Statut du traitement", "Processing status"),
    "docs.all": ("Tous", "All"),
    "docs.refresh": ("Actualiser", "Refresh"),
    "docs.caption": ("Vos documents déposés, du plus ancien au plus récent", "Your documents, oldest first"),
    "docs.file": ("Fichier", "File"),
    "docs.received": ("Déposé le", "Deposited on"),
    "docs.number": ("N° de facture", "Invoice no."),
    "docs.total": ("Total TTC", "Total incl. VAT"),
    "docs.lifecycle": ("Statut", "Status"),
    "docs.empty": ("Aucun document pour l'instant.", "No documents yet."),
    "docs.next": ("Page suivante", "Next page"),
    "docs.first": ("Revenir au début", "Back to the start"),
    "docs.paging": ("Pagination", "Pagination"),
    "doc.title": ("Document {name}", "Document {name}"),
    "doc.status": ("Où en est ce document", "Where this document stands"),
    "doc.processing": (
        "En cours de traitement : cette page se met à jour seule.",
        "Being processed: this page updates itself.",
    ),
    "doc.processing.nojs": ("Actualiser la page", "Refresh the page"),
    "doc.since": ("Dernier statut le", "Last status on"),
    "doc.no_lifecycle": ("Pas encore de statut de cycle de vie.", "No lifecycle status yet."),
    "doc.next": ("Ce que vous devez faire", "What to do next"),
    "doc.why": ("Les raisons", "The reasons"),
    "doc.findings": ("Points relevés par les contrôles", "What the checks found"),
    "doc.no_findings": ("Aucun point relevé.", "Nothing found."),
    "doc.rule": ("règle {rule}", "rule {rule}"),
    "doc.detail": ("Détail technique", "Technical detail"),
    "doc.where": ("à l'endroit : {where}", "at: {where}"),
    "doc.fields": ("Ce que nous avons lu", "What we read"),
    "doc.meta": ("Ce que vous avez indiqué", "What you told us"),
    "doc.downloads": ("Téléchargements", "Downloads"),
    "doc.sealed": ("Ma copie scellée", "My sealed copy"),
    "doc.report": ("Rapport de contrôle (JSON)", "Check report (JSON)"),
    "doc.original": ("Le fichier tel que déposé", "The file as deposited"),
    "doc.history": ("Historique du cycle de vie", "Lifecycle history"),
    "doc.history.caption": ("Statuts successifs de ce document", "Successive statuses of this document"),
    "doc.when": ("Date", "Date"),
    "doc.who": ("Par", "By"),
    "doc.what": ("Statut", "Status"),
    "doc.message": ("Message", "Message"),
    "doc.back": ("Retour à mes documents", "Back to my documents"),
    "doc.deposit_again": ("Déposer une facture corrigée", "Deposit a corrected invoice"),
    "doc.announce": ("Traitement terminé : {status}", "Processing finished: {status}"),
    "who.platform": ("la plateforme", "the platform"),
    "who.buyer": ("l'acheteur", "the buyer"),
    "who.supplier": ("vous", "you"),
    "notfound.title": ("Page introuvable", "Page not found"),
    "notfound.text": (
        "Ce document n'existe pas, ou il n'est pas accessible avec votre compte.",
        "This document does not exist, or your account cannot see it.",
    ),
    "blocked.title": ("Trop de tentatives", "Too many attempts"),
}


def language(request: Request) -> str:
    """``?lang=`` first, then the cookie it set, then Accept-Language; French when nothing says otherwise."""
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGS:
        return str(asked)
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return DEFAULT


def translator(lang: str, words: Mapping[str, tuple[str, str]] | None = None) -> Callable[..., str]:
    """The words of ``lang``: those of ``words`` (a page's own) first, then the portal's."""
    index = LANGS.index(lang) if lang in LANGS else 0

    def gettext(key: str, **values: object) -> str:
        pair = (words or {}).get(key) or MESSAGES.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return gettext


def pick(lang: str, french: str, english: str) -> str:
    return english if lang == "en" else french
