"""What the HTTP API answers, as pydantic models (the OpenAPI schema is generated from them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pipeline.records import Document

STATUS_FR = {
    "received": "En cours de traitement",
    "archived": "Acceptée et archivée",
    "needs_review": "Reçue : un agent de l'acheteur vérifie certains points",
    "rejected": "Rejetée : la facture n'est pas conforme",
    "quarantined": "Irrecevable : le fichier n'a pas pu être traité",
}


class Accepted(BaseModel):
    id: str = Field(description="identifiant du document")
    status: str = Field(description="toujours `received` : le traitement suit")
    status_url: str
    duplicate: bool = Field(description="ces octets avaient déjà été déposés : le même document est rendu")
    replayed: bool = Field(description="même Idempotency-Key qu'un dépôt précédent : rien de nouveau")


class FindingOut(BaseModel):
    rule: str
    severity: str
    message: str | None = None
    location: str | None = None


class LifecycleOut(BaseModel):
    seq: int
    code: int
    label: str
    reason_code: str | None = None
    message: str | None = None
    actor: str
    at: str
    cdar_url: str | None = None


class Summary(BaseModel):
    id: str
    filename: str
    received_at: str
    status: str
    status_label: str
    doc_type: str | None = None
    invoice_number: str | None = Field(None, description="BT-1")
    total: str | None = Field(None, description="BT-112")
    lifecycle: LifecycleOut | None = None


class DocumentOut(Summary):
    reason: str | None = None
    reason_code: str | None = None
    kind: str | None = None
    pages: int | None = None
    source: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="EN 16931 business terms (BT-…)")
    confidence: dict[str, float] = Field(default_factory=dict)
    findings: list[FindingOut] = Field(default_factory=list)
    checked: list[str] = Field(default_factory=list)
    not_checked: list[str] = Field(default_factory=list)
    review: list[str] = Field(default_factory=list)
    meta: dict[str, str] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict)


class DocumentList(BaseModel):
    items: list[Summary]
    next_cursor: str | None = Field(None, description="à passer en `cursor` pour la page suivante")


class LifecycleList(BaseModel):
    document_id: str
    items: list[LifecycleOut]


NO_NUL = r"^[^\x00]*$"  # PostgreSQL text refuses NUL: a 422 here, not a 500 at the INSERT


class StatusChange(BaseModel):
    code: int = Field(description="statut du cycle de vie (204, 205, 206, 207, 208, 209, 210, 211, 212)")
    reason: str | None = Field(
        None, max_length=40, pattern=NO_NUL, description="code motif (obligatoire pour 206, 207, 208, 210)"
    )
    message: str | None = Field(None, max_length=2000, pattern=NO_NUL)
    amount: str | None = Field(None, max_length=40, pattern=NO_NUL, description="montant encaissé (212)")
    vat_rate: str | None = Field(None, max_length=10, pattern=NO_NUL, description="taux de TVA (212)")


class AccountOut(BaseModel):
    id: str
    name: str
    role: str
    identifiers: list[str]


def summary_of(doc: Document, lifecycle: LifecycleOut | None) -> dict[str, Any]:
    return {
        "id": doc.id,
        "filename": doc.filename,
        "received_at": doc.received_at,
        "status": doc.status.value,
        "status_label": STATUS_FR.get(doc.status.value, doc.status.value),
        "doc_type": doc.doc_type.value if doc.doc_type else None,
        "invoice_number": doc.fields.get("BT-1"),
        "total": doc.fields.get("BT-112"),
        "lifecycle": lifecycle,
    }


def document_of(doc: Document, lifecycle: LifecycleOut | None, base: str) -> DocumentOut:
    links = {
        "self": f"{base}/api/v1/documents/{doc.id}",
        "lifecycle": f"{base}/api/v1/documents/{doc.id}/lifecycle",
    }
    for role in ("sealed", "report", "original"):
        if role in doc.objects:
            links[role] = f"{base}/api/v1/documents/{doc.id}/files/{role}"
    return DocumentOut(
        **summary_of(doc, lifecycle),
        reason=doc.reason,
        reason_code=doc.reason_code,
        kind=doc.kind.value if doc.kind else None,
        pages=doc.pages,
        source=doc.source.value if doc.source else None,
        fields=doc.fields,
        confidence={k: round(v, 3) for k, v in doc.confidence.items()},
        findings=[FindingOut(**f.to_json()) for f in doc.findings],
        checked=list(doc.checked),
        not_checked=list(doc.not_checked),
        review=list(doc.review),
        meta=doc.meta,
        links=links,
    )
