"""OCR working copy of a page image: grayscale, deskew (±5°), light denoise, binarise when useful.

Only a copy is ever changed: the archived master keeps the original pixels (copie fiable rule).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAX_SKEW = 5.0
_ANALYSIS_WIDTH = 1000  # pixels: skew is estimated on a downscaled copy to stay fast


@dataclass(frozen=True)
class Prepared:
    """The working copy given to OCR, the skew that was corrected and the steps applied."""

    image: np.ndarray
    skew_degrees: float
    steps: tuple[str, ...]


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
        gray = image.copy()
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
    small = cv2.resize(gray, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if np.count_nonzero(ink) < 0.001 * ink.size:
        return 0.0
    sh, sw = ink.shape
    centre = (sw / 2, sh / 2)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(ink, m, (sw, sh), flags=cv2.INTER_NEAREST)
        rows = rotated.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(rows) ** 2))

    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5)
    best = max(coarse, key=score)
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    best = max(fine, key=score)
    return round(float(best), 2)


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    cv2 = _cv2()
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return np.asarray(
        cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    )


def _is_noisy(gray: np.ndarray) -> bool:
    """Salt-and-pepper or sensor noise: a median filter changes many pixels by a lot."""
    cv2 = _cv2()
    sample = gray[::2, ::2]
    diff = cv2.absdiff(sample, cv2.medianBlur(sample, 3))
    return bool(np.mean(diff > 40) > 0.01)


def _uneven_background(gray: np.ndarray) -> bool:
    """Shadows or a photo's light falloff: paper brightness varies a lot across the page."""
    h, w = gray.shape
    rows, cols = np.array_split(np.arange(h), 6), np.array_split(np.arange(w), 6)
    tiles = [np.percentile(gray[r[0] : r[-1] + 1 : 4, c[0] : c[-1] + 1 : 4], 90) for r in rows for c in cols]
    return bool(max(tiles) - min(tiles) > 60)


def _binarise(gray: np.ndarray) -> tuple[np.ndarray, str]:
    cv2 = _cv2()
    if _uneven_background(gray):
        binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 51, 15)
        return binary, "binarise(adaptive)"
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary, "binarise(otsu)"


def prepare_for_ocr(image: np.ndarray) -> Prepared:
    """Return a cleaned working copy of ``image`` for OCR; the input array is never modified."""
    cv2 = _cv2()
    steps: list[str] = ["grayscale"]
    gray = _gray(image)
    skew = estimate_skew(gray)
    if abs(skew) >= 0.2:
        gray = _rotate(gray, skew)
        steps.append(f"deskew({skew:+.2f})")
    if _is_noisy(gray):
        gray = cv2.medianBlur(gray, 3)
        steps.append("denoise(median3)")
    if len(np.unique(gray[::8, ::8])) > 2:  # already black and white: nothing to gain
        gray, step = _binarise(gray)
        steps.append(step)
    log.debug("prepared page: %s", ", ".join(steps))
    return Prepared(gray, skew, tuple(steps))
