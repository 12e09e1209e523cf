"""bianmin (便民): a configurable low-code policy platform for government service centres.

The engine interprets jurisdiction policy packs (YAML under ``policies/``) into forms,
documents and workflows. See ``docs/architecture.md``.
"""

__version__ = "0.1.0"
