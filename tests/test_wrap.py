"""The lossless wrap of scanned images: the PDF's images decode back to the original frames exactly."""

from __future__ import annotations

import io
import time
from typing import Any

import img2pdf
import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject

from cli.samples import demo_invoices, invoice_pdf, scan_of
from dematflow.errors import CorruptInput
from signing.wrap import wrap_images_as_pdf


def _noise(mode: str, size: tuple[int, int] = (240, 170)) -> Image.Image:
    """A scan-like frame: noise, so that a lossy or shifted encoding cannot pass by chance."""
    return Image.effect_noise(size, 64).convert(mode)


def _tiff(frames: list[Image.Image], **save: object) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], **save)
    return buf.getvalue()


def _decoded_frames(tiff: bytes) -> list[Image.Image]:
    """Every frame as Pillow decodes it (what OCR reads and what a viewer of the TIFF shows)."""
    out = []
    with Image.open(io.BytesIO(tiff)) as img:
        for index in range(getattr(img, "n_frames", 1)):
            img.seek(index)
            out.append(img.copy())
    return out


def _pdf_images(pdf: bytes) -> list[tuple[dict[Any, Any], bytes, list[float], int]]:
    """Per page: the image XObject's dictionary, its samples decoded from the stream's filters,
    the MediaBox and /Rotate."""
    out = []
    for page in PdfReader(io.BytesIO(pdf), strict=True).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        xobjects = resources["/XObject"].get_object()
        assert isinstance(xobjects, DictionaryObject) and len(xobjects) == 1
        image = xobjects[next(iter(xobjects))].get_object()
        assert isinstance(image, StreamObject)
        box = [float(v) for v in page.mediabox]
        out.append((dict(image), image.get_data(), box, int(page.get("/Rotate", 0))))
    return out


def _assert_pixel_identical(pdf: bytes, tiff: bytes) -> None:
    frames, images = _decoded_frames(tiff), _pdf_images(pdf)
    assert len(images) == len(frames)
    for frame, (image, samples, _box, _rotate) in zip(frames, images, strict=True):
        assert (image["/Width"], image["/Height"]) == frame.size
        assert image["/BitsPerComponent"] == 8
        assert image["/ColorSpace"] == {"L": "/DeviceGray", "RGB": "/DeviceRGB"}[frame.mode]
        assert "/DecodeParms" not in image and "/SMask" not in image
        assert samples == frame.tobytes()


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg"])
def test_tiff_frames_come_back_pixel_for_pixel(compression: str | None) -> None:
    """Gray and RGB frames of one file, whatever the TIFF compression (a JPEG-compressed TIFF's
    decoded pixels are what is kept: they are what the TIFF shows)."""
    frames = [_noise("L"), _noise("RGB", (170, 240)), _noise("L", (300, 120))]
    tiff = _tiff(frames, compression=compression, dpi=(300, 300))
    _assert_pixel_identical(wrap_images_as_pdf(tiff), tiff)


@pytest.mark.parametrize("dpi", [(300, 300), (200, 300), (72.009, 72.009), None])
def test_page_size_is_img2pdf_s(dpi: tuple[float, float] | None) -> None:
    """The pages measure what img2pdf made of them (96 dpi when none is declared)."""
    save = {"dpi": dpi} if dpi else {}
    tiff = _tiff([_noise("L"), _noise("RGB")], **save)
    reference = _pdf_images(img2pdf.convert(tiff, rotation=img2pdf.Rotation.ifvalid))
    wrapped = _pdf_images(wrap_images_as_pdf(tiff))
    for (_, _, box, rotate), (_, _, expected_box, expected_rotate) in zip(wrapped, reference, strict=True):
        assert box == pytest.approx(expected_box, abs=1e-3) and rotate == expected_rotate == 0


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_tiff_orientation_is_applied_once(orientation: int) -> None:
    """Pillow decodes a frame upright and drops its Orientation tag; the page shows those pixels
    as they are, with no /Rotate on top (img2pdf added one, turning such pages twice)."""
    stored = _noise("L", (240, 170))
    tiff = _tiff([stored], tiffinfo={274: orientation}, dpi=(300, 300))
    pdf = wrap_images_as_pdf(tiff)
    _assert_pixel_identical(pdf, tiff)
    upright = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}
    (_, samples, _, rotate), *_ = _pdf_images(pdf)
    assert samples == stored.transpose(upright[orientation]).tobytes() and rotate == 0


@pytest.mark.parametrize(
    "frames",
    [
        [_noise("L").convert("1")],  # bilevel: img2pdf makes CCITT G4 of it
        [_noise("L").convert("P")],  # palette
        [_noise("L"), _noise("L").convert("1")],  # one odd frame sends the whole file to img2pdf
    ],
    ids=["bilevel", "palette", "mixed"],
)
def test_other_tiffs_still_go_to_img2pdf_losslessly(frames: list[Image.Image]) -> None:
    tiff = _tiff(frames)
    pdf = wrap_images_as_pdf(tiff)
    assert not pdf.startswith(b"%PDF-1.4\n")  # img2pdf's, not the plain writer's
    pages = PdfReader(io.BytesIO(pdf)).pages
    for page, frame in zip(pages, _decoded_frames(tiff), strict=True):
        decoded = page.images[0].image
        assert decoded is not None and decoded.size == frame.size
        assert decoded.convert("L").tobytes() == frame.convert("L").tobytes()


def test_a_truncated_tiff_is_corrupt_input() -> None:
    tiff = _tiff([_noise("L"), _noise("L")])
    with pytest.raises(CorruptInput):
        wrap_images_as_pdf(tiff[: len(tiff) * 3 // 4])


def test_a_scanned_300_dpi_page_is_kept_and_not_re_encoded_slowly() -> None:
    """The reason this writer exists: img2pdf's PNG re-encoding of a 300-dpi gray scan took ~0.84 s,
    Flate here a sixth of that. The margin is wide: the machine may be shared."""
    scan = scan_of(invoice_pdf(demo_invoices(seed=2000)[2]), seed=1, skew_degrees=1.5, image_format="tiff")
    tiff = _tiff([_decoded_frames(scan)[0]] * 2, dpi=(300, 300))  # uncompressed, as scanners send
    start = time.perf_counter()
    pdf = wrap_images_as_pdf(tiff)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    img2pdf.convert(tiff, rotation=img2pdf.Rotation.ifvalid)
    theirs = time.perf_counter() - start
    _assert_pixel_identical(pdf, tiff)
    assert ours < theirs / 3, (ours, theirs)
