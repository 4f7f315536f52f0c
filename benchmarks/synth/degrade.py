"""Scanner degradations at three quality levels: render, skew, noise, blur, JPEG, upside-down pages."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image

LEVELS = ("digital", "clean", "office", "hard")


@dataclass(frozen=True)
class Quality:
    """The ranges a level draws its degradations from."""

    dpi: tuple[int, int]
    skew: float  # maximum absolute skew in degrees
    noise: float  # standard deviation of Gaussian noise, in grey levels
    blur: float  # Gaussian blur sigma at 300 dpi (0: none)
    jpeg: int | None  # JPEG quality, None: lossless PNG
    upside_down: float  # probability of a 180° page


QUALITIES = {
    "clean": Quality(dpi=(300, 300), skew=0.5, noise=0.0, blur=0.0, jpeg=None, upside_down=0.0),
    "office": Quality(dpi=(200, 300), skew=2.0, noise=10.0, blur=0.6, jpeg=75, upside_down=0.0),
    "hard": Quality(dpi=(150, 200), skew=4.0, noise=28.0, blur=1.1, jpeg=50, upside_down=1 / 3),
}


@dataclass(frozen=True)
class Scan:
    """A degraded page image and what was done to it."""

    data: bytes
    extension: str  # "png" or "jpg"
    dpi: int
    skew: float  # degrees, counter-clockwise
    upside_down: bool


def render(pdf: bytes, *, dpi: int) -> np.ndarray:
    """Page 1 of ``pdf`` as a grey uint8 array (pypdfium2)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        bitmap = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        page.close()
    finally:
        document.close()
    return np.asarray(bitmap, dtype=np.uint8)


def rotate(pixels: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre, same canvas, white fill (as a skewed sheet on a scanner glass)."""
    import cv2

    h, w = pixels.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(pixels, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def degrade_pixels(
    pixels: np.ndarray, q: Quality, *, dpi: int, rng: random.Random
) -> tuple[np.ndarray, float, bool]:
    """Skew, blur, noise and maybe turn upside down; returns (pixels, skew, upside_down)."""
    import cv2

    skew = rng.uniform(-q.skew, q.skew)
    out = rotate(pixels, skew) if abs(skew) > 0.01 else pixels.copy()
    if q.blur:
        out = cv2.GaussianBlur(out, (0, 0), q.blur * dpi / 300)
    if q.noise:
        noise_rng = np.random.default_rng(rng.getrandbits(32))
        noisy = out.astype(np.float32) + noise_rng.normal(0.0, q.noise, out.shape).astype(np.float32)
        specks = noise_rng.random(out.shape, dtype=np.float32)
        density = q.noise / 20000
        noisy[specks < density] = 0.0
        out = np.clip(noisy, 0, 255).astype(np.uint8)
    upside_down = rng.random() < q.upside_down
    if upside_down:
        out = np.ascontiguousarray(np.rot90(out, 2))
    return out, skew, upside_down


def encode(pixels: np.ndarray, *, dpi: int, jpeg: int | None) -> tuple[bytes, str]:
    image = Image.fromarray(pixels, mode="L")
    buffer = io.BytesIO()
    if jpeg is None:
        image.save(buffer, format="PNG", dpi=(dpi, dpi), compress_level=1)
        return buffer.getvalue(), "png"
    image.save(buffer, format="JPEG", quality=jpeg, dpi=(dpi, dpi))
    return buffer.getvalue(), "jpg"


def scan(pdf: bytes, *, level: str, rng: random.Random) -> Scan:
    """The first page of ``pdf`` as a scanner of quality ``level`` (clean, office, hard) delivers it."""
    q = QUALITIES[level]
    dpi = rng.choice(range(q.dpi[0], q.dpi[1] + 1, 25))
    pixels, skew, upside_down = degrade_pixels(render(pdf, dpi=dpi), q, dpi=dpi, rng=rng)
    data, ext = encode(pixels, dpi=dpi, jpeg=q.jpeg)
    return Scan(data=data, extension=ext, dpi=dpi, skew=skew, upside_down=upside_down)
