"""Authentication at the edge: the customer's token in, an internal token out.

The gateway verifies the caller's access token itself and never passes it on.
Each service instead receives an internal token, minted by the gateway, that
names the verified caller, or ``anonymous`` when there was no token or a bad
one. The service then decides as the monolith would: a public route serves an
anonymous caller, a protected one answers the same 401 problem.
"""

import jwt
from fastapi.security.utils import get_authorization_scheme_param

from shoplab.gateway.jwks import JwksCache
from shoplab.platform.auth import InvalidToken, Principal, TokenVerifier
from shoplab.platform.service_auth import ServiceCredentials


class EdgeAuthenticator:
    def __init__(
        self, verifier: TokenVerifier, keys: JwksCache, credentials: ServiceCredentials
    ) -> None:
        self._verifier = verifier
        self._keys = keys
        self._credentials = credentials

    async def principal(self, authorization: str | None) -> Principal | None:
        """The caller a valid ``Authorization: Bearer`` header proves, else ``None``."""
        scheme, token = get_authorization_scheme_param(authorization)
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return None
        if not isinstance(kid, str):
            return None
        await self._keys.ensure(kid)
        try:
            return self._verifier.verify(token)
        except InvalidToken:
            return None

    async def internal_headers(self, authorization: str | None) -> dict[str, str]:
        """The ``Authorization`` header to send downstream on the caller's behalf."""
        principal = await self.principal(authorization)
        if principal is None:
            return {"Authorization": f"Bearer {self._credentials.anonymous()}"}
        return self._credentials.headers(principal)
