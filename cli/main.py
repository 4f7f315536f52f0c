"""Entry point of the `dematflow` console script."""

from __future__ import annotations

from cli import (  # noqa: F401  (they register their commands)
    archive,
    commands,
    db,
    demo,
    doctor,
    files,
    fixity,
    learn,
    queue,
    renew,
    retry,
    search,
    separator,
    serve,
    watch,
)
from cli.app import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()
