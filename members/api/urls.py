"""The members API (filled by members.api.views)."""

from django.urls import path

urlpatterns: list = []  # type: ignore[type-arg]
