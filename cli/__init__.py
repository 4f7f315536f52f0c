"""The `dematflow` command: a thin door into pipeline/."""
