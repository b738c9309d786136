from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def entity(request: HttpRequest) -> dict[str, Any]:
    """The entity the request is for (None on the public site) and the languages it offers."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        return {"entity": None, "entity_languages": settings.LANGUAGES}
    shipped = dict(settings.LANGUAGES)
    languages = [(code, shipped[code]) for code in tenant.languages if code in shipped]
    return {"entity": tenant, "entity_languages": languages or settings.LANGUAGES}
