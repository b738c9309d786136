"""Domain errors: a refused business action, with the field it concerns and a readable reason.

Services raise them; forms turn them into field errors, the API into a 400 naming the field,
management commands into a CommandError. They never become a 500.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
