"""What the members API reads (Input) and writes (Output).

Input serializers check shape and bounds only (types, lengths that fit the columns, choices):
every business rule is the service's, so the API and the portal refuse the same things with the
same words. Money and hours are decimals written as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from members.models import (
    Client,
    Contract,
    ContractEvent,
    EmploymentDeclaration,
    Expense,
    Member,
    WorkDay,
)
from smart_coop.accounts.models import User

COUNTRY_CODE = r"\A[A-Za-z]{2}\Z"  # ISO 3166-1 alpha-2; \Z: "BE\n" is not a code
# The largest value of a bigint primary key: a larger id is refused, not sent to the database.
MAX_ID = 2**63 - 1


# --- shared pieces ---------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer[User]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.email


class ClientRefSerializer(serializers.ModelSerializer[Client]):
    class Meta:
        model = Client
        fields = ["id", "name"]


# --- member file -----------------------------------------------------------------------------


class MemberOutputSerializer(serializers.ModelSerializer[Member]):
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    advisor = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "state",
            "national_id",
            "date_of_birth",
            "street",
            "postal_code",
            "city",
            "country",
            "iban",
            "bic",
            "sector",
            "languages",
            "advisor",
            "created_at",
        ]
        read_only_fields = fields


# --- clients ---------------------------------------------------------------------------------


class ClientInputSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Client.Kind.choices)
    country = serializers.RegexField(COUNTRY_CODE, help_text="ISO 3166-1 alpha-2 code, e.g. BE.")
    street = serializers.CharField(max_length=200)
    postal_code = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254)
    # Room for the spaces and dots people type; the service stores the compact number.
    vat_number = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    company_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    language = serializers.CharField(max_length=8, required=False, default="en")
    payment_terms_days = serializers.IntegerField(
        min_value=0, max_value=120, required=False, default=30
    )


# Client.Kind and Expense.Kind are both "kind": declared as enums in the inputs only, so the schema
# names them without a collision warning (ENUM_NAME_OVERRIDES would lift this; see the report).
KIND_OUTPUT_HELP = "One of the values of the input's kind."


class ClientOutputSerializer(serializers.ModelSerializer[Client]):
    kind = serializers.CharField(read_only=True, help_text=KIND_OUTPUT_HELP)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "kind",
            "country",
            "vat_number",
            "company_number",
            "peppol_id",
            "street",
            "postal_code",
            "city",
            "email",
            "language",
            "payment_terms_days",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class ClientExistsSerializer(serializers.Serializer[dict[str, Any]]):
    """The 400 of a duplicate VAT number: the reason, and the client to choose instead."""

    vat_number = serializers.ListField(child=serializers.CharField())
    existing_client = ClientRefSerializer()


# --- contracts -------------------------------------------------------------------------------


class WorkDayInputSerializer(serializers.Serializer[dict[str, Any]]):
    day = serializers.DateField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=2)


class ExpenseInputSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="An expense of this contract to keep (with its receipt) when updating.",
    )
    kind = serializers.ChoiceField(choices=Expense.Kind.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class ContractInputSerializer(serializers.Serializer[dict[str, Any]]):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    place = serializers.CharField(max_length=200)
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Excluding VAT, in the entity's currency."
    )
    vat_rate = serializers.DecimalField(
        max_digits=7,
        decimal_places=4,
        required=False,
        allow_null=True,
        default=None,
        help_text="One of the entity's VAT rates (%); the standard rate when left out.",
    )
    work_days = serializers.ListField(child=WorkDayInputSerializer(), max_length=366)
    expenses = serializers.ListField(
        child=ExpenseInputSerializer(), required=False, default=list, max_length=100
    )


class WorkDayOutputSerializer(serializers.ModelSerializer[WorkDay]):
    class Meta:
        model = WorkDay
        fields = ["day", "hours"]
        read_only_fields = fields


class ExpenseOutputSerializer(serializers.ModelSerializer[Expense]):
    kind = serializers.CharField(read_only=True, help_text=KIND_OUTPUT_HELP)

    class Meta:
        model = Expense
        fields = ["id", "kind", "amount", "description"]
        read_only_fields = fields


class DeclarationOutputSerializer(serializers.ModelSerializer[EmploymentDeclaration]):
    class Meta:
        model = EmploymentDeclaration
        fields = ["id", "kind", "period_start", "period_end", "state", "reference"]
        read_only_fields = fields


class ContractOutputSerializer(serializers.ModelSerializer[Contract]):
    member = PersonSerializer(source="member.user", read_only=True)
    client = ClientRefSerializer(read_only=True)
    work_days = WorkDayOutputSerializer(many=True, read_only=True)
    expenses = ExpenseOutputSerializer(many=True, read_only=True)
    declarations = DeclarationOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "member",
            "client",
            "title",
            "description",
            "place",
            "first_day",
            "last_day",
            "price",
            "currency",
            "vat_treatment",
            "vat_rate",
            "state",
            "source",
            "late_reason",
            "overlaps",
            "submitted_at",
            "reviewed_at",
            "review_note",
            "work_days",
            "expenses",
            "declarations",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContractEventOutputSerializer(serializers.ModelSerializer[ContractEvent]):
    actor = PersonSerializer(read_only=True)
    changes = serializers.JSONField(
        read_only=True, help_text="{field: [old value, new value]} for each field that changed."
    )

    class Meta:
        model = ContractEvent
        fields = ["id", "action", "actor", "changes", "note", "at"]
        read_only_fields = fields


class ContractApproveInputSerializer(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    late_reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why a contract declared after its work started is approved all the same.",
    )


class ContractRejectInputSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(allow_blank=True, help_text="The reason the member will read.")


class ContractRequestChangesInputSerializer(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(allow_blank=True, help_text="What the member should change.")


class ContractCancelInputSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- salary estimate -------------------------------------------------------------------------


class EstimateInputSerializer(serializers.Serializer[dict[str, Any]]):
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text="Invoiced, excluding VAT."
    )
    expenses = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        default=Decimal("0.00"),
        help_text="Total of the reimbursable expenses.",
    )
    first_day = serializers.DateField(
        required=False, help_text="The rates in force on this day; today when left out."
    )


class EstimateOutputSerializer(serializers.Serializer[dict[str, Any]]):
    """payroll.estimates.SalaryEstimate.as_dict(): amounts as decimal strings."""

    currency = serializers.CharField()
    invoiced = serializers.DecimalField(max_digits=14, decimal_places=2)
    fee = serializers.DecimalField(max_digits=14, decimal_places=2)
    expenses = serializers.DecimalField(max_digits=14, decimal_places=2)
    budget = serializers.DecimalField(max_digits=14, decimal_places=2)
    employer_contributions = serializers.DecimalField(max_digits=14, decimal_places=2)
    gross = serializers.DecimalField(max_digits=14, decimal_places=2)
    employee_contributions = serializers.DecimalField(max_digits=14, decimal_places=2)
    taxable = serializers.DecimalField(max_digits=14, decimal_places=2)
    withholding = serializers.DecimalField(max_digits=14, decimal_places=2)
    net = serializers.DecimalField(max_digits=14, decimal_places=2)
    fee_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    is_estimate = serializers.BooleanField()
    guarantee_contribution = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The part of the fee for the guarantee fund."
    )
    budget_remainder = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="What the budget leaves after rounding, kept on the activity's account.",
    )


# --- partner platforms -----------------------------------------------------------------------


class PartnerShiftInputSerializer(serializers.Serializer[dict[str, Any]]):
    shift_id = serializers.CharField(
        max_length=100, help_text="The platform's own id: the same id opens the shift once."
    )
    member_email = serializers.EmailField(max_length=254)
    day = serializers.DateField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=2)
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Excluding VAT, in the entity's currency."
    )
    title = serializers.CharField(max_length=200)
    place = serializers.CharField(max_length=200)
