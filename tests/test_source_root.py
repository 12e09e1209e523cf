"""`platform/` is a source root, never a package: the stdlib module must win."""

import platform
import sys
from pathlib import Path


def test_import_platform_is_the_stdlib_module():
    assert hasattr(platform, "python_version")
    assert Path(platform.__file__).parent == Path(sys.modules["os"].__file__).parent


def test_source_root_has_no_init():
    root = Path(__file__).resolve().parents[1] / "platform"
    assert not (root / "__init__.py").exists()
