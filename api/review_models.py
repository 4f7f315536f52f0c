"""What the review desk's routes answer and accept (pydantic; the OpenAPI schema is built from them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models import NO_NUL, LifecycleOut


class LockOut(BaseModel):
    by: str
    until: str


class QueueItemOut(BaseModel):
    id: str
    filename: str
    received_at: str
    doc_type: str | None
    reason: str | None
    review: list[str]
    min_confidence: float | None
    supplier: str | None = Field(description="BT-27")
    lock: LockOut | None
    version: int


class QueueOut(BaseModel):
    items: list[QueueItemOut]
    next_cursor: str | None = None


class ClaimOut(BaseModel):
    lock: LockOut
    version: int


class CandidateOut(BaseModel):
    value: str
    confidence: float | None
    page: int | None
    box: list[float] | None


class FieldOut(BaseModel):
    term: str
    label: str
    value: str | None
    confidence: float | None
    page: int | None
    box: list[float] | None = Field(description="[x0, y0, x1, y1] en fractions de la page")
    rules: list[str]
    candidates: list[CandidateOut]


class TotalsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    ht: str | None = Field(None, alias="BT-109")
    tva: str | None = Field(None, alias="BT-110")
    ttc: str | None = Field(None, alias="BT-112")
    consistent: bool


class AttachedOut(BaseModel):
    filename: str
    document_id: str
    duplicate: bool = False


class AnswerOut(BaseModel):
    """A supplier's answer to a 208 Suspendue: its files (new documents linked to the suspended one)."""

    document_id: str = Field(description="le document suspendu")
    by: str
    at: str
    comment: str | None
    files: list[AttachedOut]
    lifecycle: LifecycleOut | None = Field(None, description="le 209 Complétée posé par la réponse")


class MemoryNoteOut(BaseModel):
    """What the supplier memory did with this document: learnt from its confirm, or read it."""

    supplier_key: str
    supplier: str | None = Field(None, description="BT-27 du document")
    fields: list[str]
    by: str | None = None
    at: str | None = None


class FacturxOut(BaseModel):
    built: bool
    profile: str | None = None
    url: str | None = None
    error: str | None = None


class ReviewOut(BaseModel):
    id: str
    filename: str = Field(description="le nom du fichier reçu")
    version: int
    lock: LockOut | None
    pages: int
    status: str
    reason: str | None
    source: str | None = Field(None, description="ocr, pdf_text, facturx, xml…")
    lifecycle: LifecycleOut | None
    supplier_memory: dict[str, Any] | None = Field(
        None,
        description="ce que la mémoire sait du fournisseur : supplier_key, fields appris, taught_by, "
        "updated_at, document_id, version ; null s'il est inconnu",
    )
    fields: list[FieldOut]
    totals: TotalsOut
    answers: list[AnswerOut] = Field(default_factory=list, description="réponses du fournisseur (208 → 209)")
    memory_taught: MemoryNoteOut | None = Field(None, description="la disposition que ce document a apprise")
    memory_used: MemoryNoteOut | None = Field(None, description="lu avec la disposition apprise")
    facturx: FacturxOut | None = Field(None, description="la Factur-X produite à la confirmation")


class DecisionIn(BaseModel):
    action: Literal["confirm", "refuse", "dispute", "suspend"]
    version: int = Field(ge=0, le=2**62)
    fields: dict[str, str | None] = Field(default_factory=dict, max_length=100)
    reason: str | None = Field(None, max_length=40, pattern=NO_NUL)
    message: str | None = Field(None, max_length=2000, pattern=NO_NUL)
    approve: bool = False
    facturx: bool = Field(False, description="confirm : produire aussi une Factur-X PDF/A-3 (papier)")


class WordOut(BaseModel):
    text: str
    box: list[float] | None
    confidence: float


class WordsOut(BaseModel):
    page: int
    words: list[WordOut]


class RegionIn(BaseModel):
    box: list[float] = Field(min_length=4, max_length=4, description="[x0, y0, x1, y1] en fractions")


class RegionOut(BaseModel):
    text: str
