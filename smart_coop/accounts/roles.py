"""The four roles inside an entity, as groups with permissions.

Each later app adds the permissions its role needs to ``ROLE_PERMISSIONS``; the groups are
brought in line after every migration of an entity's schema, so a new permission reaches every
entity with the migration that creates it.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name

from smart_coop.tenancy.current import current_schema


class Role(TextChoices):
    MEMBER = "member", _("member")
    ADVISOR = "advisor", _("advisor")
    ACCOUNTANT = "accountant", _("accountant")
    ENTITY_ADMIN = "entity_admin", _("entity admin")


# Roles that work in the entity's admin site.
STAFF_ROLES = frozenset({Role.ADVISOR, Role.ACCOUNTANT, Role.ENTITY_ADMIN})

# "app_label.codename" per role. A member works in the portal and needs no admin permission.
_ADVISOR = (
    "accounts.view_user",
    "members.view_member",
    "members.change_member",
    "members.view_memberstatechange",
    "members.view_client",
    "members.add_client",
    "members.change_client",
    "members.view_contract",
    "members.review_contract",
    "members.view_contractevent",
    "members.view_workday",
    "members.view_expense",
    "members.view_attachment",
    "members.view_employmentdeclaration",
    "members.change_employmentdeclaration",
)
_PAYROLL = (
    "payroll.view_payrollparameters",
    "payroll.view_salaryrun",
    "payroll.view_payslip",
    "payroll.view_payslipline",
    "payroll.approve_salaryrun",
    "payroll.export_salaryrun",
    "payroll.correct_payslip",
    "payroll.view_permanentcontract",
    "payroll.view_reimbursedinvoice",
)
# Advisors agree the monthly salary of a permanent contract with the member.
_SMOOTHING = (
    "payroll.view_permanentcontract",
    "payroll.add_permanentcontract",
    "payroll.change_permanentcontract",
)
# The guarantee fund: what staff read; advisors approve advances above a client's limit.
_FUND_VIEW = (
    "guarantee_fund.view_fundpolicy",
    "guarantee_fund.view_payout",
    "guarantee_fund.view_payoutbatch",
    "guarantee_fund.view_coveragesnapshot",
)
# Governance: advisors check candidates' eligibility; accountants record share payments; entity
# admins organise assemblies. Ballots and participations have no admin at all.
_GOVERNANCE_VIEW = (
    "governance.view_shareholder",
    "governance.view_shareclass",
    "governance.view_sharemovement",
    "governance.view_shareorder",
    "governance.view_assembly",
    "governance.view_candidacy",
    "governance.view_proxy",
)
_GOVERNANCE_REVIEW = ("governance.review_candidacy",)
_GOVERNANCE_PAYMENTS = ("governance.record_share_payment",)
_GOVERNANCE_ORGANISE = (
    "governance.organise_assembly",
    "governance.view_statutes",
    "governance.change_statutes",
    "governance.add_shareclass",
    "governance.change_shareclass",
    "governance.change_shareholder",
    "governance.add_assembly",
    "governance.change_assembly",
    "governance.delete_assembly",
    "governance.view_resolution",
    "governance.add_resolution",
    "governance.change_resolution",
    "governance.delete_resolution",
    "governance.view_assemblydocument",
    "governance.add_assemblydocument",
    "governance.change_assemblydocument",
    "governance.delete_assemblydocument",
    "governance.view_election",
    "governance.add_election",
    "governance.change_election",
    "governance.delete_election",
)
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.MEMBER: (),
    Role.ADVISOR: (
        *_ADVISOR,
        "invoicing.view_invoice",
        "invoicing.issue_invoice",
        "invoicing.write_off_invoice",
        *_SMOOTHING,
        *_GOVERNANCE_VIEW,
        *_GOVERNANCE_REVIEW,
        *_FUND_VIEW,
        "guarantee_fund.approve_payout",
    ),
    Role.ACCOUNTANT: (
        "accounts.view_user",
        "members.view_member",
        "members.view_client",
        "members.view_contract",
        "members.view_contractevent",
        "members.view_workday",
        "members.view_expense",
        "members.view_attachment",
        "members.view_employmentdeclaration",
        "invoicing.view_invoice",
        "invoicing.issue_invoice",  # credit notes
        *_GOVERNANCE_VIEW,
        *_GOVERNANCE_PAYMENTS,
        "invoicing.record_payment",
        "invoicing.view_payment",
        "invoicing.add_payment",
        "invoicing.view_bankstatement",
        "invoicing.add_bankstatement",
        "invoicing.view_statementline",
        "invoicing.change_statementline",
        "ledger.view_account",
        "ledger.view_transaction",
        "ledger.view_entry",
        *_PAYROLL,
        *_FUND_VIEW,
    ),
    Role.ENTITY_ADMIN: (
        *_ADVISOR,
        # A new rate is a new version of the payroll parameters, never an edit.
        "payroll.add_payrollparameters",
        # The fund's policy: exposure limit per client, coverage floor, eligibility rules.
        "guarantee_fund.change_fundpolicy",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        *_GOVERNANCE_VIEW,
        *_GOVERNANCE_REVIEW,
        *_GOVERNANCE_PAYMENTS,
        *_GOVERNANCE_ORGANISE,
        "members.add_member",
        "members.view_partner",
        "members.add_partner",
        "members.change_partner",
        # What the advisor and the accountant may do with invoices and money, both.
        "invoicing.view_invoice",
        "invoicing.issue_invoice",
        "invoicing.write_off_invoice",
        "invoicing.record_payment",
        "invoicing.view_payment",
        "invoicing.add_payment",
        "invoicing.view_bankstatement",
        "invoicing.add_bankstatement",
        "invoicing.view_statementline",
        "invoicing.change_statementline",
        "ledger.view_account",
        "ledger.view_transaction",
        "ledger.view_entry",
        *_PAYROLL,
        *_SMOOTHING,
        *_FUND_VIEW,
    ),
}


def roles_sync() -> None:
    """Create the role groups of the current schema and give each exactly its permissions."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)


def roles_sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    """After an entity's schema is migrated, bring its role groups in line.

    post_migrate is sent once per app, in INSTALLED_APPS order, and Django creates each app's
    permissions on its own signal: so the permissions of every app are created here first.
    Platform operators (the public schema) have no roles.
    """
    if current_schema() == get_public_schema_name():
        return
    if getattr(sender, "label", None) != "accounts":
        return
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    roles_sync()
