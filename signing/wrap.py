"""Lossless wrap of scanned images (PNG, JPEG, TIFF, multi-page) into a PDF.

Scanner TIFFs of 8-bit gray or RGB frames, the bulk of the paper flow, are written here: every
frame's decoded samples go into the PDF under Flate, compressed by ISA-L (Intel's deflate, the
``isal`` package) at its level 1. img2pdf re-encodes such frames as PNG at Pillow's default level:
~0.84 s a 300-dpi gray scan, more than the seal and archive together. On such a scan (measured, 8.7
MB of samples, CPU time): ISA-L level 1 takes 46 ms for 4.6 MB, zlib's Z_RLE 148 ms for 4.1 MB,
zlib level 1 178 ms for 4.9 MB, libdeflate level 1 81 ms for 4.6 MB: a scan's noise leaves little for
LZ77 to find, so the fastest coder wins; 13 % more bytes than Z_RLE for a third of the time.
Everything else goes to img2pdf, which embeds JPEG, JPEG 2000, PNG and CCITT G4 data as they are
and handles palettes, alpha, bilevel and CMYK frames, ICC profiles and EXIF orientation.
"""

from __future__ import annotations

import io
import logging
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import img2pdf
from isal import isal_zlib
from PIL import ExifTags, Image, TiffImagePlugin

from dematflow.errors import CorruptInput, EmptyInput, OversizedInput

log = logging.getLogger(__name__)

_IMG2PDF_ERRORS = (
    img2pdf.ImageOpenError,
    img2pdf.AlphaChannelError,
    img2pdf.PdfTooLargeError,
    img2pdf.NegativeDimensionError,
    img2pdf.UnsupportedColorspaceError,
    img2pdf.JpegColorspaceError,
    img2pdf.ExifOrientationError,
)
# Pillow signals truncated or inconsistent images with a wide range of built-ins.
_DECODE_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, EOFError)

_COLOUR_SPACES = {"L": b"/DeviceGray", "RGB": b"/DeviceRGB"}
_DEFAULT_DPI = 96  # img2pdf's, for a TIFF that declares none: the same page size either way
_MAX_PAGE_PT = 14_400  # the PDF limit of a page side (200 inches), as enforced by img2pdf
_THREADS = max(1, min(4, os.cpu_count() or 1))  # frames compressed at once


@dataclass(frozen=True)
class _Page:
    """One frame's image and page geometry (its samples travel beside it, Flate-compressed)."""

    width: int
    height: int
    colour_space: bytes
    width_pt: float
    height_pt: float


def wrap_images_as_pdf(data: bytes) -> bytes:
    """Wrap one image file (every frame of a multi-page TIFF) into a PDF, pixel for pixel.

    JPEG (and JPEG 2000) streams are embedded byte for byte; PNG data is copied without
    re-encoding; other rasters (TIFF) are stored with lossless Flate. An alpha channel is
    kept losslessly as a PDF soft mask (/SMask, img2pdf >= 0.5): nothing is flattened.
    Page size comes from the declared resolution (96 dpi if none), as with img2pdf.
    Raises EmptyInput, CorruptInput (unreadable or unsupported image) or OversizedInput
    (Pillow's decompression-bomb guard).
    """
    if not data:
        raise EmptyInput("cannot wrap an empty file")
    try:
        frames = _plain_tiff_frames(data)
        pdf = (
            _write_pdf(frames)
            if frames is not None
            else img2pdf.convert(data, rotation=img2pdf.Rotation.ifvalid)
        )
    except Image.DecompressionBombError as exc:
        raise OversizedInput(f"image too large to wrap: {exc}") from exc
    except _IMG2PDF_ERRORS as exc:
        raise CorruptInput(f"image cannot be wrapped as PDF: {_describe(exc)}") from exc
    except _DECODE_ERRORS as exc:
        raise CorruptInput(f"image cannot be decoded: {_describe(exc)}") from exc
    if not isinstance(pdf, bytes):
        raise CorruptInput("img2pdf produced no PDF")
    log.info("wrapped image: %d bytes -> %d bytes PDF", len(data), len(pdf))
    return pdf


def _plain_tiff_frames(data: bytes) -> list[tuple[_Page, bytes]] | None:
    """The frames of a TIFF whose every frame is 8-bit gray or RGB without alpha, ICC profile or
    transparency, with their samples Flate-compressed; None for any other file (img2pdf's).

    Frames are decoded one after the other and compressed on ``_THREADS`` threads (ISA-L lets
    go of the GIL), at most that many raw frames waiting, so a 200-page TIFF never sits decoded whole.
    """
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    pages: list[_Page] = []
    pending: deque[Future[bytes]] = deque()
    done: list[bytes] = []
    with Image.open(io.BytesIO(data)) as img, ThreadPoolExecutor(_THREADS) as pool:
        if not isinstance(img, TiffImagePlugin.TiffImageFile):
            return None
        for index in range(img.n_frames):
            img.seek(index)
            plain = _plain_frame(img)
            if plain is None:
                return None
            if len(pending) >= _THREADS:
                done.append(pending.popleft().result())
            pages.append(plain[0])
            pending.append(pool.submit(_deflate, plain[1]))
        done += [future.result() for future in pending]
    return list(zip(pages, done, strict=True))


def _plain_frame(img: TiffImagePlugin.TiffImageFile) -> tuple[_Page, bytes] | None:
    """The frame's page and raw samples, or None when the plain writer is not the one for it."""
    tags = img.tag_v2
    if (
        img.mode not in _COLOUR_SPACES
        or max(tags.get(TiffImagePlugin.BITSPERSAMPLE, [8])) != 8
        or "icc_profile" in img.info
        or "transparency" in img.info
    ):
        return None
    samples = img.tobytes()  # rows of 1 (L) or 3 (RGB) bytes a pixel, no padding: PDF's layout
    if int(img.tag_v2.get(ExifTags.Base.Orientation, 1)) != 1:
        # Pillow turns a frame upright as it decodes it and then drops the tag (so the page needs
        # no /Rotate); a Pillow that left the tag would give stored pixels: let img2pdf decide.
        return None
    dpi = _dpi(img)
    if dpi is None:
        return None
    width, height = img.size
    width_pt, height_pt = width * 72.0 / dpi[0], height * 72.0 / dpi[1]
    if not (0 < width_pt <= _MAX_PAGE_PT and 0 < height_pt <= _MAX_PAGE_PT):
        return None  # img2pdf says why
    return _Page(width, height, _COLOUR_SPACES[img.mode], width_pt, height_pt), samples


def _deflate(samples: bytes) -> bytes:
    """A zlib stream (PDF's FlateDecode) of ``samples``, at ISA-L's fastest level that still
    searches for matches (level 0 gave 5.9 MB against 4.6 MB a scan, for the same time)."""
    return bytes(isal_zlib.compress(samples, 1))


def _dpi(img: TiffImagePlugin.TiffImageFile) -> tuple[int, int] | None:
    """The declared resolution rounded as img2pdf rounds it, 96 when none is declared; None for
    the odd cases img2pdf has rules of its own for (a unitless resolution, a negative one)."""
    declared = img.info.get("dpi")
    if not declared:
        return _DEFAULT_DPI, _DEFAULT_DPI
    x, y = round(declared[0]), round(declared[1])
    if (x, y) == (0, 0):
        return _DEFAULT_DPI, _DEFAULT_DPI
    return (x, y) if x > 1 and y > 1 else None


def _write_pdf(frames: list[tuple[_Page, bytes]]) -> bytes:
    """A plain PDF 1.4: catalogue, page tree, then per frame its page, content and image.

    Objects: 1 catalogue, 2 page tree, then 3k+3 page, 3k+4 content, 3k+5 image for frame k."""
    chunks: list[bytes] = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    offsets: list[int] = []
    size = len(chunks[0])

    def emit(body: bytes, stream: bytes | None = None) -> None:
        nonlocal size
        offsets.append(size)
        parts = [b"%d 0 obj\n" % len(offsets), body]
        if stream is not None:
            parts += [b"\nstream\n", stream, b"\nendstream"]
        parts.append(b"\nendobj\n")
        chunks.extend(parts)
        size += sum(len(p) for p in parts)

    kids = b" ".join(b"%d 0 R" % (3 * k + 3) for k in range(len(frames)))
    emit(b"<< /Type /Catalog /Pages 2 0 R >>")
    emit(b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (kids, len(frames)))
    for k, (f, flate) in enumerate(frames):
        content, image = 3 * k + 4, 3 * k + 5  # the page itself is 3k+3
        box = b"%.4f %.4f" % (f.width_pt, f.height_pt)
        emit(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 %s ]"
            b" /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (box, image, content)
        )
        draw = b"q\n%.4f 0 0 %.4f 0 0 cm\n/Im0 Do\nQ" % (f.width_pt, f.height_pt)
        emit(b"<< /Length %d >>" % len(draw), draw)
        emit(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s"
            b" /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>"
            % (f.width, f.height, f.colour_space, len(flate)),
            flate,
        )
    xref = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)]
    xref += [b"%010d 00000 n \n" % offset for offset in offsets]
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, size)
    return b"".join([*chunks, *xref, trailer])


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"
