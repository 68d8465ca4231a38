"""The token signing key: an Ed25519 key created on first start, kept in the data folder.

The key id (``kid``) is the RFC 7638 thumbprint of the public key, so it changes
exactly when the key does. The JWKS document publishes the public half.
"""

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shoplab.platform.secret_files import write_new_secret

KEY_FILE = Path("keys") / "jwt-signing.pem"


class SigningKeys:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self.kid = _thumbprint(self.public_key)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> "SigningKeys":
        path = data_dir / KEY_FILE
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_new_secret(path, pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {self.kid: self.public_key}

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "keys": [
                {**_public_jwk(self.public_key), "kid": self.kid, "use": "sig", "alg": "EdDSA"}
            ]
        }


def _public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
    }


def _thumbprint(key: Ed25519PublicKey) -> str:
    canonical = json.dumps(_public_jwk(key), sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
