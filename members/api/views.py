"""The members API: one view per operation, each calling one service or one query.

Views catch nothing: a refused action is a DomainError, which ``smart_coop.api`` turns into a
400 ``{field: [reason]}``; an invalid body is a serializer 400. The one exception is a duplicate
VAT number, whose 400 also names the client to use instead.

The request's host chose the entity (django-tenants), so every query below runs in its schema:
a token, a session, a client or a contract of another entity does not exist here.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members import services
from members.api.filters import ClientFilter, ContractFilter
from members.api.permissions import (
    IsActivePartner,
    IsContractReviewer,
    UsesClientRegistry,
    contracts_visible_to,
    member_of,
)
from members.api.serializers import (
    ClientExistsSerializer,
    ClientInputSerializer,
    ClientOutputSerializer,
    ContractApproveInputSerializer,
    ContractCancelInputSerializer,
    ContractEventOutputSerializer,
    ContractInputSerializer,
    ContractOutputSerializer,
    ContractRejectInputSerializer,
    ContractRequestChangesInputSerializer,
    EstimateInputSerializer,
    EstimateOutputSerializer,
    MemberOutputSerializer,
    PartnerShiftInputSerializer,
)
from members.models import Client, Contract, ContractEvent, Member, Partner, VatTreatment
from smart_coop.accounts.models import User
from smart_coop.tenancy.current import current_entity

REFUSED = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Refused: {field: [reason, ...]} for each problem."
)


def _user(request: Request) -> User:
    # Every view below requires an authenticated user of this entity.
    return cast(User, request.user)


class MembersApi(APIView):
    # The conventions of every view here (not a docstring: the schema would show it).
    # Authentication (token, then session) and JSON bodies come from the REST_FRAMEWORK
    # defaults in settings; every view here needs a logged-in user of this entity.
    permission_classes = [IsAuthenticated]


# --- member file -----------------------------------------------------------------------------


class MemberMeApi(MembersApi):
    """The current user's member file in this entity."""

    @extend_schema(
        operation_id="me_retrieve",
        responses={200: MemberOutputSerializer, 404: OpenApiResponse(description="No file.")},
    )
    def get(self, request: Request) -> Response:
        member = (
            Member.objects.select_related("user", "advisor").filter(user=_user(request)).first()
        )
        if member is None:
            raise NotFound(gettext("You have no member file in this entity."))
        return Response(MemberOutputSerializer(member).data)


# --- clients ---------------------------------------------------------------------------------


class ClientListApi(MembersApi, GenericAPIView[Client]):
    """The entity's client registry, shared by its members."""

    permission_classes = [IsAuthenticated, UsesClientRegistry]
    filterset_class = ClientFilter

    def get_queryset(self) -> QuerySet[Client]:
        return Client.objects.all()

    @extend_schema(operation_id="clients_list", responses=ClientOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        clients = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(clients)
        return self.get_paginated_response(ClientOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="clients_create",
        request=ClientInputSerializer,
        responses={
            201: ClientOutputSerializer,
            400: OpenApiResponse(
                ClientExistsSerializer,
                description="Refused: {field: [reason]}; a duplicate VAT number also names "
                "the existing client.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = ClientInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            client = services.client_create(
                data=services.ClientInput(**serializer.validated_data), actor=_user(request)
            )
        except services.ClientExistsError as error:
            # The registry is shared: point the member to the client already there.
            body = {
                **error.as_dict(),
                "existing_client": {"id": error.existing.pk, "name": error.existing.name},
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(ClientOutputSerializer(client).data, status=status.HTTP_201_CREATED)


class ClientDetailApi(MembersApi):
    """One client of the registry."""

    permission_classes = [IsAuthenticated, UsesClientRegistry]

    @extend_schema(operation_id="clients_retrieve", responses=ClientOutputSerializer)
    def get(self, request: Request, client_id: int) -> Response:
        client = get_object_or_404(Client.objects.all(), pk=client_id)
        return Response(ClientOutputSerializer(client).data)


# --- contracts -------------------------------------------------------------------------------


def _contract_input(data: dict[str, Any]) -> services.ContractInput:
    return services.ContractInput(
        client=data["client"],
        title=data["title"],
        description=data["description"],
        place=data["place"],
        first_day=data["first_day"],
        last_day=data["last_day"],
        price=data["price"],
        vat_rate=data["vat_rate"],
        work_days=[services.WorkDayInput(**day) for day in data["work_days"]],
        expenses=[services.ExpenseInput(**expense) for expense in data["expenses"]],
    )


def _contract_as_input(contract: Contract) -> dict[str, Any]:
    """The contract as a full input body: what a PATCH leaves out stays as it is."""
    domestic = contract.vat_treatment == VatTreatment.DOMESTIC
    return {
        "client": contract.client_id,
        "title": contract.title,
        "description": contract.description,
        "place": contract.place,
        "first_day": contract.first_day.isoformat(),
        "last_day": contract.last_day.isoformat(),
        "price": str(contract.price),
        # A reverse-charge or export contract has rate 0, which is no domestic rate: leave it
        # to the service if the client changes.
        "vat_rate": str(contract.vat_rate) if domestic else None,
        "work_days": [
            {"day": work_day.day.isoformat(), "hours": str(work_day.hours)}
            for work_day in contract.work_days.all()
        ],
        "expenses": [
            {
                "id": expense.pk,
                "kind": expense.kind,
                "amount": str(expense.amount),
                "description": expense.description,
            }
            for expense in contract.expenses.order_by("pk")
        ],
    }


def _visible_contract(request: Request, contract_id: int) -> Contract:
    """The contract if the user may see it; another member's is a 404.

    Who may act on it is the service's to decide (its member, or a reviewer on their behalf).
    """
    return get_object_or_404(contracts_visible_to(_user(request)), pk=contract_id)


def _contract_response(request: Request, contract: Contract, code: int = 200) -> Response:
    fresh = contracts_visible_to(_user(request)).filter(pk=contract.pk).first() or contract
    return Response(ContractOutputSerializer(fresh).data, status=code)


class ContractListApi(MembersApi, GenericAPIView[Contract]):
    filterset_class = ContractFilter

    def get_queryset(self) -> QuerySet[Contract]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Contract.objects.none()
        return contracts_visible_to(_user(self.request))

    @extend_schema(
        operation_id="contracts_list",
        description="A member's own contracts; every contract of the entity for a reviewer.",
        responses=ContractOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        contracts = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(contracts)
        return self.get_paginated_response(ContractOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="contracts_create",
        description="Declare a contract: a draft of the current user's member file.",
        request=ContractInputSerializer,
        responses={201: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request) -> Response:
        member = member_of(_user(request))
        serializer = ContractInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_save_draft(
            member=member, data=_contract_input(serializer.validated_data), actor=_user(request)
        )
        return _contract_response(request, contract, status.HTTP_201_CREATED)


class ContractDetailApi(MembersApi):
    """One contract the user may see: their own, or any for a reviewer."""

    @extend_schema(operation_id="contracts_retrieve", responses=ContractOutputSerializer)
    def get(self, request: Request, contract_id: int) -> Response:
        return Response(ContractOutputSerializer(_visible_contract(request, contract_id)).data)

    @extend_schema(
        operation_id="contracts_update",
        description="Replace a draft (or a contract sent back for changes), days and expenses "
        "included.",
        request=ContractInputSerializer,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def put(self, request: Request, contract_id: int) -> Response:
        return self._save(request, contract_id, partial=False)

    @extend_schema(
        operation_id="contracts_partial_update",
        description="Change some fields of a draft; a list given (work_days, expenses) replaces "
        "the list.",
        request=ContractInputSerializer,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def patch(self, request: Request, contract_id: int) -> Response:
        return self._save(request, contract_id, partial=True)

    def _save(self, request: Request, contract_id: int, *, partial: bool) -> Response:
        contract = _visible_contract(request, contract_id)
        data = request.data
        if partial and isinstance(data, dict):
            # Validate the whole contract as it would be, not the fields given alone.
            data = {**_contract_as_input(contract), **data}
        serializer = ContractInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_save_draft(
            member=contract.member,
            data=_contract_input(serializer.validated_data),
            actor=_user(request),
            contract=contract,
        )
        return _contract_response(request, contract)


class ContractSubmitApi(MembersApi):
    """Send a draft to review: refused after the work started, below the minimum pay..."""

    @extend_schema(
        operation_id="contracts_submit",
        request=None,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = services.contract_submit(
            contract=_visible_contract(request, contract_id), actor=_user(request)
        )
        return _contract_response(request, contract)


class ContractWithdrawApi(MembersApi):
    """Take a submitted contract back before review: a draft again."""

    @extend_schema(
        operation_id="contracts_withdraw",
        request=None,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = services.contract_withdraw(
            contract=_visible_contract(request, contract_id), actor=_user(request)
        )
        return _contract_response(request, contract)


class ContractCancelApi(MembersApi):
    @extend_schema(
        operation_id="contracts_cancel",
        description="Cancel a draft, or an approved contract before its work starts (the "
        "member, or a reviewer).",
        request=ContractCancelInputSerializer,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        user = _user(request)
        contract = _visible_contract(request, contract_id)
        serializer = ContractCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_cancel(
            contract=contract, actor=user, reason=serializer.validated_data["reason"]
        )
        return _contract_response(request, contract)


class ContractApproveApi(MembersApi):
    """Approve a submitted contract (reviewers): creates the declarations of employment."""

    permission_classes = [IsAuthenticated, IsContractReviewer]

    @extend_schema(
        operation_id="contracts_approve",
        request=ContractApproveInputSerializer,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _visible_contract(request, contract_id)
        serializer = ContractApproveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_approve(
            contract=contract, actor=_user(request), **serializer.validated_data
        )
        return _contract_response(request, contract)


class ContractRejectApi(MembersApi):
    """Refuse a submitted contract (reviewers), with the reason the member reads."""

    permission_classes = [IsAuthenticated, IsContractReviewer]

    @extend_schema(
        operation_id="contracts_reject",
        request=ContractRejectInputSerializer,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _visible_contract(request, contract_id)
        serializer = ContractRejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_reject(
            contract=contract, actor=_user(request), reason=serializer.validated_data["reason"]
        )
        return _contract_response(request, contract)


class ContractRequestChangesApi(MembersApi):
    """Send a submitted contract back to its member (reviewers) with what to change."""

    permission_classes = [IsAuthenticated, IsContractReviewer]

    @extend_schema(
        operation_id="contracts_request_changes",
        request=ContractRequestChangesInputSerializer,
        responses={200: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _visible_contract(request, contract_id)
        serializer = ContractRequestChangesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_request_changes(
            contract=contract, actor=_user(request), note=serializer.validated_data["note"]
        )
        return _contract_response(request, contract)


class ContractHistoryApi(MembersApi, GenericAPIView[ContractEvent]):
    def get_queryset(self) -> QuerySet[ContractEvent]:
        return ContractEvent.objects.select_related("actor")

    @extend_schema(
        operation_id="contracts_history",
        description="What happened to the contract, latest first.",
        responses=ContractEventOutputSerializer(many=True),
    )
    def get(self, request: Request, contract_id: int) -> Response:
        contract = _visible_contract(request, contract_id)
        page = self.paginate_queryset(self.get_queryset().filter(contract=contract))
        return self.get_paginated_response(ContractEventOutputSerializer(page, many=True).data)


# --- salary estimate -------------------------------------------------------------------------


class SalaryEstimateApi(MembersApi):
    @extend_schema(
        operation_id="estimate",
        description="What a price pays as salary in this entity (an estimate).",
        request=EstimateInputSerializer,
        responses={200: EstimateOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request) -> Response:
        serializer = EstimateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entity = current_entity()
        on: datetime.date = serializer.validated_data.get("first_day") or services.entity_today(
            entity
        )
        estimate = services.contract_estimate(
            entity=entity,
            price=serializer.validated_data["price"],
            expenses=serializer.validated_data["expenses"],
            on=on,
            member=Member.objects.filter(user=_user(request)).first(),
        )
        return Response(estimate.as_dict())


# --- partner platforms -----------------------------------------------------------------------


class PartnerShiftOpenApi(MembersApi):
    permission_classes = [IsAuthenticated, IsActivePartner]

    @extend_schema(
        operation_id="partner_shifts_open",
        description="Open a shift for a member: an approved contract, or the rule it breaks. "
        "The same shift_id returns the same contract (200) instead of a new one (201).",
        request=PartnerShiftInputSerializer,
        responses={201: ContractOutputSerializer, 200: ContractOutputSerializer, 400: REFUSED},
    )
    def post(self, request: Request) -> Response:
        serializer = PartnerShiftInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        partner = Partner.objects.get(api_user=_user(request))
        contract, created = services.partner_shift_open(
            partner=partner, data=services.ShiftInput(**serializer.validated_data)
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ContractOutputSerializer(contract).data, status=code)
