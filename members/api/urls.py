"""The members API (filled by members.api.views)."""

urlpatterns: list = []  # type: ignore[type-arg]
