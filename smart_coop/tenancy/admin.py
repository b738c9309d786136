"""Two admin sites: the public one for platform operators, the default one inside each entity.

Tables of SHARED apps (entities, the beat schedule) are visible from an entity's schema too, as
PostgreSQL falls back to ``public`` on the search path; so they are registered on the public
site only, never on the entities' admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models
from django_tenants.admin import TenantAdminMixin

from smart_coop.tenancy.models import Amount, Domain, Entity, Rate


class PublicAdminSite(AdminSite):
    site_header = _("smart_coop platform administration")
    site_title = _("smart_coop platform")
    index_title = _("Entities and schedules")


public_admin_site = PublicAdminSite(name="public_admin")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class RateInline(admin.TabularInline):
    """Rates are versions: a new rate is added, an old one is closed by its end date."""

    model = Rate
    extra = 0
    fields = ["kind", "percent", "valid_from", "valid_until", "source", "verified"]


class AmountInline(admin.TabularInline):
    model = Amount
    extra = 0
    fields = ["kind", "amount", "valid_from", "valid_until", "source", "verified"]


@admin.register(Entity, site=public_admin_site)
class EntityAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["code", "legal_name", "country", "currency", "vat_number", "time_zone"]
    search_fields = ["code", "legal_name", "vat_number"]
    readonly_fields = ["schema_name", "code", "created_at"]
    inlines = [DomainInline, RateInline, AmountInline]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # An entity holds members' contracts, salaries and votes: it is never deleted here.
        return False


# The beat schedule is global: operators manage it on the public site only.
for model, model_admin in (
    (beat_models.PeriodicTask, beat_admin.PeriodicTaskAdmin),
    (beat_models.IntervalSchedule, admin.ModelAdmin),
    (beat_models.CrontabSchedule, admin.ModelAdmin),
    (beat_models.SolarSchedule, admin.ModelAdmin),
    (beat_models.ClockedSchedule, beat_admin.ClockedScheduleAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    public_admin_site.register(model, model_admin)
