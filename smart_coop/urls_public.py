"""URLs of the public site (the base host): the entity directory and the operators' admin."""

from django.urls import include, path

from smart_coop import views
from smart_coop.tenancy.admin import public_admin_site
from smart_coop.tenancy.views import entity_directory

urlpatterns = [
    path("", entity_directory, name="entity-directory"),
    path("admin/", public_admin_site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", views.health, name="health"),
]
