"""Leaf library: write-once object stores behind one small Protocol (filesystem, memory, S3)."""

from storage.base import ObjectStore, StoredObject, sha256_hex

__all__ = ["ObjectStore", "StoredObject", "sha256_hex"]
