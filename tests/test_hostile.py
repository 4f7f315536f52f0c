"""Hostile inputs, written at test time (nothing binary is committed), each through the real pipeline.

Every input ends quarantined (501 Irrecevable, an IRR_* reason) or rejected, with a reason a person can
read; each runs in its own child process, whose peak memory (its own and its children's) is measured
and bounded; nothing is written outside the data directory and ``audit verify`` passes afterwards.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import audit
from pipeline.context import open_services
from pipeline.settings import Settings

PEAK_MB = 900  # per input: the pipeline process, or the bounded child reading the content
STAGE_MEMORY_MB = 768  # DEMATFLOW_STAGE_MEMORY for these runs
STAGE_TIMEOUT_S = 20  # DEMATFLOW_STAGE_TIMEOUT for these runs
# One runner process imports the pipeline once, then forks a child per input and reads the child's
# peak memory from wait4 (its own and its reaped children's: tesseract); the bounded reading children
# (started from a forkserver, not ours) report their own peak, which the runner hears in the log.
RUNNER = """
import json, logging, os, re, resource, sys, time
from pathlib import Path

from pipeline import lifecycle
from pipeline.context import open_services
from pipeline.run import process
from pipeline.settings import Settings

class Peaks(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.mb = 0.0
    def emit(self, record):
        found = re.search(r"peak (\\d+) MB", record.getMessage())
        self.mb = max(self.mb, float(found.group(1))) if found else self.mb

def one(path, name):
    peaks = Peaks()
    logger = logging.getLogger("extractors.sandbox")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(peaks)
    services = open_services(Settings.from_env())
    doc = process(services, filename=name, data=path.read_bytes()).document
    status = lifecycle.current(services.catalogue.engine, doc.id)
    fatal = "; ".join(f.message for f in doc.findings if f.severity.value == "fatal")
    return {
        "status": doc.status.value,
        "reason": doc.reason or fatal,
        "lifecycle": status.code if status else None,
        "lifecycle_reason": status.reason if status else None,
        "child_mb": peaks.mb,
    }

for path, name in json.loads(sys.argv[1]):
    read, write = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        answer = one(Path(path), name)
        os.write(write, json.dumps(answer).encode())
        sys.exit(0)  # a normal exit: multiprocessing removes its temp folder (the forkserver's socket)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        body = pipe.read()
    _, code, usage = os.wait4(pid, 0)
    answer = json.loads(body) if body else {"status": f"wait status {code}"}
    answer.update(name=name, seconds=time.monotonic() - start, pipeline_mb=usage.ru_maxrss / 1024)
    print(json.dumps(answer), flush=True)
"""


# --- the generator -----------------------------------------------------------------------------------


def zeros_deflated(size: int) -> bytes:
    """A zlib stream of ``size`` zero bytes, built from one compressed MiB repeated (~1 KB a MiB):
    gigabytes in a second, without compressing them."""
    mib = 1 << 20
    if size < 2 * mib:
        return zlib.compress(b"\0" * size, 9)
    z = zlib.compressobj(9)
    head = z.compress(b"\0" * mib) + z.flush(zlib.Z_FULL_FLUSH)
    block = z.compress(b"\0" * mib) + z.flush(zlib.Z_FULL_FLUSH)  # the same bytes after each full flush
    whole, rest = divmod(size, mib)
    tail = z.compress(b"\0" * rest) + z.flush()
    adler = ((size % 65521) << 16) | 1  # adler32 of zeros: A stays 1, B counts the bytes
    return head + block * (whole - 1) + tail[:-4] + struct.pack(">I", adler)


def png(width: int, height: int, idat: bytes, *, white_palette: bool = True) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 3 if white_palette else 0, 0, 0, 0)
    plte = chunk(b"PLTE", b"\xff\xff\xff") if white_palette else b""  # index 0 is white: blank page
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + plte + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def tiff(width: int, height: int, strip: bytes, *, compression: int = 8, frames: int = 1) -> bytes:
    """Little-endian grayscale TIFF; every frame shares the one strip (a small file of many frames)."""
    entries = 9
    ifd_size = 2 + entries * 12 + 4
    strip_at = 8
    first_ifd = strip_at + len(strip) + (len(strip) & 1)
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + strip + b"\0" * (len(strip) & 1))
    for index in range(frames):
        at = first_ifd + index * ifd_size
        following = at + ifd_size if index + 1 < frames else 0
        tags = [
            (256, 4, width),
            (257, 4, height),
            (258, 3, 8),
            (259, 3, compression),
            (262, 3, 1),
            (273, 4, strip_at),
            (277, 3, 1),
            (278, 4, height),
            (279, 4, len(strip)),
        ]
        out += struct.pack("<H", entries)
        for tag, kind, value in tags:
            packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        out += struct.pack("<I", following)
    return bytes(out)


def pdf(objects: list[bytes], *, prefix: bytes = b"", trailer: bytes = b"") -> bytes:
    """A PDF of the given objects (1 is the catalog), with a correct cross-reference table."""
    out = bytearray(prefix + b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out) + trailer


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


PAGE_TEXT = b"BT /F1 12 Tf 72 720 Td (FACTURE FA-2026-001 Total TTC 120,00 EUR) Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page_pdf(catalog_extra: bytes = b"", more: list[bytes] | None = None, content: bytes = b"") -> bytes:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
    page += b"/Resources << /Font << /F1 5 0 R >> >> >>"
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            content or stream(PAGE_TEXT),
            FONT,
            *(more or []),
        ]
    )


def content_bomb() -> bytes:
    return one_page_pdf(content=stream(zeros_deflated(2 << 30), b"/Filter /FlateDecode"))


def hex_content_bomb() -> bytes:
    """The bomb behind a filter the pre-check does not count: the bounded child must stop it."""
    hexed = zeros_deflated(2 << 30).hex().encode() + b">"
    return one_page_pdf(content=stream(hexed, b"/Filter [/ASCIIHexDecode /FlateDecode]"))


def many_pages(count: int = 10_000) -> bytes:
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * count
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
            *pages,
        ]
    )


def jpeg(width: int, height: int, *, declare: tuple[int, int] | None = None) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (width, height), 255).save(buf, format="JPEG")
    data = bytearray(buf.getvalue())
    if declare is not None:
        sof = data.index(b"\xff\xc0")
        data[sof + 5 : sof + 9] = struct.pack(">HH", declare[1], declare[0])
    return bytes(data)


def zip_file(method: int = zipfile.ZIP_STORED) -> bytes:
    """A ZIP holding a PDF; stored (not deflated), the PDF shows within the first KiB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as archive:
        archive.writestr("facture.pdf", one_page_pdf())
    return buf.getvalue()


def jpeg_pdf_polyglot() -> bytes:
    """A JPEG whose comment segment holds a whole PDF, within the first KiB where PDF readers look."""
    inner = one_page_pdf()[:900]
    image = jpeg(64, 64)
    comment = b"\xff\xfe" + struct.pack(">H", len(inner) + 2) + inner
    return image[:2] + comment + image[2:]


def pdf_zip_polyglot() -> bytes:
    return one_page_pdf() + zip_file()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 48 + b"PE\0\0" + b"\0" * 200

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">'
        % (i, b"".join(b"&lol%s;" % (b"" if i == 1 else b"%d" % (i - 1)) for _ in range(10)))
        for i in range(1, 10)
    )
    + b']><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&xxe;</ID></Invoice>'
)
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/evil.dtd">'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>1</ID></Invoice>'
)
JUNK = bytes(range(256)) * 4


@dataclass(frozen=True)
class Case:
    name: str  # the file name as received (it may be hostile too)
    make: Callable[[], bytes]
    words: str = ""  # words the reason must hold


CASES = [
    Case(
        "png-bomb-40000x40000.png", lambda: png(40_000, 40_000, zeros_deflated(40_000 * 40_001)), "too large"
    ),
    Case(
        "png-blank-169mpx.png",
        lambda: png(13_000, 13_000, zeros_deflated(13_000 * 13_001)),
        "DEMATFLOW_MAX_PIXELS",
    ),
    Case(
        "png-header-lies.png",
        lambda: png(13_000, 13_000, zlib.compress(b"\0" * 64 * 65)),
        "n'en contient pas",
    ),
    Case("jpeg-header-lies.jpg", lambda: jpeg(64, 64, declare=(13_000, 13_000)), "n'en contient pas"),
    Case("jpeg-declares-65000.jpg", lambda: jpeg(64, 64, declare=(65_000, 65_000)), "too large"),
    Case("tiff-bomb.tif", lambda: tiff(40_000, 40_000, zeros_deflated(1_600_000_000)), "too large"),
    Case(
        "tiff-5000-frames.tif",
        lambda: tiff(64, 64, b"\xff" * 64 * 64, compression=1, frames=5000),
        "5000 pages",
    ),
    Case("pdf-content-bomb.pdf", content_bomb, "decompression bomb"),
    Case("pdf-hexed-content-bomb.pdf", hex_content_bomb, "DEMATFLOW_STAGE_"),
    Case("pdf-10000-pages.pdf", many_pages, "10000 pages"),
    Case("pdf-javascript.pdf", lambda: one_page_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")),
    Case("pdf-launch.pdf", lambda: one_page_pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >>")),
    Case(
        "pdf-embedded-exe.pdf",
        lambda: one_page_pdf(
            b"/Names << /EmbeddedFiles << /Names [(facture.exe) 6 0 R] >> >>",
            [
                b"<< /Type /Filespec /F (facture.exe) /EF << /F 7 0 R >> >>",
                stream(EXE, b"/Type /EmbeddedFile"),
            ],
        ),
    ),
    Case("zip-named.pdf", lambda: zip_file(zipfile.ZIP_DEFLATED), "unrecognised"),
    Case("zip-stored-named.pdf", lambda: zip_file(zipfile.ZIP_STORED), "polyglot"),
    Case("polyglot-jpeg-pdf.jpg", jpeg_pdf_polyglot),
    Case("polyglot-pdf-zip.pdf", pdf_zip_polyglot),
    Case("xml-billion-laughs.xml", lambda: BILLION_LAUGHS, "entit"),
    Case("xml-xxe.xml", lambda: XXE, "entit"),
    Case("xml-external-dtd.xml", lambda: EXTERNAL_DTD),
    Case("../../../../tmp/dematflow-escaped.pdf", lambda: JUNK, "unrecognised"),
    Case("facture\r\n\x07\x08\x7f.pdf", lambda: JUNK + b"1", "unrecognised"),
    Case("\x1b]0;pwned\x07\x1b[2J\x1b[31m[bold red]facture[/].pdf", lambda: JUNK + b"2", "unrecognised"),
]


# --- the runs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    case: Case
    answer: dict[str, object]
    size: int

    @property
    def peak_mb(self) -> float:
        return max(float(str(self.answer.get(key, 0))) for key in ("pipeline_mb", "child_mb"))


def _environment(data_dir: Path, scratch_tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEMATFLOW_DATA_DIR": str(data_dir),
        "DEMATFLOW_OCR_JOBS": "1",  # OCR in the pipeline process: its tesseract children are counted
        "DEMATFLOW_IN_FLIGHT": "1",
        "DEMATFLOW_STAGE_MEMORY": str(STAGE_MEMORY_MB),
        "DEMATFLOW_STAGE_TIMEOUT": str(STAGE_TIMEOUT_S),
        "TMPDIR": str(scratch_tmp),  # must stay empty: nothing is written outside the data directory
    }


def _run_all(cases: list[tuple[int, Case]], root: Path, env: dict[str, str]) -> tuple[list[Run], str]:
    """One runner process for these cases, one forked child per case."""
    sizes, todo = {}, []
    for index, case in cases:
        path = root / "inputs" / f"case-{index}"
        path.write_bytes(case.make())
        sizes[case.name] = path.stat().st_size
        todo.append((str(path), case.name))
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(todo)],
        capture_output=True,
        text=True,
        timeout=170,
        env=env,
        cwd=root / "inputs",
    )
    for kept, _ in todo:
        Path(kept).unlink()
    answers = {a["name"]: a for a in map(json.loads, proc.stdout.splitlines())}
    missing = {"status": f"runner exit {proc.returncode}"}
    runs = [Run(case, answers.get(case.name, missing), sizes[case.name]) for _, case in cases]
    return runs, proc.stderr


@dataclass(frozen=True)
class Batch:
    root: Path
    runs: list[Run]
    stderr: str  # the runners': warnings and log lines, never a traceback

    def run(self, name: str) -> Run:
        return next(run for run in self.runs if run.case.name == name)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path, request: pytest.FixtureRequest) -> Batch:
    root = tmp_path_factory.mktemp("hostile")
    (root / "inputs").mkdir()
    (root / "systmp").mkdir()
    data_dir = root / "data"
    shutil.copytree(dev_keys, data_dir / "keys")
    env = _environment(data_dir, root / "systmp")
    open_services(Settings.from_env({"DEMATFLOW_DATA_DIR": str(data_dir)}))  # the catalogue, made once
    numbered = list(enumerate(CASES))
    with ThreadPoolExecutor(2) as pool:  # two runners, on the two cores
        halves = list(pool.map(lambda half: _run_all(half, root, env), (numbered[0::2], numbered[1::2])))
    runs = sorted((run for part, _ in halves for run in part), key=lambda run: CASES.index(run.case))
    _print_table(request, runs)
    return Batch(root, runs, "".join(stderr for _, stderr in halves))


def _print_table(request: pytest.FixtureRequest, runs: list[Run]) -> None:
    lines = [f"\n{'input':44} {'bytes':>10} {'outcome':12} {'peak MB':>7} {'s':>5}  reason"]
    for run in runs:
        shown = run.case.name.encode("unicode_escape").decode()[:44]
        reason = str(run.answer.get("reason", "")).encode("unicode_escape").decode()[:120]
        status, seconds = str(run.answer["status"]), float(str(run.answer.get("seconds", 0)))
        lines.append(f"{shown:44} {run.size:>10,} {status:12} {run.peak_mb:>7.0f} {seconds:>5.1f}  {reason}")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print("\n".join(lines))


@pytest.mark.parametrize("name", [case.name for case in CASES], ids=[f"case{i}" for i in range(len(CASES))])
def test_hostile_input_is_refused_with_a_reason(batch: Batch, name: str) -> None:
    run = batch.run(name)
    answer = run.answer
    assert answer["status"] in ("quarantined", "rejected"), (answer, batch.stderr[-3000:])
    reason = str(answer["reason"])
    assert reason and len(reason) < 400 and "Error:" not in reason, reason
    assert run.case.words in reason, reason
    if answer["status"] == "quarantined":
        assert answer["lifecycle"] == 501 and str(answer["lifecycle_reason"]).startswith("IRR_"), answer
    assert run.peak_mb < PEAK_MB, answer


def test_no_traceback_reaches_the_output(batch: Batch) -> None:
    assert "Traceback" not in batch.stderr, batch.stderr[-3000:]


def test_nothing_is_written_outside_the_data_directory(batch: Batch) -> None:
    assert list((batch.root / "systmp").iterdir()) == []  # the children's TMPDIR: no OCR page left
    assert list((batch.root / "inputs").iterdir()) == []  # no file made from a hostile name
    assert {p.name for p in batch.root.iterdir()} == {"inputs", "systmp", "data"}
    assert not Path("/tmp/dematflow-escaped.pdf").exists()


def test_audit_verify_passes_afterwards(batch: Batch) -> None:
    services = open_services(Settings.from_env({"DEMATFLOW_DATA_DIR": str(batch.root / "data")}))
    verification = audit.verify(services)
    assert verification.ok, verification.problems


@pytest.mark.parametrize("command", ["validate", "extract"])
def test_cli_refuses_a_file_over_the_limit_before_reading_it(
    tmp_path: Path, dev_keys: Path, command: str
) -> None:
    # Given a sparse 1 GiB file (no disk used) and a 1 MB limit, Then it is refused at once, exit 2.
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(1 << 30)
    shutil.copytree(dev_keys, tmp_path / "data" / "keys")
    env = {**os.environ, "DEMATFLOW_MAX_BYTES": str(1 << 20)}
    args = [sys.executable, "-m", "cli.main", "--data-dir", str(tmp_path / "data"), command, str(big)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "DEMATFLOW_MAX_BYTES" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
