"""Leaf library: read documents (embedded e-invoice XML, PDF text, OCR) into typed results."""
