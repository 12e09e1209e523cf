"""Numbered schema migrations, applied in order by ``bianmin db upgrade`` (store/migrate.py)."""
