"""A separator sheet to print: one A4 page, a large QR code (OpenCV's encoder) and a French notice."""

from __future__ import annotations

import io
from collections.abc import Mapping

from extractors.separator import payload

QR_SIDE_PT = 255.0  # 9 cm: found at 60 dpi even on a skewed, smudged scan


def separator_pdf(meta: Mapping[str, str] | None = None) -> bytes:
    """The sheet's PDF; the same metadata always gives the same bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    text = payload(meta)
    matrix = _qr_matrix(text)
    width, height = A4
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle("Feuille de séparation dematflow")
    canvas.setFont("Helvetica-Bold", 22)
    canvas.drawCentredString(width / 2, height - 110, "Feuille de séparation dematflow")
    canvas.setFont("Helvetica", 13)
    canvas.drawCentredString(width / 2, height - 135, "— ne pas retirer —")
    module = QR_SIDE_PT / len(matrix)
    left, bottom = (width - QR_SIDE_PT) / 2, (height - QR_SIDE_PT) / 2
    canvas.setFillColorRGB(0, 0, 0)
    for row, modules in enumerate(matrix):
        for col, dark in enumerate(modules):
            if dark:
                x, y = left + col * module, bottom + (len(matrix) - 1 - row) * module
                canvas.rect(x, y, module, module, stroke=0, fill=1)
    canvas.setFont("Helvetica", 11)
    lines = [
        "Placez cette feuille avant chaque document du lot, puis numérisez le tout d'un seul tenant.",
        "Elle est reconnue et retirée : chaque document est archivé à part, le lot reste tel que reçu.",
    ]
    lines += [f"{key} : {value}" for key, value in sorted((meta or {}).items())]
    y = bottom - 40
    for line in lines:
        canvas.drawCentredString(width / 2, y, line)
        y -= 16
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _qr_matrix(text: str) -> list[list[bool]]:
    """The QR code's modules, True for dark, with OpenCV's quiet zone around them."""
    import cv2

    params = cv2.QRCodeEncoder.Params()
    params.correction_level = cv2.QRCODE_ENCODER_CORRECT_LEVEL_M
    image = cv2.QRCodeEncoder.create(params).encode(text)
    return [[bool(v == 0) for v in row] for row in image]
