"""Secrets the site makes for itself on first run and keeps in its data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _write_once(path: Path, content: str) -> str:
    """Write `content` to `path` unless another process already did; return what is there.

    Several gunicorn workers may start at once: the first link wins, the rest read it.
    """
    if path.exists():
        return path.read_text()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text()


def load_or_create_secret(path: Path) -> str:
    """Django's SECRET_KEY, generated once when the operator gave none."""
    return _write_once(path, secrets.token_urlsafe(50)).strip()


def load_or_create_rsa_key(path: Path) -> str:
    """The RS256 key that signs OIDC id_tokens, generated once (PEM, PKCS#8)."""
    if path.exists():
        return path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return _write_once(path, pem)
