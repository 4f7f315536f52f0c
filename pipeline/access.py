"""What every door needs around a document: deposit it for an account, and read it only if allowed.

A supplier never learns that another tenant's document exists: a document it may not see is
``NotFound``, exactly as one that does not exist. Every deposit and every download is journalled
with the account that made it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import exc, select

from dematflow.errors import InvalidRequest, NotFound
from pipeline.accounts import Account, Role
from pipeline.catalogue import Query
from pipeline.context import Services
from pipeline.db import idempotency
from pipeline.intake import Receipt, receive
from pipeline.records import BUYER_TENANT, Document, Event, utcnow
from storage.base import sha256_hex

MAX_KEY = 200


@dataclass(frozen=True)
class Deposit:
    receipt: Receipt
    replayed: bool = False  # the same Idempotency-Key was seen before: nothing new was created


def deposit(
    services: Services,
    *,
    filename: str,
    data: bytes,
    account: Account | None,
    meta: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> Deposit:
    """Keep the bytes as the account's tenant's document; a retried upload with the same key
    answers with the document the first one created (and refuses a different file under it)."""
    if idempotency_key is not None and account is not None:
        if not 0 < len(idempotency_key) <= MAX_KEY:
            raise InvalidRequest(f"l'en-tête Idempotency-Key doit faire de 1 à {MAX_KEY} caractères")
        earlier = _replay(services, account, idempotency_key, sha256_hex(data))
        if earlier is not None:
            return Deposit(Receipt(earlier), replayed=True)
    receipt = receive(
        services,
        filename=filename,
        data=data,
        tenant=account.tenant if account else BUYER_TENANT,
        owner=account.id if account else None,
        meta=meta,
    )
    if idempotency_key is not None and account is not None:
        try:
            with services.catalogue.engine.begin() as conn:
                conn.execute(
                    idempotency.insert().values(
                        account_id=account.id,
                        key=idempotency_key,
                        sha256=sha256_hex(data),
                        document_id=receipt.document_id,
                        created_at=utcnow(),
                    )
                )
        except exc.IntegrityError:  # the same retry raced this one: answer as it did
            earlier = _replay(services, account, idempotency_key, sha256_hex(data))
            if earlier is not None:
                return Deposit(Receipt(earlier), replayed=True)
    return Deposit(receipt)


def _replay(services: Services, account: Account, key: str, digest: str) -> str | None:
    with services.catalogue.engine.connect() as conn:
        row = conn.execute(
            select(idempotency.c.sha256, idempotency.c.document_id).where(
                idempotency.c.account_id == account.id, idempotency.c.key == key
            )
        ).first()
    if row is None:
        return None
    if row.sha256 != digest:
        raise InvalidRequest("cette Idempotency-Key a déjà servi pour un autre fichier")
    return str(row.document_id)


def listing(services: Services, account: Account, query: Query, *, limit: int) -> list[Document]:
    """The documents this account may see, narrowed by ``query``: a supplier's own tenant only."""
    if account.role is Role.SUPPLIER:
        query = dataclasses.replace(query, tenant=account.tenant)
    return services.catalogue.list(query=query, limit=limit)


def visible(services: Services, account: Account, document_id: str) -> Document:
    """The document if this account may see it; NotFound otherwise, as for an unknown id."""
    try:
        doc = services.catalogue.get(document_id)
    except NotFound:
        raise NotFound(f"aucun document {document_id}") from None
    if not account.sees(doc):
        raise NotFound(f"aucun document {document_id}")
    return doc


def read_object(services: Services, account: Account, document_id: str, role: str) -> tuple[Document, bytes]:
    """An archived object of a visible document, its download journalled with the account."""
    doc = visible(services, account, document_id)
    obj = doc.objects.get(role)
    if obj is None:
        raise NotFound(f"le document {document_id} n'a pas d'objet « {role} »")
    data = services.store.get(obj.key)
    services.catalogue.record(
        Event(
            "access",
            "downloaded",
            doc.id,
            outputs={obj.key: obj.sha256},
            detail={"account": account.id, "role": account.role.value, "object": role},
        )
    )
    return doc, data
