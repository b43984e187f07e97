"""The one error vocabulary for everything that can go wrong talking to Railz.

Each error says two things the caller needs to decide what to do next: `retryable` (the same
call can safely be tried again later) and `outcome_unknown` (a write may have reached Railz, so
sending it again could create a second record in the accounting system). `str()` is a sentence
a finance person can read; the same text is shown in the UI and stored on the push.
"""

from __future__ import annotations


class RailzError(Exception):
    """Base class: something went wrong talking to Railz."""

    retryable: bool = False
    outcome_unknown: bool = False
    summary: str = "Railz could not complete the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        messages: list[str] | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.status_code = status_code
        self.messages = list(messages or [])
        self.retry_after = retry_after
        if retryable is not None:
            # A few answers (a 5xx from the token endpoint) are retryable within a class that
            # usually is not.
            self.retryable = retryable
        self.message = message or self._default_message()
        super().__init__(self.message)

    def _default_message(self) -> str:
        if self.messages:
            return f"{self.summary} Railz said: {'; '.join(self.messages)}."
        return self.summary

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r}, "
            f"retry_after={self.retry_after!r})"
        )


class RailzRejected(RailzError):
    """400 (or another 4xx without its own class): Railz refused the request as sent."""

    summary = "Railz rejected the request."


class RailzAuthError(RailzError):
    """401/403, or the access token could not be obtained."""

    summary = "Railz did not accept our credentials. Check the Railz API keys in the settings."


class RailzNotSupported(RailzError):
    """The accounting system behind the connection does not offer this operation."""

    summary = "This operation is not available for this accounting system."


class RailzConflict(RailzError):
    """409: the request conflicts with another request on the same record."""

    summary = "Railz reported a conflict with another request for the same record."


class RailzRateLimited(RailzError):
    """429, or our own shared budget says to wait longer than a caller should block."""

    retryable = True
    summary = "Too many requests were sent to Railz; the request will be tried again later."

    def _default_message(self) -> str:
        if self.retry_after is not None:
            return (
                "Too many requests were sent to Railz; try again in "
                f"{max(1, round(self.retry_after))} seconds."
            )
        return self.summary


class RailzServerError(RailzError):
    """5xx on a read, or 503 (maintenance) on a write: nothing was processed; try later."""

    retryable = True
    summary = "Railz is having a problem or is down for maintenance; try again later."


class RailzTransportError(RailzError):
    """The request never reached Railz (connection refused, connect timeout, DNS)."""

    retryable = True
    summary = "Railz could not be reached; nothing was sent. Try again later."


class RailzOutcomeUnknown(RailzError):
    """A write was sent but its answer was lost: it may or may not have been applied."""

    outcome_unknown = True
    summary = (
        "The request was sent to Railz but no clear answer came back, so it is not known "
        "whether the accounting system received it. Check its status before sending it again."
    )


class RailzDataNotReady(RailzError):
    """202 kept coming back: Railz is still preparing the data for this connection."""

    retryable = True
    summary = "Railz is still preparing this business's data; try again in a few minutes."


class RailzSignatureError(RailzError):
    """A webhook's Railz-Signature header is missing, malformed, wrong or out of date."""

    summary = "The webhook signature is not valid."

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The webhook was refused because its signature is not valid: {reason}.")


# --- errors that say the connection itself is broken -------------------------------------------

# Railz's `disconnectReason`s (connectionStatus webhook), in a bookkeeper's words. A push refused
# with one of these in its message failed for its connection, not for its own content.
DISCONNECT_REASONS: dict[str, tuple[str, str]] = {
    "authorizationRevoked": ("authorisation", "the business revoked railzpush's access"),
    "expiredCredentials": ("authorisation", "the accounting system's authorisation expired"),
    "reauthorizationRequired": (
        "authorisation",
        "the business must authorise it again",
    ),
    "unauthorizedCredentials": ("authorisation", "the accounting system refused the credentials"),
    "credentialsNotFound": ("authorisation", "the accounting system's credentials are missing"),
    "insufficientPermission": ("authorisation", "the connected user lacks the permission to write"),
    "unauthorizedClientIdKey": ("authorisation", "the accounting system refused the app's keys"),
    "disconnectedByCustomer": ("disconnected", "the business disconnected its accounting system"),
    "institutionNotFound": ("disconnected", "the accounting system no longer knows the business"),
    "duplicateAccount": ("disconnected", "the business connected the same books twice"),
}

# A 429 telling to wait this long or more is a provider's daily cap, not a minute's burst.
DAILY_CAP_MIN_WAIT_SECONDS = 3600


class ConnectionProblem:
    """Why every push of a connection would fail now: `cause` (authorisation, disconnected,
    daily_cap) as a code, `reason` in words, and `resume_after` seconds when it clears by
    itself (None: a person must reconnect the business and resume)."""

    __slots__ = ("cause", "reason", "resume_after")

    def __init__(self, cause: str, reason: str, resume_after: float | None = None) -> None:
        self.cause = cause
        self.reason = reason
        self.resume_after = resume_after

    def __repr__(self) -> str:
        return f"ConnectionProblem({self.cause!r}, {self.reason!r}, {self.resume_after!r})"


def connection_problem(exc: RailzError) -> ConnectionProblem | None:
    """The connection-level cause `exc` reports, or None when it concerns the request alone.

    Only refusals naming a disconnect reason (or an inactive connection) and a provider's daily
    cap count: a record refused for its own content never pauses its connection.
    """
    text = " ".join([exc.message, *exc.messages])
    lowered = text.lower()
    if isinstance(exc, RailzRateLimited):
        wait = exc.retry_after or 0
        daily = any(word in lowered for word in ("daily", "a day", "per day"))
        if daily or wait >= DAILY_CAP_MIN_WAIT_SECONDS:
            return ConnectionProblem(
                "daily_cap",
                "the accounting system's daily limit of requests is reached; pushing resumes "
                "when its day resets",
                resume_after=max(wait, 60),
            )
        return None
    if not isinstance(exc, RailzRejected | RailzAuthError):
        return None
    for code, (cause, words) in DISCONNECT_REASONS.items():
        if code.lower() in lowered:
            return ConnectionProblem(cause, f"{words} ({code})")
    if "not active" in lowered or "disconnected" in lowered:
        return ConnectionProblem("disconnected", "the connection is no longer active")
    return None
