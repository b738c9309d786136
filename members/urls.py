"""The member portal (filled by members.views)."""

app_name = "members"
urlpatterns: list = []  # type: ignore[type-arg]
