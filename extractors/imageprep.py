"""OCR working copy of a page image: grayscale, ~300 dpi, quarter turns, deskew (±5°), denoise, binarise.

Only a copy is ever changed: the archived master keeps the original pixels (copie fiable rule).

Measured with ``benchmarks/ocr_quality.py`` (word / numeric-token recall against the PDF text layer,
orientation given, 12 documents per level): the denoising choice is what matters on degraded scans.
Upscaling 150-200 dpi pages with Lanczos instead of cubic, or to 400 instead of 300 dpi, gained
nothing (hard: 0.667 and 0.702 words against 0.688) and 400 dpi doubles tesseract's time; deskewing
before scaling was no better (0.898 against 0.907 words); unsharp masking (-0.013), a global Otsu
(-0.083) or a Sauvola threshold (-0.069) after denoising lost words, and fastNlMeansDenoising (h=20)
cost 2-4 s a page for less than a median filter gives (0.854 against 0.907).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAX_SKEW = 5.0
LIGHT_NOISE = 2.0  # estimate_noise() from which the grain is smoothed (clean ~0, office scans ~4)
HEAVY_NOISE = 10.0  # ... and from which an upscaled page also needs a median (hard scans ~12)
TARGET_DPI = 300.0  # tesseract's sweet spot for body text
_NOISE_TILE = 256  # pixels: the side of the 9 tiles the grain is measured on
_ANALYSIS_WIDTH = 1000  # pixels: skew is estimated on a downscaled copy to stay fast
# Orientation is detected at the working copy's resolution (capped): a half-size copy saved ~0.2 s per
# doubtful page, but once the grain is smoothed, thin fonts (Courier-like) at the hard level fade
# when halved and OSD's confidence fell to 1.0-1.1 (under capture.MIN_OSD_CONFIDENCE): 2 of 5
# upside-down pages stayed upside down; at 300 dpi the same pages give 3.6-3.9, upright ones 4-21.
_OSD_DPI = 300.0
_A4_LONG_INCHES = 11.69
_PAGE_INCHES = (3.0, 24.0)  # a declared dpi implying a long side outside this is not believed


Affine = tuple[
    float, float, float, float, float, float
]  # (a, b, c, d, e, f): x' = ax + cy + e, y' = bx + dy + f
IDENTITY: Affine = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Prepared:
    """The working copy given to OCR, the skew that was corrected and the steps applied.

    ``to_source`` maps a point of ``image`` (pixels, y down) back onto the page image it was made
    from, undoing the quarter turn, the scaling and the deskew: OCR words found on the working copy
    can be laid back on the kept page (its searchable text layer)."""

    image: np.ndarray
    skew_degrees: float
    steps: tuple[str, ...]
    dpi: float = TARGET_DPI  # resolution of ``image``, passed to tesseract
    rotation: int = 0  # clockwise quarter turn applied to put the page upright
    to_source: Affine = IDENTITY


def _matrix(affine: Affine) -> np.ndarray:
    a, b, c, d, e, f = affine
    return np.array([[a, c, e], [b, d, f], [0.0, 0.0, 1.0]])


def _affine(m: np.ndarray) -> Affine:
    return (float(m[0, 0]), float(m[1, 0]), float(m[0, 1]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2]))


def compose(*affines: Affine) -> Affine:
    """The affine map applying ``affines`` in order (the first one first)."""
    m = np.eye(3)
    for affine in affines:
        m = _matrix(affine) @ m
    return _affine(m)


def invert(affine: Affine) -> Affine:
    return _affine(np.linalg.inv(_matrix(affine)))


def _quarter_turn(quarter: int, w: int, h: int) -> Affine:
    """Where ``np.rot90(image, k=-quarter)`` (clockwise) sends a point of a ``w`` x ``h`` image."""
    return [
        IDENTITY,
        (0.0, 1.0, -1.0, 0.0, float(h), 0.0),
        (-1.0, 0.0, 0.0, -1.0, float(w), float(h)),
        (0.0, -1.0, 1.0, 0.0, 0.0, float(w)),
    ][quarter % 4]


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the installation
        from dematflow.errors import ToolUnavailable

        raise ToolUnavailable("opencv is missing (pip install opencv-python-headless)") from exc
    return cv2


def _gray(image: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    if image.ndim == 2:
        gray = image  # never changed in place: every step below makes a new array
    elif image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if gray.dtype != np.uint8:
        gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return np.ascontiguousarray(gray)


def estimate_skew(gray: np.ndarray) -> float:
    """Angle (degrees, counter-clockwise positive) that makes text lines horizontal; 0 if unsure.

    Projection profile: the rotation whose row sums of ink are the most peaked wins.
    """
    cv2 = _cv2()
    h, w = gray.shape
    scale = min(1.0, _ANALYSIS_WIDTH / max(w, 1))
    # Linear, not area, resampling: the same angle on 24 pages of every quality level, 3x faster.
    small = cv2.resize(gray, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_LINEAR)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if np.count_nonzero(ink) < 0.001 * ink.size:
        return 0.0
    ys, xs = np.nonzero(ink)
    rows0 = ys.astype(np.float64)
    across = xs.astype(np.float64) - ink.shape[1] / 2

    def score(angle: float) -> float:
        # Row of each ink pixel once turned by ``angle`` (a shear: within ±5° the same as a rotation,
        # 2.7 times faster than warping the page for each angle tried).
        rows = np.rint(rows0 - across * np.tan(np.radians(angle))).astype(np.int64)
        counts = np.bincount(rows - rows.min()).astype(np.float64)
        return float(np.sum(np.diff(counts) ** 2))

    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5)
    best = max(coarse, key=score)
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    best = max(fine, key=score)
    return round(float(best), 2)


def _rotate(gray: np.ndarray, angle: float) -> tuple[np.ndarray, Affine]:
    """The image turned by ``angle`` about its centre (same size), and where the turn sends a point."""
    cv2 = _cv2()
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    turned = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(turned), _affine(np.vstack([m, [0.0, 0.0, 1.0]]))


def estimate_noise(gray: np.ndarray) -> float:
    """Grain of the paper in grey levels: a robust standard deviation of the background's pixels
    around their 5x5 mean, text and its surroundings left out. Measured on the scan as delivered
    (upscaling smooths the grain): ~0 on clean scans, 4 at the office level (sigma 10 + JPEG 75),
    7.4 at sigma 18 + JPEG 60 and 12 at the hard level (sigma 28 + JPEG 50), whatever the dpi.
    Read on a band of tiles across the page (same pixels, no resampling): 0.2 s -> 0.02 s a page."""
    cv2 = _cv2()
    h, w = gray.shape
    size = min(_NOISE_TILE, h, w)
    tiles = [
        gray[y : y + size, x : x + size]
        for y in np.linspace(0, h - size, 3).astype(int)
        for x in np.linspace(0, w - size, 3).astype(int)
    ]
    sample = np.ascontiguousarray(np.vstack(tiles))
    smooth = cv2.medianBlur(sample, 5)
    paper = float(np.percentile(smooth[::4, ::4], 90))
    background = cv2.erode((smooth > paper - 30).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if np.count_nonzero(background) < 0.05 * sample.size:
        return 0.0
    values = sample.astype(np.float32)
    residual = (values - cv2.blur(values, (5, 5)))[background]
    return float(1.4826 * np.median(np.abs(residual - np.median(residual))))


def _has_specks(gray: np.ndarray) -> bool:
    """Salt-and-pepper without grain: a median filter changes many pixels by a lot.

    Text edges alone move ~1 % of pixels; the median pays off (+0.02-0.03 mean word confidence) from
    about 8 % Gaussian noise, where ~3 % move, and below that it only slows tesseract down (~0.1 s)."""
    cv2 = _cv2()
    sample = gray[::2, ::2]
    diff = cv2.absdiff(sample, cv2.medianBlur(sample, 3))
    return bool(np.mean(diff > 40) > 0.02)


def _denoise(gray: np.ndarray, *, noise: float, upscaled: bool) -> tuple[np.ndarray, str | None]:
    """Smooth the grain so that tesseract's Otsu does not break strokes into specks.

    Word recall (numeric tokens) against doing nothing, 12 pages a level:
    - hard (150-200 dpi, upscaled): 3x3 median then Gaussian 1.0: 0.688 -> 0.908 (0.598 -> 0.868);
      a 5x5 median alone gives the same (0.907) but erases strokes of 2 px (thin Courier-like fonts
      once upscaled 2x); a Gaussian alone is weaker (0.881 at sigma 1.6): it smears the specks.
    - office, sigma 18 + JPEG 60, or hard noise at 300 dpi: Gaussian 1.2: 0.929 -> 0.960 (0.904 ->
      0.925), 0.861 -> 0.936, 0.888 -> 0.921; a 3x3 median was worse there (0.942, 0.922, 0.918) as
      it erases the 1-px strokes of thin fonts at 250-300 dpi (one page fell from 0.97 to 0.75).
    - clean pages: any filter loses words (median 3: 0.980 -> 0.959), hence the thresholds."""
    cv2 = _cv2()
    if noise >= HEAVY_NOISE and upscaled:
        smoothed = cv2.GaussianBlur(cv2.medianBlur(gray, 3), (0, 0), 1.0)
        return np.asarray(smoothed), "denoise(median3+gauss1.0)"
    if noise >= LIGHT_NOISE:
        return np.asarray(cv2.GaussianBlur(gray, (0, 0), 1.2)), "denoise(gauss1.2)"
    if _has_specks(gray):
        return np.asarray(cv2.medianBlur(gray, 3)), "denoise(median3)"
    return gray, None


def _uneven_background(gray: np.ndarray) -> bool:
    """Shadows or a photo's light falloff: paper brightness varies a lot across the page."""
    h, w = gray.shape
    rows, cols = np.array_split(np.arange(h), 6), np.array_split(np.arange(w), 6)
    tiles = [np.percentile(gray[r[0] : r[-1] + 1 : 8, c[0] : c[-1] + 1 : 8], 90) for r in rows for c in cols]
    return bool(max(tiles) - min(tiles) > 60)


def _binarise(gray: np.ndarray) -> np.ndarray:
    """Local (adaptive) threshold: only for uneven backgrounds. On evenly lit pages tesseract's own
    Otsu is as good: measured on noisy 300-dpi scans, a global Otsu first lowered the mean word
    confidence (0.912 -> 0.896 at heavy noise) while a 3x3 median raised it (0.912 -> 0.943)."""
    cv2 = _cv2()
    return np.asarray(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 51, 15)
    )


def estimate_dpi(width: int, height: int, declared: float | None = None) -> float:
    """Resolution of a page image: the header's when it is plausible for a sheet of paper, else
    estimated from the pixels assuming an A4/Letter page (phone photos declare 72 dpi)."""
    long_side = max(width, height)
    if declared and _PAGE_INCHES[0] <= long_side / declared <= _PAGE_INCHES[1]:
        return float(declared)
    return long_side / _A4_LONG_INCHES


def _normalise_dpi(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, float, str | None]:
    """Scale to about TARGET_DPI (150-200 dpi scans up, 600 dpi down); 250-360 dpi is left alone."""
    cv2 = _cv2()
    factor = TARGET_DPI / dpi
    if 0.83 <= factor <= 1.2:
        return gray, dpi, None
    h, w = gray.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    method = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return np.asarray(cv2.resize(gray, size, interpolation=method)), TARGET_DPI, f"scale({dpi:.0f}->300dpi)"


def prepare_for_ocr(image: np.ndarray, *, dpi: float | None = None, rotation: int = 0) -> Prepared:
    """Return a cleaned working copy of ``image`` for OCR; the input array is never modified.

    ``dpi`` is the page's resolution (see ``estimate_dpi``); None means already about 300 dpi.
    ``rotation`` turns the page clockwise by quarter turns first (tesseract OSD's "Rotate")."""
    steps: list[str] = ["grayscale"]
    gray = _gray(image)
    forward = [_quarter_turn(rotation // 90, gray.shape[1], gray.shape[0])]  # source -> working copy
    quarter = (rotation // 90) % 4
    if quarter:
        gray = np.ascontiguousarray(np.rot90(gray, k=-quarter))
        steps.append(f"orient({quarter * 90})")
    noise = estimate_noise(gray)  # before scaling, which smooths the grain
    out_dpi = TARGET_DPI
    if dpi:
        before = gray.shape
        gray, out_dpi, scaled = _normalise_dpi(gray, dpi)
        steps += [scaled] if scaled else []
        sx, sy = gray.shape[1] / before[1], gray.shape[0] / before[0]
        forward.append((sx, 0.0, 0.0, sy, 0.0, 0.0))
    skew = estimate_skew(gray)
    if abs(skew) >= 0.2:
        gray, turn = _rotate(gray, skew)
        forward.append(turn)
        steps.append(f"deskew({skew:+.2f})")
    gray, denoised = _denoise(gray, noise=noise, upscaled=dpi is not None and out_dpi > dpi)
    steps += [denoised] if denoised else []
    grey_levels = np.count_nonzero(np.bincount(gray[::8, ::8].ravel(), minlength=256))
    if grey_levels > 2 and _uneven_background(gray):  # shadows, photos
        gray = _binarise(gray)
        steps.append("binarise(adaptive)")
    log.debug("prepared page: %s", ", ".join(steps))
    return Prepared(gray, skew, tuple(steps), out_dpi, quarter * 90, invert(compose(*forward)))


def osd_copy(prepared: Prepared) -> tuple[np.ndarray, float]:
    """A downscaled copy of the working copy for orientation detection, and its dpi."""
    cv2 = _cv2()
    factor = min(1.0, _OSD_DPI / prepared.dpi)
    if factor >= 1.0:
        return prepared.image, prepared.dpi
    h, w = prepared.image.shape[:2]
    small = cv2.resize(prepared.image, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)
    return np.asarray(small), prepared.dpi * factor
