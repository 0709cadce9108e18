"""Builds the Flask app (from the route table) and the Tornado application that mounts it behind `/ws`."""

from __future__ import annotations

import functools
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tornado.web
from flask import Flask, jsonify, request
from tornado.wsgi import WSGIContainer
from werkzeug.exceptions import HTTPException

from mixscope.server import page_errors, ratelimit
from mixscope.server.admin_auth import ADMIN_PATHS, UNAUTHORIZED, AdminGate, bearer_ok
from mixscope.server.hosts import SECURITY_HEADERS, HostPolicy
from mixscope.server.hub import Hub
from mixscope.server.ratelimit import BallotLimits
from mixscope.server.routes import FLASK_ROUTES, TORNADO_ROUTES
from mixscope.server.views import HttpError, WebContext, context
from mixscope.wire import protocol


def create_flask_app(web_context: WebContext, ballot_limits: BallotLimits | None = None) -> Flask:
    # root_path: templates live in server/templates. The secret key signs session cookies (the forms' CSRF
    # token); a fresh one per app means a restarted server invalidates old forms, which is harmless.
    # static_folder=None: the stylesheet is served by the route table's /static/ route like every other URL.
    app = Flask("mixscope", root_path=str(Path(__file__).resolve().parent), static_folder=None)
    app.secret_key = secrets.token_bytes(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"  # the form's CSRF cookie never rides a cross-site request
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.after_request(_secure_headers)
    app.extensions["mixscope"] = web_context
    app.extensions[ratelimit.EXTENSION] = ratelimit.BallotRateLimiter(ballot_limits)
    for route in FLASK_ROUTES:
        view = require_admin(route.view) if route.admin else route.view
        app.add_url_rule(route.path, endpoint=route.view.__name__, view_func=view, methods=list(route.methods))
    app.register_error_handler(HttpError, lambda exc: (jsonify(error=exc.error), exc.status))
    app.register_error_handler(ratelimit.RateLimited, lambda exc: (
        jsonify(error=exc.error, retry_after=exc.retry_after), 429, {"Retry-After": str(exc.retry_after)}))
    app.register_error_handler(HTTPException, _http_exception)
    # get_json() lets a RecursionError through (nesting deeper than the parser's limit): the client's mistake
    app.register_error_handler(RecursionError, lambda exc: (jsonify(error="the body is JSON nested too deeply"), 400))
    app.register_error_handler(Exception, _internal_error)
    return app


def require_admin(view):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if not bearer_ok(request.headers.get("Authorization"), context().admin_token):
            return jsonify(UNAUTHORIZED), 401
        return view(*args, **kwargs)

    return guarded


def _http_exception(exc: HTTPException):
    """Werkzeug's own errors (no such route, method not allowed, body too large): the HTML error page on
    the voters' pages, JSON elsewhere (server/page_errors.py decides)."""
    if page_errors.wants_html():
        body, status = page_errors.error_page(exc.code or 500, exc.description or exc.name)
        return body, status, [(k, v) for k, v in exc.get_headers() if k.lower() == "allow"]
    return jsonify(error=exc.name.lower(), detail=exc.description), exc.code


def _secure_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _internal_error(exc: Exception):
    if page_errors.wants_html():
        return page_errors.error_page(500, "internal server error")
    return jsonify(error="internal server error"), 500


def _log_request(hub: Hub):
    # Tornado's access log goes to the event channel (not stderr), so the panel shows HTTP traffic too.
    def log(handler: tornado.web.RequestHandler) -> None:
        status = handler.get_status()
        level = "info" if status < 400 else "warning" if status < 500 else "error"
        req = handler.request
        hub.log(level, f"{status} {req.method} {req.path} {1000 * req.request_time():.1f} ms")

    return log


class _QuietWSGIContainer(WSGIContainer):
    """WSGIContainer logs each request itself, full query string included, to the `tornado.access` logger
    (stderr when logging is unconfigured, as in `mixscope serve`): a token pasted into a URL would land there.
    The application's log_function above already logs every request (path only), so this log is dropped."""

    def _log(self, status_code, request) -> None:
        pass


class _RefusedHost(tornado.web.RequestHandler):
    """The answer to a request for a foreign Host/Origin (server/hosts.py), whatever its method or path."""

    def initialize(self, reason: str) -> None:
        self.reason = reason

    def prepare(self) -> None:
        self.set_status(403)
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.finish({"error": "host_not_allowed", "detail": self.reason})


class _GuardedApplication(tornado.web.Application):
    """Checks Host and Origin once, before any route (the websocket and every Flask view alike)."""

    def __init__(self, handlers, hosts: HostPolicy | None, **settings):
        super().__init__(handlers, **settings)
        self.hosts = hosts

    def find_handler(self, request, **kwargs):
        if self.hosts is not None:
            reason = self.hosts.refusal(request.host, request.headers.get("Origin"))
            if reason is not None:
                return self.get_handler_delegate(request, _RefusedHost, {"reason": reason})
        return super().find_handler(request, **kwargs)


def create_tornado_app(hub: Hub, flask_app: Flask, executor: ThreadPoolExecutor,
                       hosts: HostPolicy | None = None) -> tornado.web.Application:
    # Flask runs on the executor's threads, never on the loop thread, so a slow view cannot stall websockets.
    wsgi = _QuietWSGIContainer(flask_app, executor=executor)
    handlers: list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]] = [
        (path, handler, {"hub": hub}) for path, handler in TORNADO_ROUTES
    ]
    handlers.append((ADMIN_PATHS, AdminGate, {"hub": hub, "fallback": wsgi}))  # the token before the body
    handlers.append((r".*", tornado.web.FallbackHandler, {"fallback": wsgi}))
    # The hub pings every client itself (round-trip times) and drops one silent for interval + timeout;
    # Tornado's own pinger is off: since 6.5 it closes a connection whose pong is later than one interval,
    # which drops a node that is busy parsing a large request on a loaded machine.
    return _GuardedApplication(
        handlers,
        hosts,
        websocket_ping_interval=0,
        websocket_max_message_size=protocol.TRANSPORT_MAX_BYTES,
        log_function=_log_request(hub),
    )
