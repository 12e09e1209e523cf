"""Password hashing with stdlib ``hashlib.scrypt`` (RFC 7914), a memory-hard KDF: no dependency.

Parameters: N=2**14, r=8, p=1 (16 MiB of memory per hash, about 50 ms here), a 16-byte random
salt and a 32-byte key, stored as ``scrypt$N$r$p$salt$key`` (base64) so that stronger
parameters can be adopted later while old hashes still verify (``needs_rehash``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P, KEY_BYTES, SALT_BYTES = 2**14, 8, 1, 32, 16
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = _derive(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt${N}${R}${P}$")


# Verifying against this when a user name is unknown keeps sign-in timing uniform.
DUMMY_HASH = f"scrypt${N}${R}${P}$" + "A" * 22 + "==$" + "A" * 43 + "="


def _derive(password: str, salt: bytes, n: int, r: int, p: int, size: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=size)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
