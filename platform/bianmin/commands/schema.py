"""`bianmin schema`: print the pack JSON Schema (for editors and other tools)."""

from __future__ import annotations

import argparse
import json

from ..packs.schema import pack_schema


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("schema", help="print the pack JSON Schema",
                            description="Print the JSON Schema (Draft 2020-12) of pack files.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(pack_schema(), ensure_ascii=False, indent=1))
    return 0
