"""Seal kept documents (PAdES for PDFs, detached CAdES for XML) and check seals with pdfsig.

Import the submodules themselves (``signing.pades``, ``signing.cms``…): this package imports nothing
on its own, so a process that only reads the catalogue (the HTTP API) never loads pyHanko.
"""
