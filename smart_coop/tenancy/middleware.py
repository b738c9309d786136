from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class EntityLanguageMiddleware:
    """Keep the interface in one of the entity's languages.

    Runs after LocaleMiddleware: if the language it chose (cookie, then browser) is not one the
    entity works in, fall back to the user's own language, then to the entity's first language
    that the platform ships, then to English.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.shipped = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        entity = getattr(request, "tenant", None)
        if entity is not None and not entity.is_public:
            allowed = [code for code in entity.languages if code in self.shipped] or ["en"]
            current = translation.get_language()
            if current not in allowed:
                user = getattr(request, "user", None)
                preferred = getattr(user, "language", "") if user is not None else ""
                language = preferred if preferred in allowed else allowed[0]
                translation.activate(language)
                request.LANGUAGE_CODE = language
        response = self.get_response(request)
        return response
