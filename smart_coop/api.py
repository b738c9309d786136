"""API conventions shared by every app: domain errors become 400s naming the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from smart_coop.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a DomainError is a 400 ``{field: [reason, ...]}``."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=400)
    return drf_exception_handler(exc, context)


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, refusing with a 400 two bodies it lets through as a 500.

    A lone surrogate ("\\ud800") is valid JSON but no text: it could not be stored, nor echoed
    in an error message ("... is not a valid choice"). Arrays nested a few thousand deep
    exhaust the recursion of the json module (RecursionError, not a ValueError).
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
            json.dumps(data, ensure_ascii=False).encode()
        except RecursionError:
            raise ParseError(gettext("JSON parse error - the body is nested too deep.")) from None
        except UnicodeEncodeError:
            raise ParseError(
                gettext("JSON parse error - a string holds a lone surrogate.")
            ) from None
        return data
