"""Domain errors: a refused business action, with the field it concerns and a readable reason.

Services raise them; forms turn them into field errors, the API into a 400 naming each field,
management commands into a CommandError. They never become a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NON_FIELD = "__all__"


@dataclass(frozen=True)
class Problem:
    message: str
    field: str = NON_FIELD
    code: str = "invalid"


class DomainError(Exception):
    """One or more reasons an action was refused. ``message``/``field`` are the first one."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        self.problems = [Problem(message, field or NON_FIELD, code)]
        super().__init__(message)

    @classmethod
    def many(cls, problems: Iterable[Problem]) -> DomainError:
        problems = list(problems)
        error = cls(problems[0].message, field=problems[0].field, code=problems[0].code)
        error.problems = problems
        return error

    @property
    def message(self) -> str:
        return self.problems[0].message

    @property
    def field(self) -> str | None:
        field = self.problems[0].field
        return None if field == NON_FIELD else field

    @property
    def code(self) -> str:
        return self.problems[0].code

    def as_dict(self) -> dict[str, list[str]]:
        """{field: [messages]}: the shape of a DRF 400 and of Form.add_error's input."""
        result: dict[str, list[str]] = {}
        for problem in self.problems:
            result.setdefault(problem.field, []).append(problem.message)
        return result

    def __str__(self) -> str:
        return "; ".join(problem.message for problem in self.problems)
