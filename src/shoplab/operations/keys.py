"""Identity's signing keys as the services see them (``shoplab keys``).

``rotate`` works the same on a running system and on a stopped one: it only adds a key
file to the data folder, which a running identity notices at its next use. The new key
is published at once and signs only after a JWKS refresh interval and a margin, so no
verifier meets a token whose key it could not fetch yet; the previous key stays
published until every token it signed has expired. The token lifetime is read as the
services read it (``SHOPLAB_TOKEN_TTL_SECONDS``).
"""

from pathlib import Path

from shoplab.identity.adapters.signing_keys import KeyRing
from shoplab.platform.settings import PlatformSettings


def ring_of(data_dir: Path) -> KeyRing:
    """The data folder's ring, with the token lifetime the services use."""
    return KeyRing(data_dir, token_ttl_seconds=PlatformSettings().token_ttl_seconds)
