"""What looking for separator sheets costs a page (ms): scanned PDF pages at 150 and 300 dpi, TIFF
frames at 300 dpi, and born-digital PDF pages (text layer read, nothing rendered).

    nice -n 10 .venv/bin/python benchmarks/separator.py [--pages 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import img2pdf
import pypdfium2 as pdfium
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builders import pages
from cli.sample_invoices import demo_invoices
from cli.sample_render import invoice_pdf
from extractors import images, separator


def _scans(pdf: bytes, dpi: int) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    out = [page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for page in doc]
    doc.close()
    return out


def _jpeg_pdf(frames: list[Image.Image], dpi: int) -> bytes:
    jpegs = []
    for frame in frames:
        buffer = io.BytesIO()
        frame.save(buffer, format="JPEG", quality=85, dpi=(dpi, dpi))
        jpegs.append(buffer.getvalue())
    return img2pdf.convert(jpegs)


def _tiff(frames: list[Image.Image], dpi: int) -> bytes:
    frames = [f.copy() for f in frames]  # without the JPEG options Pillow left on them
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:],
                   compression="tiff_lzw", dpi=(dpi, dpi))  # fmt: skip
    return buffer.getvalue()


def _time(what: str, n: int, rounds: int, run: Callable[[], object]) -> None:
    best = min(_once(run) for _ in range(rounds))
    print(f"{what:<34} {best * 1000 / n:7.1f} ms a page ({n} pages, best of {rounds})")


def _once(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _pdf_run(data: bytes) -> dict[int, dict[str, str]]:
    return separator.find_in_pdf(data)


def _tiff_run(data: bytes) -> dict[int, dict[str, str]]:
    frames = images.load_images(data, max_pages=1000, max_pixels=200_000_000)
    return separator.find_in_images(frames, images.image_dpi(data))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    invoices = [invoice_pdf(i) for i in demo_invoices(seed=5)]
    digital = pages.select([(invoices[i % 3], [1]) for i in range(args.pages)])
    _time("born-digital PDF (text layer)", args.pages, args.rounds, lambda: separator.find_in_pdf(digital))
    for dpi in (150, 300):
        frames = _scans(digital, dpi)
        scan = _jpeg_pdf(frames, dpi)
        _time(f"scanned PDF, JPEG {dpi} dpi", args.pages, args.rounds, lambda s=scan: _pdf_run(s))
        tiff = _tiff(frames, dpi)
        _time(f"TIFF LZW {dpi} dpi (decode included)", args.pages, args.rounds, lambda t=tiff: _tiff_run(t))


if __name__ == "__main__":
    main()
