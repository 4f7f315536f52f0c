"""Evidence bundle: one document's objects, journal rows, day seals and certificates in a ZIP an auditor
checks with tools that are not dematflow (``LISEZMOI.txt``), and ``verify`` running the same checks.

Other documents' rows appear only as their place in the chain and their hash (segment format 2), so
a supplier's bundle reveals nothing of another tenant; day segments sealed in format 1 hold full rows
and are carried as sealed, since the seal covers their bytes."""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import daybook, journal, lifecycle, stamps, verifier_chaine
from pipeline.context import Services
from pipeline.daycheck import seal_facts
from pipeline.evidence_text import LISEZMOI
from signing.cms import verify_detached
from storage import keys

if TYPE_CHECKING:
    from asn1crypto import x509

DAYS = "journal/jours/"
STAMPS = "horodatage/"  # seal level B-B: the anchor token that dates the document's last row


@dataclass
class BundleCheck:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def build(services: Services, document_id: str) -> bytes:
    """The ZIP of one document's evidence (raises NotFound for an unknown document)."""
    doc = services.catalogue.get(document_id)
    rows = list(journal.entries(services.catalogue.engine, document_id=doc.id))
    files: dict[str, bytes] = {}
    for obj in doc.objects.values():
        files[f"archive/{obj.key}"] = services.store.get(obj.key)
    for t in lifecycle.history(services.catalogue.engine, doc.id):
        files[f"archive/{t.key}"] = services.store.get(t.key)
    files["journal/document.jsonl"] = "".join(daybook.row_line(e) + "\n" for e in rows).encode()
    sealed = set(daybook.sealed_days(services))
    days = sorted({e.at[:10] for e in rows})
    for day in (d for d in days if d in sealed):
        seal = services.store.get(keys.day_seal(day))
        files[f"{DAYS}{day}.jsonl"] = services.store.get(keys.day_segment(day))
        files[f"{DAYS}{day}.p7s"] = seal
        facts = seal_facts(seal)
        if facts.token is not None:  # for openssl ts -verify: the token and what it timestamps
            files[f"{DAYS}{day}.tst"] = facts.token
            files[f"{DAYS}{day}.signature.bin"] = facts.signature
    unsealed = [d for d in days if d not in sealed]
    if unsealed:  # not sealed yet: every row since the first unsealed one, so the chain links up;
        # the other documents' rows by their place in the chain and their hash only, as a segment has them
        tail = [e for e in journal.entries(services.catalogue.engine) if e.at[:10] >= unsealed[0]]
        lines = (daybook.row_line(e) if e.document_id == doc.id else daybook.hash_line(e) for e in tail)
        files["journal/non-scelle.jsonl"] = "".join(f"{line}\n" for line in lines).encode()
    stamped = stamps.first_stamped(services.store, rows[-1].seq) if rows else None
    if stamped is not None:  # for openssl ts -verify: the token and the seq:hash it timestamps
        files[f"{STAMPS}ancre-{stamped.seq}.txt"] = stamped.imprint
        files[f"{STAMPS}ancre-{stamped.seq}.tst"] = stamped.token or b""
    ours = services.context.seal_certificates()
    if ours is not None:
        files["certificats/cachet.pem"] = _pem(ours.certificate)
        for i, cert in enumerate(ours.chain):
            files[f"certificats/chaine-{i + 1}.pem"] = _pem(cert)
        if ours.tsa is not None:
            files["certificats/horodatage.pem"] = _pem(ours.tsa)
    files["verifier_chaine.py"] = Path(verifier_chaine.__file__).read_bytes()
    files["LISEZMOI.txt"] = LISEZMOI.encode()
    sums = "".join(f"{hashlib.sha256(v).hexdigest()}  {k}\n" for k, v in sorted(files.items()))
    files["SHA256SUMS"] = sums.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    return buffer.getvalue()


def verify(bundle: bytes) -> BundleCheck:
    """Fingerprints, every object against the journalled sha256, day seals, and the chain."""
    result = BundleCheck()
    try:
        z = zipfile.ZipFile(io.BytesIO(bundle))
        files = {n: z.read(n) for n in z.namelist()}
    except (zipfile.BadZipFile, OSError) as exc:
        result.problems.append(f"not a ZIP archive: {exc}")
        return result
    for line in files.get("SHA256SUMS", b"").decode().splitlines():
        digest, name = line.split("  ", 1)
        if name not in files:
            result.problems.append(f"{name}: missing from the bundle")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            result.problems.append(f"{name}: sha256 differs from SHA256SUMS")
    result.checked.append("SHA256SUMS")
    journalled = _outputs(files.get("journal/document.jsonl", b""))
    for name in (n for n in files if n.startswith("archive/")):
        key = name.removeprefix("archive/")
        if journalled.get(key) != hashlib.sha256(files[name]).hexdigest():
            result.problems.append(f"{name}: not the object the journal recorded (sha256 differs)")
    result.checked.append("objects against the journal")
    for name in sorted(n for n in files if n.startswith(DAYS) and n.endswith(".p7s")):
        segment = files.get(name.removesuffix(".p7s") + ".jsonl", b"")
        if not verify_detached(segment, files[name]):
            result.problems.append(f"{name}: the day seal does not match its segment")
        elif seal_facts(files[name]).signer != _der(files.get("certificats/cachet.pem", b"")):
            result.problems.append(f"{name}: not sealed with certificats/cachet.pem")
    result.checked.append("day seals")
    for name in sorted(n for n in files if n.startswith(STAMPS) and n.endswith(".tst")):
        result.problems.extend(_stamp_problems(files, name))
    result.checked.append("anchor timestamps")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            if name.startswith("journal/"):
                (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / name).write_bytes(data)
        try:
            result.problems.extend(verifier_chaine.check(Path(tmp)))
        except (OSError, ValueError, KeyError) as exc:
            result.problems.append(f"journal: unreadable ({type(exc).__name__})")
    result.checked.append("journal chain")
    return result


def _stamp_problems(files: dict[str, bytes], name: str) -> list[str]:
    """The anchor token is over its seq:hash, and that hash is the journal row of that seq."""
    try:
        seq, digest = files.get(name.removesuffix(".tst") + ".txt", b"").decode().split(":")
        found = stamps.Anchor(name, int(seq), digest, files[name])
    except ValueError:
        return [f"{name}: its .txt is not seq:hash"]
    what = stamps.problem(found, None)
    problems = [f"{name}: {what}"] if what else []
    if not any(_has_row(data, int(seq), digest) for n, data in files.items() if n.startswith("journal/")):
        problems.append(f"{name}: journal row {seq} with this hash is not in the bundle")
    return problems


def _has_row(data: bytes, seq: int, digest: str) -> bool:
    import json

    for line in data.decode(errors="replace").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and (row.get("seq"), row.get("hash")) == (seq, digest):
            return True
    return False


def _outputs(rows: bytes) -> dict[str, str]:
    import json

    found: dict[str, str] = {}
    for line in rows.decode().splitlines():
        outputs = json.loads(line).get("body", {}).get("outputs", {})
        found.update(outputs if isinstance(outputs, dict) else {})
    return found


def _pem(cert: x509.Certificate) -> bytes:
    from asn1crypto import pem

    return bytes(pem.armor("CERTIFICATE", cert.dump()))


def _der(pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    except ValueError:
        return b""
