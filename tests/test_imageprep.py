"""The OCR working copy: resolution detection and normalisation, quarter turns, the original untouched."""

from __future__ import annotations

import numpy as np
import pytest

from extractors import imageprep


def _page(h: int = 1754, w: int = 1240) -> np.ndarray:
    page = np.full((h, w), 255, np.uint8)
    for y in range(200, h - 200, 60):  # text-like lines
        page[y : y + 14, 150 : w - 300 : 1] = np.tile(
            np.array([0, 0, 0, 255, 255], np.uint8), (w - 450) // 5 + 1
        )[: w - 450]
    page[100:130, 100:160] = 0  # a mark in the top-left corner
    return page


def test_declared_dpi_is_believed_when_plausible() -> None:
    assert imageprep.estimate_dpi(1240, 1754, 150.0) == 150.0
    assert imageprep.estimate_dpi(4960, 7016, 600.0) == 600.0


def test_phone_photo_dpi_is_estimated_from_the_page_size() -> None:
    # A 12-Mpx photo declaring 72 dpi would be a 56-inch page: estimate from an A4 long side instead.
    assert imageprep.estimate_dpi(3024, 4032, 72.0) == pytest.approx(345, abs=1)
    assert imageprep.estimate_dpi(2480, 3508, None) == pytest.approx(300, abs=1)


def test_low_and_high_resolutions_are_normalised_to_300_dpi() -> None:
    page = _page()
    up = imageprep.prepare_for_ocr(page, dpi=150.0)
    assert up.image.shape == (3508, 2480) and up.dpi == 300.0
    assert "scale(150->300dpi)" in up.steps
    down = imageprep.prepare_for_ocr(page, dpi=600.0)
    assert down.image.shape == (877, 620) and "scale(600->300dpi)" in down.steps
    same = imageprep.prepare_for_ocr(page, dpi=280.0)
    assert same.image.shape == page.shape and not any(s.startswith("scale") for s in same.steps)


def test_quarter_turns_apply_to_the_copy_only() -> None:
    page = _page()
    before = page.copy()
    turned = imageprep.prepare_for_ocr(page, rotation=180)
    assert np.array_equal(page, before)
    assert turned.rotation == 180 and "orient(180)" in turned.steps
    assert turned.image[-115, -130] == 0  # the corner mark is now bottom-right
    side = imageprep.prepare_for_ocr(page, rotation=90)
    assert side.image.shape == (1240, 1754) and side.image[115, -115] == 0  # clockwise: top-right


def test_osd_copy_is_the_working_copy_up_to_300_dpi() -> None:
    prepared = imageprep.prepare_for_ocr(_page(3508, 2480))
    small, dpi = imageprep.osd_copy(prepared)
    assert small is prepared.image and dpi == 300.0
    fine = imageprep.prepare_for_ocr(_page(4200, 2970), dpi=360.0)  # 360 dpi is not rescaled
    small, dpi = imageprep.osd_copy(fine)
    assert small.shape == (3500, 2475) and dpi == 300.0


def _grain(page: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian grain on greyish paper (on white paper half of it would be clipped away)."""
    noise = np.random.default_rng(7).normal(0.0, sigma, page.shape)
    return np.clip(page.astype(np.float64) * 0.85 + 20 + noise, 0, 255).astype(np.uint8)


def test_noise_is_estimated_on_the_background() -> None:
    page = _page()
    assert imageprep.estimate_noise(page) < 1.0  # text edges alone are not grain
    assert imageprep.estimate_noise(_grain(page, 10.0)) == pytest.approx(10.0, rel=0.2)
    assert imageprep.estimate_noise(_grain(page, 28.0)) > imageprep.HEAVY_NOISE


def test_denoising_follows_the_grain_and_the_resolution() -> None:
    clean = imageprep.prepare_for_ocr(_page(), dpi=150.0)
    assert not {"denoise(gauss1.2)", "denoise(median3+gauss1.0)"} & set(clean.steps)
    office = imageprep.prepare_for_ocr(_grain(_page(), 6.0), dpi=300.0)
    assert "denoise(gauss1.2)" in office.steps
    hard = imageprep.prepare_for_ocr(_grain(_page(), 28.0), dpi=150.0)
    assert "denoise(median3+gauss1.0)" in hard.steps
    hard_fine = imageprep.prepare_for_ocr(_grain(_page(), 28.0), dpi=300.0)  # not upscaled: no median
    assert "denoise(gauss1.2)" in hard_fine.steps
