"""The member portal (filled by members.views)."""

from django.urls import path

app_name = "members"
urlpatterns: list = []  # type: ignore[type-arg]
