"""The server's typed failures: what an HTTP view answers with, and what a bridge action refuses with.

An HTTP status is chosen by the type of the failure, never by the wording of its message: a refused bridge
action says whether the server is unavailable or the election unknown by its class (`status`), and the
views map that class to 503 or 404.
"""

from __future__ import annotations


class HttpError(Exception):
    """An HTTP reply other than success: `status` (4xx/5xx) and the one-line `error` the JSON body carries."""

    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status, self.error = status, error


class BridgeError(Exception):
    """A bridge action that cannot run: unknown name, bad arguments, unknown client, a step refused.
    `status`: the HTTP status a view answers with; None leaves it to the view (400 or 409 by action)."""

    status: int | None = None

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ServerUnavailable(BridgeError):
    """The server is not running, or stopped before the action ran: try again after it starts."""

    status = 503


class UnknownElection(BridgeError):
    """The action names an election the board does not hold (or there is none yet)."""

    status = 404
