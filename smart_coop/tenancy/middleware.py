from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class EntityLanguageMiddleware:
    """Speak the entity's languages and show times in its time zone.

    Runs after LocaleMiddleware: if the language it chose (cookie, then browser) is not one the
    entity works in, fall back to the user's own language, then to the entity's first language
    that the platform ships, then to English. Dates and times are shown in the entity's zone
    (they are stored in UTC).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.shipped = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        entity = getattr(request, "tenant", None)
        if entity is None or entity.is_public:
            return self.get_response(request)
        allowed = [code for code in entity.languages if code in self.shipped] or ["en"]
        if translation.get_language() not in allowed:
            user = getattr(request, "user", None)
            preferred = getattr(user, "language", "") if user is not None else ""
            language = preferred if preferred in allowed else allowed[0]
            translation.activate(language)
            request.LANGUAGE_CODE = language
        timezone.activate(ZoneInfo(entity.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
