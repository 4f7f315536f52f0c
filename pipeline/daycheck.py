"""Checking the day seals: signature, timestamp, the chain of seals, and each day's rows against the
journal database (what catches a database rewritten with its hash chain recomputed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from sqlalchemy import func, select

from dematflow.errors import NotFound
from pipeline.context import Services
from pipeline.daybook import day_entries, parse_rows, parse_segment, sealed_as, sealed_days
from pipeline.db import journal
from pipeline.verifier_chaine import row_hash
from signing.cms import verify_detached
from signing.signer import Certificates
from storage import keys
from storage.base import sha256_hex

Report = Callable[[str, str], None]  # (where, what)


@dataclass(frozen=True)
class SealFacts:
    signer: bytes  # the signing certificate, DER
    timestamp: datetime | None  # the TSA's genTime
    token: bytes | None  # the RFC 3161 timestamp token (DER ContentInfo)
    signature: bytes  # the signature value the token timestamps


def seal_facts(seal: bytes) -> SealFacts:
    """What a detached CMS seal says about itself; ValueError/KeyError when it is not one."""
    signed = cms.ContentInfo.load(seal)["content"]
    info = signed["signer_infos"][0]
    serial = info["sid"].chosen["serial_number"].native
    certs = [c.chosen for c in signed["certificates"] if c.name == "certificate"]
    signer = next(c for c in certs if c.serial_number == serial)
    token, when = None, None
    for attr in info["unsigned_attrs"] if info["unsigned_attrs"].native else ():
        if attr["type"].native == "signature_time_stamp_token":
            found = attr["values"][0]
            tst = found["content"]["encap_content_info"]["content"].parsed
            token, when = found.dump(), tst["gen_time"].native if isinstance(tst, tsp.TSTInfo) else None
    return SealFacts(signer.dump(), when, token, info["signature"].native)


def trusted(signer_der: bytes, ours: Certificates | None) -> bool:
    """The configured seal certificate, or one its chain issued (a renewed certificate)."""
    if ours is None:
        return False
    cert = x509.load_der_x509_certificate(signer_der)
    if cert == x509.load_der_x509_certificate(ours.certificate.dump()):
        return True
    for issuer in [x509.load_der_x509_certificate(c.dump()) for c in ours.chain]:
        try:
            cert.verify_directly_issued_by(issuer)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


def seal_problem(
    day: str, segment: bytes, seal: bytes, ours: Certificates | None, last_at: str | None = None
) -> str | None:
    if not verify_detached(segment, seal):
        return "the seal does not match the segment: signature or timestamp broken"
    try:
        facts = seal_facts(seal)
    except (ValueError, KeyError, StopIteration):
        return "the seal is unreadable"
    if not trusted(facts.signer, ours):
        return "sealed with a certificate that is not the configured seal certificate (nor from its chain)"
    if facts.timestamp is None:
        return "the seal carries no timestamp"
    if last_at and facts.timestamp < datetime.fromisoformat(last_at):
        return f"timestamped {facts.timestamp.isoformat()}, before the rows it seals were written"
    return None


def check_days(services: Services, report: Report) -> int:
    """Check every archived day seal; return how many there are."""
    days = sealed_days(services)
    previous: str | None = None
    prev_seal, prev_last = "", None
    for day in days:
        where = keys.day_seal(day)
        if previous is not None:
            for gap in _between(previous, day):
                report(keys.day_segment(gap), "no seal for this day: its segment is missing from the archive")
        previous = day
        try:
            segment, seal = services.store.get(keys.day_segment(day)), services.store.get(where)
        except NotFound:
            report(keys.day_segment(day), "the day's segment is missing from the archive")
            continue
        try:
            header, rows = parse_segment(segment)
        except (ValueError, KeyError, TypeError):
            header, rows = None, {}
        if header is None:
            report(keys.day_segment(day), "the segment is unreadable")
        full = full_rows(services, day, rows, report) if header else {}
        last_at = str(full[max(full)]["at"]) if full else None
        what = seal_problem(day, segment, seal, services.context.seal_certificates(), last_at)
        if what:
            report(where, what)
        if header is None:
            continue
        if header.previous_seal_sha256 != prev_seal or header.day != day:
            report(where, "does not chain to the seal of the day before")
        if prev_last is not None and header.prev_hash != prev_last:
            report(where, "its first row does not continue the previous day's last row")
        _check_rows(services, day, rows, full, report)
        prev_seal, prev_last = sha256_hex(seal), header.last_hash
    if days:
        with services.catalogue.engine.connect() as conn:
            early = conn.execute(select(func.min(journal.c.seq)).where(journal.c.at < days[0])).scalar()
        if early is not None:
            report(f"journal seq {early}", f"dated before {days[0]}, the first sealed day: inserted")
    return len(days)


def _check_rows(
    services: Services,
    day: str,
    rows: dict[int, dict[str, object]],
    full: dict[int, dict[str, object]],
    report: Report,
) -> None:
    for entry in day_entries(services.catalogue.engine, day):
        sealed = rows.pop(entry.seq, None)
        where = f"journal seq {entry.seq}"
        if sealed is None:
            report(where, f"not in the seal of {day}: written after the day was sealed, or inserted")
        elif not sealed_as(sealed, entry):
            kept = full.get(entry.seq, sealed)
            changed = sorted(k for k, v in entry.__dict__.items() if kept.get(k) != v) or ["hash"]
            report(
                where,
                f"differs from the row sealed for {day} ({', '.join(changed)}; document "
                f"{entry.document_id}): rewritten in the database",
            )
    for seq in sorted(rows):
        report(f"journal seq {seq}", f"sealed for {day} but no longer in the journal (deleted or redated)")


def full_rows(
    services: Services, day: str, sealed: dict[int, dict[str, object]], report: Report
) -> dict[int, dict[str, object]]:
    """The day's archived rows (segment format 2), each checked against the hash the segment sealed."""
    if any("body" in row for row in sealed.values()):
        return sealed  # format 1: the segment holds the rows
    try:
        full = parse_rows(services.store.get(keys.day_rows(day)))
    except NotFound:
        if sealed:
            report(keys.day_rows(day), "the day's rows are missing from the archive")
        return {}
    except (ValueError, KeyError, TypeError):
        report(keys.day_rows(day), "the day's rows are unreadable")
        return {}
    if set(full) != set(sealed) or any(_hash(row) != sealed[seq].get("hash") for seq, row in full.items()):
        report(keys.day_rows(day), f"the archived rows of {day} are not those its seal covers")
    return full


def _hash(row: dict[str, object]) -> str | None:
    try:
        return row_hash(row)
    except (KeyError, TypeError):
        return None


def _between(previous: str, day: str) -> list[str]:
    start, end = date.fromisoformat(previous) + timedelta(days=1), date.fromisoformat(day)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days)]
