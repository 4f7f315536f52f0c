"""Queue-driven workers: thin dramatiq actors that pass document ids and call pipeline steps."""
