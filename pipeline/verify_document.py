"""Verify one document for an auditor: its objects re-hashed against the catalogue and the journal, its
journal rows and their links to the rows around them, the day seals over those rows, and the seal of
its kept copy. Each check says OK, failed (with its problems) or not checked (and why): never OK for
what did not run. ``verify`` only reads; ``record`` journals who verified what and the outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dematflow.errors import DematflowError, NotFound
from pipeline import journal
from pipeline.db import GENESIS, objects
from pipeline.db import journal as journal_table
from pipeline.journal import Entry
from pipeline.records import Document, Event, utcnow
from storage import keys

if TYPE_CHECKING:
    from pipeline.accounts import Account
    from pipeline.context import Services

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True)
class Problem:
    """What a check found: ``code`` names it (the door words it), ``where`` is a key, a row or a day."""

    code: str
    where: str
    detail: str = ""


@dataclass(frozen=True)
class Check:
    name: str  # "objects" | "journal" | "days" | "seal"
    outcome: Outcome
    count: int = 0  # what was looked at: objects, rows, days, signatures
    problems: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()  # what this check did not cover, or why it did not run

    @classmethod
    def of(cls, name: str, count: int, problems: list[Problem], notes: list[Problem] | None = None) -> Check:
        outcome = Outcome.FAILED if problems else Outcome.OK
        return cls(name, outcome, count, tuple(problems), tuple(notes or ()))

    @classmethod
    def skipped(cls, name: str, code: str, where: str = "", detail: str = "") -> Check:
        return cls(name, Outcome.NOT_CHECKED, notes=(Problem(code, where, detail),))


@dataclass(frozen=True)
class DocumentVerification:
    document_id: str
    at: str
    checks: tuple[Check, ...]

    @property
    def outcome(self) -> Outcome:
        """Failed if any check failed; not checked if any could not run; OK only when all ran and held."""
        found = {c.outcome for c in self.checks}
        for worst in (Outcome.FAILED, Outcome.NOT_CHECKED):
            if worst in found:
                return worst
        return Outcome.OK


def verify(services: Services, document_id: str) -> DocumentVerification:
    """Run the four checks on one document (NotFound for an unknown id)."""
    doc = services.catalogue.get(document_id)
    rows = list(journal.entries(services.catalogue.engine, document_id=doc.id))
    checks = (
        _objects(services, doc, rows),
        _chain(services, rows),
        _days(services, doc, rows),
        _seal(services, doc),
    )
    return DocumentVerification(doc.id, utcnow(), checks)


def record(services: Services, account: Account, result: DocumentVerification) -> journal.Entry:
    """Journal the verification as a read (stage ``access``: it changes nothing, so no edit goes stale)."""
    detail: dict[str, Any] = {
        "account": account.id,
        "role": account.role.value,
        "outcome": result.outcome.value,
        "checks": {c.name: c.outcome.value for c in result.checks},
        "problems": [
            {"check": c.name, "code": p.code, "where": p.where} for c in result.checks for p in c.problems
        ],
    }
    return services.catalogue.record(Event("access", "verified", result.document_id, detail=detail))


def _objects(services: Services, doc: Document, rows: list[Entry]) -> Check:
    journalled: dict[str, str] = {}
    for entry in rows:  # the first fingerprint the journal gave each key is the one that counts
        outputs = entry.body.get("outputs", {})
        for key, digest in (outputs if isinstance(outputs, dict) else {}).items():
            journalled.setdefault(str(key), str(digest))
    with services.catalogue.engine.connect() as conn:
        query = select(objects.c.role, objects.c.sha256).where(objects.c.document_id == doc.id)
        catalogued = {r.role: r.sha256 for r in conn.execute(query)}
    problems: list[Problem] = []
    for role, obj in sorted(doc.objects.items()):
        expected = journalled.get(obj.key)
        if expected is None:
            problems.append(Problem("not_journalled", obj.key))
            continue
        if catalogued.get(role) is None:
            problems.append(Problem("not_catalogued", obj.key))
        elif catalogued[role] != expected:
            problems.append(Problem("catalogue_changed", obj.key, _pair(catalogued[role], expected)))
        if obj.sha256 != expected:
            problems.append(Problem("record_changed", obj.key, _pair(obj.sha256, expected)))
        try:
            actual = services.store.digest(obj.key)  # the archive's bytes, never a copy in memory
        except NotFound:
            problems.append(Problem("missing", obj.key))
            continue
        except DematflowError as exc:  # the archive does not answer: nothing was re-hashed
            return Check.skipped("objects", "archive_unavailable", obj.key, exc.message)
        if actual != expected:
            problems.append(Problem("content_changed", obj.key, _pair(actual, expected)))
    if not doc.objects:
        return Check.skipped("objects", "no_objects")
    return Check.of("objects", len(doc.objects), problems)


def _chain(services: Services, rows: list[Entry]) -> Check:
    """Each row recomputes, chains to the row before it (whoever's it is) and the row after chains to it."""
    if not rows:
        return Check.of("journal", 0, [Problem("no_rows", "journal")])
    engine = services.catalogue.engine
    around = {e.seq - 1 for e in rows} | {e.seq + 1 for e in rows}
    neighbours = _rows_at(services, around - {e.seq for e in rows})
    by_seq = {**neighbours, **{e.seq: e for e in rows}}
    head_seq, head_hash = journal.head(engine)
    problems: list[Problem] = []
    for entry in rows:
        where = f"journal seq {entry.seq}"
        if entry.expected_hash() != entry.hash:
            problems.append(Problem("row_edited", where, f"{entry.stage}/{entry.action}"))
        before = by_seq.get(entry.seq - 1)
        if entry.seq == 1:
            if entry.prev_hash != GENESIS:
                problems.append(Problem("not_chained", where))
        elif before is None:
            problems.append(Problem("row_deleted", f"journal seq {entry.seq - 1}"))
        elif before.hash != entry.prev_hash:
            problems.append(Problem("not_chained", where))
        elif before.expected_hash() != before.hash and before.seq in neighbours:
            problems.append(Problem("previous_edited", f"journal seq {before.seq}"))
        after = by_seq.get(entry.seq + 1)
        if after is not None and after.prev_hash != entry.hash:
            problems.append(Problem("next_not_chained", f"journal seq {after.seq}"))
        elif after is None and entry.seq < head_seq:
            problems.append(Problem("row_deleted", f"journal seq {entry.seq + 1}"))
        elif after is None and head_hash != entry.hash:
            problems.append(Problem("head_mismatch", "journal head"))
    return Check.of("journal", len(rows), problems)


def _rows_at(services: Services, seqs: set[int]) -> dict[int, Entry]:
    found: dict[int, Entry] = {}
    wanted = sorted(s for s in seqs if s > 0)
    with services.catalogue.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            query = select(journal_table).where(journal_table.c.seq.in_(wanted[start : start + 500]))
            for r in conn.execute(query):
                body = journal._body(r.body)
                found[int(r.seq)] = Entry(
                    int(r.seq), r.at, r.document_id, r.stage, r.action, body, r.prev_hash, r.hash
                )
    return found


def _days(services: Services, doc: Document, rows: list[Entry]) -> Check:
    """The day seals (CAdES, timestamped) over this document's rows: each sealed row as it is now,
    and no row of this document sealed then deleted since."""
    from pipeline import daybook, daycheck  # they load signing (pyHanko): at verification, not at start

    sealed = set(daybook.sealed_days(services))
    days = sorted({e.at[:10] for e in rows})
    checked = [d for d in days if d in sealed]
    notes = [
        Problem("day_not_sealed", d, str(sum(e.at[:10] == d for e in rows))) for d in days if d not in sealed
    ]
    if not checked:
        return Check("days", Outcome.NOT_CHECKED, notes=tuple(notes))
    problems: list[Problem] = []

    def rows_problem(where: str, what: str) -> None:  # the day's archived rows against its seal
        problems.append(Problem("day_rows_invalid", where, what))

    for day in checked:
        try:
            segment = services.store.get(keys.day_segment(day))
            seal = services.store.get(keys.day_seal(day))
        except NotFound:
            problems.append(Problem("day_segment_missing", day))
            continue
        try:
            _, sealed_rows = daybook.parse_segment(segment)
        except (ValueError, KeyError, TypeError):
            problems.append(Problem("day_segment_unreadable", day))
            continue
        full = daycheck.full_rows(services, day, sealed_rows, rows_problem)
        last_at = str(full[max(full)]["at"]) if full else None
        what = daycheck.seal_problem(day, segment, seal, services.context.seal_certificates(), last_at)
        if what:
            problems.append(Problem("day_seal_invalid", day, what))
        current = {e.seq: e for e in rows if e.at[:10] == day}
        for seq, entry in current.items():
            kept = sealed_rows.get(seq)
            if kept is None:
                problems.append(Problem("not_in_day_seal", f"journal seq {seq}", day))
            elif not daybook.sealed_as(kept, entry):
                problems.append(Problem("differs_from_day_seal", f"journal seq {seq}", day))
        for seq, kept in sorted(full.items()):
            if kept.get("document_id") == doc.id and seq not in current:
                problems.append(Problem("deleted_since_sealed", f"journal seq {seq}", day))
    return Check.of("days", len(checked), problems, notes)


def _seal(services: Services, doc: Document) -> Check:
    """The kept copy's seal as ``audit_seals`` validates it (intact, trusted to our roots, timestamps
    intact and trusted), and for a PDF the file received as its first revision."""
    from pipeline import audit_seals
    from signing.seal_status import Verdict

    kept = audit_seals.check(services, doc)
    if kept is None:
        return Check.skipped("seal", "not_sealed", doc.status.value)
    report, where = kept.report, kept.key or doc.id
    if report.intact is Verdict.NOT_CHECKED:
        return Check.skipped("seal", report.notes[0] if report.notes else "tool_unavailable", where)
    problems = [*_original_problems(services, doc, kept.key), *(Problem(c, where) for c in report.problems)]
    if not problems and report.trusted is not Verdict.YES:  # e.g. no trust roots: never « OK »
        notes = tuple(Problem(c, where) for c in report.notes if c in ("no_trust_roots",))
        return Check("seal", Outcome.NOT_CHECKED, 1, notes=notes or (Problem("no_trust_roots", where),))
    absent = set(report.problems) & {"missing", "seal_missing"}
    return Check.of("seal", 0 if absent else 1, problems)


def _original_problems(services: Services, doc: Document, key: str) -> list[Problem]:
    """A sealed PDF begins with the bytes received (the seal is an incremental update)."""
    if not (key and _pdf(doc) and "original" in doc.objects):
        return []
    try:
        sealed = services.store.get(key)
        original = services.store.get(doc.objects["original"].key)
    except DematflowError:  # missing or unreachable: the seal's own check says so
        return []
    return [] if sealed.startswith(original) else [Problem("original_not_sealed", key)]


def _pdf(doc: Document) -> bool:
    return doc.kind is not None and doc.kind.value == "pdf"


def _pair(actual: str, expected: str) -> str:
    return f"{actual} ≠ {expected}"
