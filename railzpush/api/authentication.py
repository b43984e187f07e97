"""`Authorization: Bearer rzp_<prefix>_<secret>` (or `Token …`) for integrators."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from railzpush.api.services import api_token_authenticate

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticates with an API token; `request.auth` is the ApiToken (throttles key on it)."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None  # not ours: the session may still authenticate the request
        if len(header) != 2:
            raise AuthenticationFailed(
                "The Authorization header must be 'Bearer rzp_<prefix>_<secret>'."
            )
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise AuthenticationFailed("The API token contains invalid characters.") from None
        token = api_token_authenticate(raw=raw)
        if token is None:
            raise AuthenticationFailed("The API token is invalid or has been revoked.")
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'
