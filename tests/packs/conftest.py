from pathlib import Path

import pytest

from bianmin.packs import Compiler

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def compiler() -> Compiler:
    """A compiler over the self-contained fixture tree (its own _mini base, forms, templates)."""
    return Compiler(FIXTURES / "policies", FIXTURES / "forms", FIXTURES / "templates")
