"""Errors the crypto core raises for bad input. Callers turn them into typed replies and verifier checks."""

from mixscope.mixnet.group import InvalidElement, InvalidScalar  # noqa: F401  (re-exported: one place to import errors)


class ProofError(ValueError):
    """A proof that does not verify; the message says which equation or field failed."""


class RecordError(ValueError):
    """An election record that is malformed (missing fields, wrong types) rather than merely failing checks."""
