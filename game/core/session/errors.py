"""The one domain error of the session: a command that cannot be carried out."""

from __future__ import annotations


class Refused(Exception):
    """A command that cannot be carried out; ``code`` is one of the protocol's error codes
    (stable, for programs), ``message`` a sentence for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
