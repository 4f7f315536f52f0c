"""Seal kept documents (PAdES for PDFs, detached CAdES for XML) and check seals with pdfsig."""

from signing.cms import seal_detached, verify_detached
from signing.credentials import SealCredentials, ensure_dev_credentials, load_credentials
from signing.pades import Sealed, seal_pdf
from signing.pdfsig import PdfsigResult
from signing.wrap import wrap_images_as_pdf

__all__ = [
    "PdfsigResult",
    "SealCredentials",
    "Sealed",
    "ensure_dev_credentials",
    "load_credentials",
    "seal_detached",
    "seal_pdf",
    "verify_detached",
    "wrap_images_as_pdf",
]
