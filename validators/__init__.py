"""Leaf library: validate e-invoice XML and invoice fields; every check returns findings with rule ids."""
