"""Who may do what in the members API, and which contracts a user can see at all.

A contract the user may not see is a 404, never a 403: the API does not confirm that another
member's contract exists. A 403 is for an action the user can never take (a member approving).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_lazy
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from members.models import Contract, Member, Partner
from smart_coop.accounts.models import User

REVIEW_CONTRACT = "members.review_contract"


def is_reviewer(user: User) -> bool:
    """Advisors and entity admins: they see and review every contract of the entity."""
    return user.has_perm(REVIEW_CONTRACT)


def member_of(user: User) -> Member:
    """The user's member file, or a 403: declaring a contract needs one."""
    member = Member.objects.filter(user=user).first()
    if member is None:
        raise PermissionDenied(gettext("You have no member file in this entity."))
    return member


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    contracts = Contract.objects.select_related("member__user", "client").prefetch_related(
        "work_days", "expenses", "declarations"
    )
    if is_reviewer(user):
        return contracts
    return contracts.filter(member__user=user)


class IsContractReviewer(BasePermission):
    message = gettext_lazy("Only advisors and entity admins review contracts.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated and is_reviewer(request.user))


class UsesClientRegistry(BasePermission):
    """The registry is shared by the entity's members (and its staff, who keep it)."""

    message = gettext_lazy("The client registry is open to the entity's members.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        staff_permission = (
            "members.view_client" if request.method in SAFE_METHODS else "members.add_client"
        )
        return Member.objects.filter(user=user).exists() or user.has_perm(staff_permission)


class IsActivePartner(BasePermission):
    """The caller is the API user of an active partner platform."""

    message = gettext_lazy("Only a partner platform's API user opens shifts.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        partner = Partner.objects.filter(api_user=user).first()
        return partner is not None and partner.is_active
