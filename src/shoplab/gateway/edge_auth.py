"""Authentication at the edge: the customer's token in, an internal token out.

The gateway verifies the caller's access token itself and never passes it on.
Each service instead receives an internal token, minted by the gateway, that
names the verified caller, or ``anonymous`` when there was no token or a bad
one. The service then decides as the monolith would: a public route serves an
anonymous caller, a protected one answers the same 401 problem. Anything but an
access token (an internal token sent from outside, say) counts as no token, and
does not make the gateway fetch identity's keys.

A token verified once is known until it expires (``TokenVerifier.cached``, forgotten when
the JWKS changes), and the internal token for a caller is reused for half its lifetime
(``ServiceCredentials.mint``): a session's requests after its first cost no signature.
"""

from starlette.types import Scope

from shoplab.gateway.jwks import JwksCache
from shoplab.platform.auth import (
    VERIFIED_CALLER,
    InvalidToken,
    Principal,
    TokenVerifier,
    access_token_kid,
    bearer_token,
)
from shoplab.platform.internal_auth import ServiceCredentials


class EdgeAuthenticator:
    def __init__(
        self, verifier: TokenVerifier, keys: JwksCache, credentials: ServiceCredentials
    ) -> None:
        self._verifier = verifier
        self._keys = keys
        self._credentials = credentials

    async def principal(self, authorization: str | None) -> Principal | None:
        """The caller a valid ``Authorization: Bearer`` header proves, else ``None``."""
        token = bearer_token(authorization)
        if token is None:
            return None
        known = self._verifier.cached(token)
        if known is not None:
            return known
        try:
            await self._keys.ensure(access_token_kid(token))
            return self._verifier.verify(token)
        except InvalidToken:
            return None

    async def internal_headers(self, scope: Scope) -> dict[str, str]:
        """The ``Authorization`` header to send downstream on the caller's behalf.

        The caller the rate limits verified is used as it is: one verification per request.
        """
        state = scope.get("state", {})
        if VERIFIED_CALLER in state:
            principal = state[VERIFIED_CALLER]
        else:
            principal = await self.principal(_authorization(scope))
        if principal is None:
            return {"Authorization": f"Bearer {self._credentials.anonymous()}"}
        return self._credentials.headers(principal)


def _authorization(scope: Scope) -> str | None:
    """The first ``Authorization`` line, as a ``Request`` would read it."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value).decode("latin-1")
    return None
