"""Entry point of the `dematflow` console script."""

from __future__ import annotations

from cli import archive, commands, db, demo, fixity, learn, queue, retry, search, serve, watch  # noqa: F401  (they register their commands)
from cli.app import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()
