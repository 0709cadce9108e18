"""CSRF protection for the HTML forms: one random token per browser session, kept in Flask's signed
session cookie (the app's secret key is random per server start), echoed by every form as a hidden field.
A POST whose field does not match the session's token is refused with 400."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

FIELD = "csrf_token"
CSRF_REASON = ("your ballot was not cast: the form's security token is missing or stale (the server restarted, or this "
               "browser no longer has the session cookie the form was made for)")


class CsrfError(Exception):
    """The form's CSRF token is missing or does not match this session's."""


def csrf_token() -> str:
    """This session's token (created on first use); templates put it in a hidden field."""
    token = session.get(FIELD)
    if not isinstance(token, str):
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    expected = session.get(FIELD)
    sent = request.form.get(FIELD, "")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError(CSRF_REASON)
