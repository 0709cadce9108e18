"""Errors as the client can read them: an HTML page for the voters' pages, JSON for the API.

The JSON API (/api/...) and the admin routes (/over) always answer JSON. The pages (/, /elections/...,
/static/...) answer an HTML error page, also for a sub-path no route knows or a method a page does not take.
Any other path gets HTML when the client accepts it (a browser) and JSON otherwise (scripts, curl -H).
"""

from __future__ import annotations

import functools

from flask import render_template, request

from mixscope.server.errors import HttpError

JSON_PREFIXES = ("/api/", "/over")
PAGE_PREFIXES = ("/elections", "/static/")


def wants_html() -> bool:
    path = request.path
    if path.startswith(JSON_PREFIXES):
        return False
    if path == "/" or path.startswith(PAGE_PREFIXES):
        return True
    return "text/html" in request.accept_mimetypes


def error_page(status: int, reason: str, **values):
    return render_template("error.html", status=status, reason=reason, **values), status


def html_errors(view):
    """Render an HttpError raised by a page's view as the HTML error page instead of the API's JSON."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except HttpError as exc:
            return error_page(exc.status, exc.error)

    return wrapped
