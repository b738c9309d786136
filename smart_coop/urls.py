"""URLs of an entity's site (<code>.<host>)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from members import views as member_views
from smart_coop import views
from smart_coop.accounts.forms import PasswordResetForm

admin.site.site_header = _("smart_coop administration")
admin.site.site_title = _("smart_coop")

urlpatterns = [
    path("", member_views.dashboard, name="home"),
    path("", include("members.urls")),
    path("", include("invoicing.urls")),
    path("", include("governance.urls")),
    path("", include("payroll.urls")),
    path("", include("guarantee_fund.urls")),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("members.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("health/", views.health, name="health"),
]
