"""The platform's signing keys, kept as files in one folder (`<data dir>/keys/`).

Each key is `<kid>.pem` (PKCS #8, mode 0600) where `kid` is the RFC 7638 thumbprint of its
public key; the file `active` names the key that signs new certificates. Rotation adds a key and
points `active` at it; earlier keys stay, so everything they signed still verifies and their
public halves stay published. Every change is a write to a temporary file and a rename, so a
reader never sees half a file and two processes starting at once end up with one active key.
No Django import here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from onething.certificates.jws import KID_PATTERN, public_jwk, thumbprint

ACTIVE = "active"


class KeyStoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey


class KeyStore:
    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    # --- reading ---

    def active(self) -> SigningKey:
        """The key that signs now; the first one is made on first use."""
        kid = self._active_kid()
        if kid is None:
            kid = self._create_first()
        return SigningKey(kid, self._private(kid))

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key ever used (active and retired), by kid."""
        return {kid: self._private(kid).public_key() for kid in self.kids()}

    def kids(self) -> list[str]:
        """Every kid: the active one first, then the others from newest to oldest."""
        if not self.directory.is_dir():
            return []
        files = [p for p in self.directory.glob("*.pem") if KID_PATTERN.match(p.stem)]
        files.sort(key=lambda p: (p.stat().st_mtime_ns, p.stem), reverse=True)
        kids = [p.stem for p in files]
        active = self._active_kid()
        if active in kids:
            kids.remove(active)
            kids.insert(0, active)
        return kids

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWK Set (RFC 7517) of every key, active first."""
        return {
            "keys": [
                {**public_jwk(key), "kid": kid, "use": "sig", "alg": "EdDSA"}
                for kid, key in self.public_keys().items()
            ]
        }

    # --- changing ---

    def rotate(self) -> str:
        """Make a new key the active one; return its kid. Earlier keys keep verifying."""
        kid = self._write_new_key()
        self._write_file(ACTIVE, kid.encode(), replace=True)
        return kid

    # --- files ---

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _active_kid(self) -> str | None:
        try:
            kid = (self.directory / ACTIVE).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        if not KID_PATTERN.match(kid):
            raise KeyStoreError(f"{self.directory / ACTIVE}: does not name a key")
        return kid

    def _private(self, kid: str) -> Ed25519PrivateKey:
        if not KID_PATTERN.match(kid):
            raise KeyStoreError(f"{kid!r} is not a key id")
        path = self.directory / f"{kid}.pem"
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise KeyStoreError(f"{path}: the key file is missing") from None
        except ValueError as exc:
            raise KeyStoreError(f"{path}: not a private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"{path}: not an Ed25519 key")
        if thumbprint(key) != kid:
            raise KeyStoreError(f"{path}: the key does not match its name")
        return key

    def _write_new_key(self) -> str:
        key = Ed25519PrivateKey.generate()
        kid = thumbprint(key)
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        self._write_file(f"{kid}.pem", pem, replace=False)
        return kid

    def _create_first(self) -> str:
        kid = self._write_new_key()
        if self._write_file(ACTIVE, kid.encode(), replace=False):
            return kid
        # Another process made the first key at the same moment: use its key, drop ours.
        (self.directory / f"{kid}.pem").unlink(missing_ok=True)
        winner = self._active_kid()
        if winner is None:  # pragma: no cover - `active` cannot disappear
            raise KeyStoreError("the active key vanished")
        return winner

    def _write_file(self, name: str, content: bytes, *, replace: bool) -> bool:
        """Write `name` with mode 0600 in one step; without `replace`, False if it exists."""
        self._ensure_directory()
        temporary = self.directory / f".{name}.{secrets.token_hex(8)}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            target = self.directory / name
            if replace:
                os.replace(temporary, target)
                return True
            try:
                os.link(temporary, target)
            except FileExistsError:
                return False
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
