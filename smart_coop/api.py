"""API conventions shared by every app: domain errors become 400s naming the field."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from smart_coop.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a DomainError is a 400 ``{field: [reason, ...]}``."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=400)
    return drf_exception_handler(exc, context)
