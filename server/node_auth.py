"""Node authentication: who may join as a node, and which of its election messages count.

A join is a hello with the server's join token, a public key and a signature by that key; the board records the
node (name ↔ key) and logs the signed hello without the token. Each election message afterwards must come from a
joined connection, carry a valid signature by the key it joined with, not repeat one seen before (the board's
log is the replay guard), and is logged on the board before anything acts on it.

Refusals are `Refused(reason, detail)` with the reasons of docs/protocol.md; the hub turns them into `error`
replies. The board work runs through the `run_io` the hub hands in (a thread, never the loop).
"""

from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable

from mixscope.server import board as board_mod
from mixscope.server import signed_text
from mixscope.server.election.common import NodeRef
from mixscope.wire import protocol, signing

JOIN_ROLES = ("mixer", "trustee")  # roles that must present the join token and sign their messages
NOT_SIGNED, BAD_SIGNATURE, REPLAYED, NOT_JOINED = "not_signed", "bad_signature", "replayed", "not_joined"
BAD_JOIN = "bad_join"
NAME_TAKEN = "name_taken"  # a hello whose name is registered to another key: the node must not retry

RunIO = Callable[..., Awaitable[Any]]


class Refused(Exception):
    """A join or a signed message the server does not accept; `reason` is the error reply's reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def wants_join(message: dict[str, Any]) -> bool:
    """A hello that claims an identity (token, signature, or a node role with a key) rather than a plain one."""
    return ("join_token" in message or "signed" in message
            or message["role"] in JOIN_ROLES and "public_key" in message)


class NodeAuth:
    def __init__(self, board: board_mod.Board | None, join_token: str | None):
        self.board, self.join_token = board, join_token
        self.identities: dict[str, NodeRef] = {}  # client id -> proven identity (join token + signed hello)

    def node(self, client_id: str) -> NodeRef | None:
        return self.identities.get(client_id)

    def admit(self, client_id: str, message: dict[str, Any], key: str) -> NodeRef:
        node = self.identities[client_id] = NodeRef(client_id, message["name"], message["role"], key)
        return node

    def forget(self, client_id: str) -> None:
        self.identities.pop(client_id, None)

    async def join(self, message: dict[str, Any], run_io: RunIO | None) -> str:
        """Check a joining hello and record the node on the board; its key, or Refused."""
        token, key = message.get("join_token"), message.get("public_key")
        if self.board is None or not self.join_token or run_io is None:
            raise Refused(BAD_JOIN, "this server takes no signed nodes")
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self.join_token.encode()):
            raise Refused(BAD_JOIN, "wrong or missing join token")
        try:
            signer = signing.verify(message)
            if signer != key:
                raise signing.SignatureError("hello is signed by another key than its public_key")
            await run_io(self._record_join, message, signer)
        except signing.SignatureError as exc:
            raise Refused(BAD_SIGNATURE, exc.reason) from None
        except board_mod.NameTakenError as exc:
            raise Refused(NAME_TAKEN, str(exc)) from None
        except board_mod.ReplayError as exc:
            raise Refused(REPLAYED, str(exc)) from None
        except board_mod.BoardError as exc:
            raise Refused(BAD_JOIN, str(exc)) from None
        return signer

    async def check_signed(self, node: NodeRef, message: dict[str, Any], checked: signed_text.Checked | None,
                           run_io: RunIO) -> dict[str, Any]:
        """Check a joined node's election message and log it on the board; the message to act on, or Refused.
        `checked`: what the process pool found checking a long message's text (None for a short one)."""
        kind = message["type"]
        if "sig" not in message["signed"]:
            raise Refused(NOT_SIGNED, f"{kind} must be signed (signed.sig is missing)")
        if checked is not None and checked.key != node.public_key:
            checked = None  # not checked against this node's key after all: check it here
        try:
            logged = await run_io(self._check_and_log, message, node.public_key, checked)
        except signing.SignatureError as exc:
            raise Refused(NOT_SIGNED if "not signed" in exc.reason else BAD_SIGNATURE, exc.reason) from None
        except board_mod.ReplayError as exc:
            raise Refused(REPLAYED, str(exc)) from None
        except board_mod.BoardError as exc:
            raise Refused(protocol.BAD_SHAPE, str(exc)) from None
        if checked is not None and checked.spans and logged is not None:
            return signed_text.Received(message, logged, checked.spans)  # the board stores these slices as they are
        return message

    # --- on the board's thread ------------------------------------------------------------------------------

    def _record_join(self, message: dict[str, Any], key: str) -> None:
        assert self.board is not None  # join() refuses every hello when there is no board
        self.board.record_node(message["name"], message["role"], key)
        self._log_signed(message, key)

    def _check_and_log(self, message: dict[str, Any], key: str, checked: signed_text.Checked | None) -> str | None:
        """The body logged, when it was given as text (the pool's)."""
        if checked is None:
            signing.verify_signed_by(message, key)
        elif checked.signature_error is not None:
            raise signing.SignatureError(checked.signature_error)
        return self._log_signed(message, key, None if checked is None else checked.body)

    def _log_signed(self, message: dict[str, Any], key: str, body: str | None = None) -> str | None:
        """Log `message` on the board without its join token (the board is public, the token a secret).
        `body`: that signed body as canonical JSON text, when the pool made it already (returned as logged)."""
        assert self.board is not None  # nothing is admitted or checked without a board
        stored = signing.signed_body(message) if body is None else board_mod.CanonicalJSON(body)
        self.board.log_signed_message(key, message["signed"]["seq"], message["type"], stored,
                                      message["signed"]["sig"], message.get("election_id"))
        return stored if isinstance(stored, str) else None
