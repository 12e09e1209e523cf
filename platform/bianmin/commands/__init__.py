"""Sub-commands of the ``bianmin`` CLI, one module each.

Each module defines ``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning the exit status.
"""

from __future__ import annotations

import importlib

# Order is the order of `bianmin --help`.
MODULES = ("check", "diff", "schema", "calendar", "deadline", "sweep", "db", "plugins", "serve", "export", "import_")


def load_all():
    for name in MODULES:
        try:
            yield importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a command still being written
            if exc.name != f"{__name__}.{name}":
                raise
