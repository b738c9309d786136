"""Writes on members, clients and contracts: one function per business action.

Every function runs in one transaction, checks the move against the model's TRANSITIONS table,
locks the row it changes, records who did what in the history, and schedules side effects
(emails) on commit. A refused action raises DomainError naming the field and the reason.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import declarations
from members.models import (
    Attachment,
    Client,
    Contract,
    ContractEvent,
    EmploymentDeclaration,
    Expense,
    Member,
    MemberStateChange,
    Partner,
    VatTreatment,
    WorkDay,
)
from members.validators import (
    EU_COUNTRIES,
    bic_clean,
    client_vat_clean,
    iban_clean,
    national_id_clean,
    peppol_id_derive,
)
from payroll.estimates import SalaryEstimate, salary_estimate
from payroll.models import Category
from payroll.parameters import payroll_category
from smart_coop.accounts.models import User
from smart_coop.accounts.roles import Role
from smart_coop.errors import DomainError, Problem
from smart_coop.money import quantize
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Amount, Entity, Rate

ZERO = Decimal(0)


def entity_today(entity: Entity) -> datetime.date:
    """Today in the entity's own time zone (what "the work has started" is measured against)."""
    return timezone.now().astimezone(ZoneInfo(entity.time_zone)).date()


# --- members -------------------------------------------------------------------------------


@dataclass
class MemberInput:
    national_id: str
    date_of_birth: datetime.date
    street: str
    postal_code: str
    city: str
    country: str
    iban: str
    sector: str
    bic: str = ""
    languages: list[str] = field(default_factory=list)


def _member_fields(data: MemberInput) -> dict[str, Any]:
    entity = current_entity()
    problems: list[Problem] = []
    cleaned: dict[str, Any] = {
        "date_of_birth": data.date_of_birth,
        "street": data.street,
        "postal_code": data.postal_code,
        "city": data.city,
        "country": data.country.upper(),
        "sector": data.sector,
        "languages": data.languages or [entity.default_language],
    }
    for name, clean in (
        ("national_id", lambda: national_id_clean(data.national_id, country=entity.country)),
        ("iban", lambda: iban_clean(data.iban)),
    ):
        try:
            cleaned[name] = clean()
        except DomainError as error:
            problems.extend(error.problems)
    if "iban" in cleaned:
        try:
            cleaned["bic"] = bic_clean(data.bic, iban=cleaned["iban"])
        except DomainError as error:
            problems.extend(error.problems)
    if data.date_of_birth >= entity_today(entity):
        problems.append(Problem(_("The date of birth must be in the past."), "date_of_birth"))
    if problems:
        raise DomainError.many(problems)
    return cleaned


@transaction.atomic
def member_onboard(*, user: User, data: MemberInput, advisor: User | None = None) -> Member:
    """Open the member file of ``user`` (state applicant).

    Effects: validates the national number (python-stdnum, per the entity's country), the IBAN
    and BIC (schwifty); creates the file.
    """
    if Member.objects.filter(user=user).exists():
        raise DomainError(_("This user already has a member file."), field="user")
    fields = _member_fields(data)
    if Member.objects.filter(national_id=fields["national_id"]).exists():
        raise DomainError(
            _("Another member has this national identification number."), field="national_id"
        )
    try:
        with transaction.atomic():
            return Member.objects.create(user=user, advisor=advisor, **fields)
    except IntegrityError:
        # A concurrent request opened a file for this person or this user first.
        raise DomainError(
            _("A member file already exists for this person."), field="national_id"
        ) from None


@transaction.atomic
def member_update(*, member: Member, data: MemberInput, actor: User) -> Member:
    fields = _member_fields(data)
    if Member.objects.filter(national_id=fields["national_id"]).exclude(pk=member.pk).exists():
        raise DomainError(
            _("Another member has this national identification number."), field="national_id"
        )
    member = Member.objects.select_for_update().get(pk=member.pk)
    for name, value in fields.items():
        setattr(member, name, value)
    member.save(update_fields=[*fields, "updated_at"])
    return member


@transaction.atomic
def member_advisor_set(*, member: Member, advisor: User | None, actor: User) -> Member:
    """Give the member file to an advisor (or to nobody); only advisors may follow members."""
    if advisor is not None and not advisor.groups.filter(name=Role.ADVISOR.value).exists():
        raise DomainError(_("This person is not an advisor of the entity."), field="advisor")
    member = Member.objects.select_for_update().get(pk=member.pk)
    member.advisor = advisor
    member.save(update_fields=["advisor", "updated_at"])
    return member


@transaction.atomic
def member_state_change(*, member: Member, to_state: str, actor: User, reason: str) -> Member:
    """Move a member file to ``to_state`` (applicant -> active -> suspended / left).

    Effects: checks the move, records it with who and why.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.state == to_state:
        return member
    if to_state not in Member.TRANSITIONS[member.state]:
        raise DomainError(
            _("A member cannot go from %(from_state)s to %(to_state)s.")
            % {"from_state": member.get_state_display(), "to_state": to_state},
            field="state",
        )
    if not reason.strip():
        raise DomainError(_("Say why the member's state changes."), field="reason")
    MemberStateChange.objects.create(
        member=member, from_state=member.state, to_state=to_state, actor=actor, reason=reason
    )
    member.state = to_state
    member.save(update_fields=["state", "updated_at"])
    return member


# --- clients -------------------------------------------------------------------------------


class ClientExistsError(DomainError):
    """A client with this VAT number is already in the registry: use it."""

    def __init__(self, existing: Client) -> None:
        super().__init__(
            _("%(client)s already has this VAT number: choose it instead.")
            % {"client": existing.name},
            field="vat_number",
            code="client_exists",
        )
        self.existing = existing


@dataclass
class ClientInput:
    name: str
    kind: str
    country: str
    street: str
    postal_code: str
    city: str
    email: str
    vat_number: str = ""
    company_number: str = ""
    language: str = "en"
    payment_terms_days: int = 30


def _client_fields(data: ClientInput, *, exclude_pk: int | None = None) -> dict[str, Any]:
    """The client's fields, validated: VAT number, EU companies' VAT, duplicates, terms."""
    country = data.country.upper()
    vat_number = client_vat_clean(data.vat_number, country=country)
    if data.kind == Client.Kind.COMPANY and country in EU_COUNTRIES and not vat_number:
        raise DomainError(_("A company in the EU needs its VAT number."), field="vat_number")
    if vat_number:
        others = Client.objects.filter(vat_number=vat_number)
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
        existing = others.first()
        if existing is not None:
            raise ClientExistsError(existing)
    if not 0 <= data.payment_terms_days <= 120:
        raise DomainError(
            _("Payment terms must be between 0 and 120 days."), field="payment_terms_days"
        )
    return {
        "name": data.name,
        "kind": data.kind,
        "country": country,
        "vat_number": vat_number,
        "company_number": data.company_number,
        "peppol_id": peppol_id_derive(
            country=country, vat_number=vat_number, company_number=data.company_number
        ),
        "street": data.street,
        "postal_code": data.postal_code,
        "city": data.city,
        "email": data.email,
        "language": data.language,
        "payment_terms_days": data.payment_terms_days,
    }


@transaction.atomic
def client_create(*, data: ClientInput, actor: User) -> Client:
    """Add a client to the entity's registry.

    Effects: validates the VAT number (python-stdnum); refuses a duplicate VAT number with the
    existing client (ClientExistsError); derives the Peppol id of Belgian companies.
    """
    fields = _client_fields(data)
    try:
        with transaction.atomic():
            return Client.objects.create(created_by=actor, **fields)
    except IntegrityError:
        # Another request created it between our check and our insert.
        raise ClientExistsError(Client.objects.get(vat_number=fields["vat_number"])) from None


@transaction.atomic
def client_update(*, client: Client, data: ClientInput, actor: User) -> Client:
    """Correct a client's details (address, email, terms...), with the same checks as creation.

    Contracts and invoices already made keep what they were made with.
    """
    fields = _client_fields(data, exclude_pk=client.pk)
    client = Client.objects.select_for_update().get(pk=client.pk)
    for name, value in fields.items():
        setattr(client, name, value)
    try:
        with transaction.atomic():
            client.save(update_fields=list(fields))
    except IntegrityError:
        raise ClientExistsError(Client.objects.get(vat_number=fields["vat_number"])) from None
    return client


@transaction.atomic
def client_status_set(*, client: Client, status: str, actor: User, reason: str) -> Client:
    """Put a client on ok / watch / blocked; a blocked client gets no new contract."""
    if status not in Client.Status.values:
        raise DomainError(
            _("Unknown client status %(status)s.") % {"status": repr(status)}, field="status"
        )
    if not reason.strip():
        raise DomainError(_("Say why the client's status changes."), field="reason")
    client = Client.objects.select_for_update().get(pk=client.pk)
    client.status = status
    client.status_reason = reason
    client.save(update_fields=["status", "status_reason"])
    return client


def vat_treatment_for(*, entity: Entity, client: Client) -> VatTreatment:
    """Domestic VAT, intra-EU reverse charge (a business in another member state), or export."""
    if client.country == entity.country:
        return VatTreatment.DOMESTIC
    if client.country in EU_COUNTRIES:
        if client.kind != Client.Kind.PERSON and client.vat_number:
            return VatTreatment.REVERSE_CHARGE
        return VatTreatment.DOMESTIC
    return VatTreatment.EXPORT


# --- contracts -----------------------------------------------------------------------------


@dataclass
class WorkDayInput:
    day: datetime.date
    hours: Decimal


@dataclass
class ExpenseInput:
    kind: str
    amount: Decimal
    description: str = ""
    receipt: File | None = None
    id: int | None = None  # an existing expense of the contract, kept with its receipt


@dataclass
class ContractInput:
    client: Client
    title: str
    place: str
    first_day: datetime.date
    last_day: datetime.date
    price: Decimal
    work_days: Sequence[WorkDayInput]
    description: str = ""
    expenses: Sequence[ExpenseInput] = ()
    vat_rate: Decimal | None = None  # one of the entity's rates; the standard one by default


HOURS_UNIT = Decimal("0.01")


def _normalized(data: ContractInput, currency: str) -> ContractInput:
    """Amounts rounded to the currency and hours to the hundredth, as they will be stored:
    the rules judge what is saved, not what was typed."""
    return replace(
        data,
        price=quantize(data.price, currency),
        work_days=[
            replace(day, hours=day.hours.quantize(HOURS_UNIT, rounding=ROUND_HALF_UP))
            for day in data.work_days
        ],
        expenses=[replace(e, amount=quantize(e.amount, currency)) for e in data.expenses],
    )


def _contract_problems(data: ContractInput, entity: Entity) -> list[Problem]:
    """Every rule a contract's content must meet, whatever its state.

    Rates and amounts are those in force on the work's first day.
    """
    on = data.first_day
    problems: list[Problem] = []
    if data.last_day < data.first_day:
        problems.append(Problem(_("The last day cannot be before the first day."), "last_day"))
    ceiling = entity.amount(Amount.Kind.CONTRACT_PRICE_CEILING, on)
    if data.price <= ZERO:
        problems.append(Problem(_("The price must be more than zero."), "price"))
    elif data.price > ceiling:
        problems.append(
            Problem(
                _(
                    "The price is above the ceiling of %(ceiling)s %(currency)s for one contract;"
                    " split the work or ask your advisor."
                )
                % {"ceiling": ceiling, "currency": entity.currency},
                "price",
            )
        )
    if data.client.status == Client.Status.BLOCKED:
        problems.append(
            Problem(
                _("%(client)s is blocked after a payment default: no new contract.")
                % {"client": data.client.name},
                "client",
                "client_blocked",
            )
        )
    days = [work_day.day for work_day in data.work_days]
    if len(days) != len(set(days)):
        problems.append(Problem(_("A work day is listed twice."), "work_days"))
    for work_day in data.work_days:
        if not data.first_day <= work_day.day <= data.last_day:
            problems.append(
                Problem(
                    _("%(day)s is outside the contract's first and last day.")
                    % {"day": work_day.day},
                    "work_days",
                )
            )
        if not ZERO < work_day.hours <= 24:
            problems.append(
                Problem(_("Hours per day must be more than 0 and at most 24."), "work_days")
            )
    for expense in data.expenses:
        if expense.amount <= ZERO:
            problems.append(Problem(_("An expense must be more than zero."), "expenses"))
    if data.vat_rate is not None and vat_treatment_for(entity=entity, client=data.client) == (
        VatTreatment.DOMESTIC
    ):
        allowed = [
            *entity.rates_in_force(Rate.Kind.VAT_STANDARD, on),
            *entity.rates_in_force(Rate.Kind.VAT_REDUCED, on),
            *entity.rates_in_force(Rate.Kind.VAT_SUPER_REDUCED, on),
        ]
        if data.vat_rate not in allowed:
            problems.append(Problem(_("Choose one of the entity's VAT rates."), "vat_rate"))
    return problems


def contract_estimate(
    *,
    entity: Entity,
    price: Decimal,
    expenses: Decimal,
    on: datetime.date,
    member: Member | None = None,
) -> SalaryEstimate:
    """The salary ``member`` (their payroll category; standard without one) would earn."""
    category = payroll_category(member) if member is not None else Category.STANDARD
    return salary_estimate(
        entity=entity, invoiced=price, expenses=expenses, on=on, category=category
    )


def _submission_problems(
    contract: Contract, entity: Entity, *, late_allowed: bool, approving: bool = False
) -> list[Problem]:
    """Rules checked when a contract goes to review (and again when it is approved)."""
    problems: list[Problem] = []
    today = entity_today(entity)
    if approving and contract.member.state == Member.State.APPLICANT:
        problems.append(
            Problem(
                _("The member file is not active yet: activate it before approving a contract."),
                "member",
                "member_not_active",
            )
        )
    if contract.member.state in {Member.State.SUSPENDED, Member.State.LEFT}:
        problems.append(
            Problem(
                _("Your member file is %(state)s: you cannot submit.")
                % {"state": contract.member.get_state_display()},
                "member",
                "member_suspended",
            )
        )
    if contract.first_day < today and not late_allowed:
        problems.append(
            Problem(
                _(
                    "The work has already started: a contract is declared before the work. "
                    "Ask your advisor."
                ),
                "first_day",
                "late_declaration",
            )
        )
    work_days = list(contract.work_days.all())
    if not work_days:
        problems.append(Problem(_("List the days you will work, with their hours."), "work_days"))
    if contract.client.status == Client.Status.BLOCKED:
        problems.append(
            Problem(
                _("%(client)s is blocked: no new contract.") % {"client": contract.client.name},
                "client",
                "client_blocked",
            )
        )
    hours = sum((day.hours for day in work_days), ZERO)
    if hours:
        expenses = sum((expense.amount for expense in contract.expenses.all()), ZERO)
        estimate = salary_estimate(
            entity=entity,
            invoiced=contract.price,
            expenses=expenses,
            on=contract.first_day,
            category=payroll_category(contract.member),
        )
        if estimate.budget <= ZERO:
            problems.append(
                Problem(_("The expenses leave nothing for the salary after the fee."), "expenses")
            )
        minimum = entity.amount(Amount.Kind.MINIMUM_HOURLY_GROSS, contract.first_day)
        hourly = quantize(estimate.gross / hours, entity.currency)
        # Compare totals, not the rounded hourly figure: rounding must not let pay under the
        # minimum through.
        if estimate.gross < minimum * hours:
            problems.append(
                Problem(
                    _(
                        "This price pays %(hourly)s %(currency)s gross per hour, below the "
                        "minimum of %(minimum)s %(currency)s: raise the price or reduce the hours."
                    )
                    % {"hourly": hourly, "minimum": minimum, "currency": entity.currency},
                    "price",
                    "below_minimum_pay",
                )
            )
    return problems


def _snapshot(contract: Contract) -> dict[str, Any]:
    return {
        "client": contract.client.name,
        "title": contract.title,
        "description": contract.description,
        "place": contract.place,
        "first_day": str(contract.first_day),
        "last_day": str(contract.last_day),
        "price": str(contract.price),
        "vat_treatment": contract.vat_treatment,
        "vat_rate": f"{Decimal(contract.vat_rate):.4f}",
        "state": contract.state,
        "work_days": [f"{d.day} {d.hours}h" for d in contract.work_days.all()],
        "expenses": [f"{e.kind} {e.amount}" for e in contract.expenses.order_by("pk")],
        "attachments": [a.file.name for a in contract.attachments.order_by("pk")],
    }


def _event(
    contract: Contract, *, actor: User, action: str, before: dict[str, Any] | None, note: str = ""
) -> ContractEvent:
    after = _snapshot(contract)
    before = before or {}
    changes = {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }
    return ContractEvent.objects.create(
        contract=contract, actor=actor, action=action, changes=changes, note=note
    )


def _move(contract: Contract, to_state: str) -> None:
    if to_state not in Contract.TRANSITIONS[contract.state]:
        raise DomainError(
            _("A %(state)s contract cannot become %(to_state)s.")
            % {"state": contract.get_state_display(), "to_state": to_state},
            field="state",
            code="illegal_transition",
        )
    contract.state = to_state


def _lock(contract: Contract, actor: User, *, review: bool = False) -> Contract:
    """The contract, locked for this transaction, once ``actor`` is known to be allowed.

    Its member acts on their own contracts; reviewers (advisors) on any of the entity's; a
    partner platform on the contracts it opened. Others are told it does not exist.
    """
    # Lock the contract row only (of=self): the partner is an outer join.
    locked = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("member", "client", "partner")
        .get(pk=contract.pk)
    )
    is_partner = locked.partner is not None and locked.partner.api_user_id == actor.pk
    is_reviewer = actor.has_perm("members.review_contract")
    allowed = (
        is_reviewer or is_partner
        if review
        else (locked.member.user_id == actor.pk or is_reviewer or is_partner)
    )
    if not allowed:
        raise DomainError(_("No such contract."), field="contract", code="not_found")
    return locked


@transaction.atomic
def contract_save_draft(
    *, member: Member, data: ContractInput, actor: User, contract: Contract | None = None
) -> Contract:
    """Create a draft contract or update one the member may still edit.

    Effects: checks the content rules; sets the VAT treatment from the client and the entity;
    replaces the work days and expenses (keeping the receipts of expenses kept); records the
    change in the history.
    """
    entity = current_entity()
    if contract is not None and contract.member_id != member.pk:
        raise DomainError(_("No such contract."), field="contract", code="not_found")
    data = _normalized(data, entity.currency)
    problems = _contract_problems(data, entity)
    if problems:
        raise DomainError.many(problems)
    treatment = vat_treatment_for(entity=entity, client=data.client)
    if treatment == VatTreatment.DOMESTIC:
        vat_rate = (
            data.vat_rate
            if data.vat_rate is not None
            else entity.rate(Rate.Kind.VAT_STANDARD, data.first_day)
        )
    else:
        vat_rate = ZERO
    values = {
        "client": data.client,
        "title": data.title,
        "description": data.description,
        "place": data.place,
        "first_day": data.first_day,
        "last_day": data.last_day,
        "price": quantize(data.price, entity.currency),
        "currency": entity.currency,
        "vat_treatment": treatment,
        "vat_rate": vat_rate,
    }
    if contract is None:
        contract = Contract.objects.create(member=member, **values)
        before = None
        action = "created"
    else:
        contract = _lock(contract, actor)
        if not contract.is_editable:
            raise DomainError(
                _("A %(state)s contract cannot be edited.")
                % {"state": contract.get_state_display()},
                field="state",
            )
        before = _snapshot(contract)
        for name, value in values.items():
            setattr(contract, name, value)
        contract.save()
        action = "edited"
    contract.work_days.all().delete()
    WorkDay.objects.bulk_create(
        WorkDay(contract=contract, day=work_day.day, hours=work_day.hours)
        for work_day in data.work_days
    )
    kept = {expense.id for expense in data.expenses if expense.id}
    contract.expenses.exclude(pk__in=kept).delete()
    for expense in data.expenses:
        row = contract.expenses.filter(pk=expense.id).first() if expense.id else None
        row = row or Expense(contract=contract)
        row.kind = expense.kind
        row.amount = quantize(expense.amount, entity.currency)
        row.description = expense.description
        if expense.receipt is not None:
            row.receipt = expense.receipt
        row.save()
    _event(contract, actor=actor, action=action, before=before)
    return contract


@transaction.atomic
def contract_attachment_add(
    *, contract: Contract, actor: User, kind: str, file: File
) -> Attachment:
    contract = _lock(contract, actor)
    if not contract.is_editable:
        raise DomainError(_("Attachments are added while the contract is a draft."), field="file")
    before = _snapshot(contract)
    attachment = Attachment.objects.create(contract=contract, kind=kind, file=file)
    _event(contract, actor=actor, action="attachment_added", before=before)
    return attachment


def _overlapping(contract: Contract) -> bool:
    days = list(contract.work_days.values_list("day", flat=True))
    return (
        WorkDay.objects.filter(
            day__in=days,
            contract__member=contract.member,
            contract__state__in=[Contract.State.SUBMITTED, Contract.State.APPROVED],
        )
        .exclude(contract=contract)
        .exists()
    )


@transaction.atomic
def contract_submit(*, contract: Contract, actor: User, late_reason: str = "") -> Contract:
    """Send a draft (or a contract sent back for changes) to the advisor's review.

    Effects: checks the submission rules (not after the work started — unless an advisor
    declares it late with a reason —, member not suspended, minimum hourly pay, client not
    blocked); flags an overlap with the member's other contracts; records the submission.
    """
    entity = current_entity()
    contract = _lock(contract, actor)
    if contract.state == Contract.State.SUBMITTED:
        return contract
    before = _snapshot(contract)
    _move(contract, Contract.State.SUBMITTED)
    late_allowed = bool(late_reason.strip()) and actor.has_perm("members.review_contract")
    problems = _submission_problems(contract, entity, late_allowed=late_allowed)
    if problems:
        raise DomainError.many(problems)
    if late_allowed:
        contract.late_reason = late_reason
        contract.save(update_fields=["late_reason"])
    contract.overlaps = _overlapping(contract)
    contract.submitted_at = timezone.now()
    contract.save(update_fields=["state", "overlaps", "submitted_at", "updated_at"])
    note = "Overlaps another contract of the member." if contract.overlaps else ""
    _event(contract, actor=actor, action="submitted", before=before, note=note)
    return contract


@transaction.atomic
def contract_withdraw(*, contract: Contract, actor: User) -> Contract:
    """Take a submitted contract back before the review: it is a draft again."""
    contract = _lock(contract, actor)
    if contract.state == Contract.State.DRAFT:
        return contract
    before = _snapshot(contract)
    _move(contract, Contract.State.DRAFT)
    contract.submitted_at = None
    contract.save(update_fields=["state", "submitted_at", "updated_at"])
    _event(contract, actor=actor, action="withdrawn", before=before)
    return contract


@transaction.atomic
def contract_cancel(*, contract: Contract, actor: User, reason: str = "") -> Contract:
    """Cancel a draft, or an approved contract before its work starts."""
    entity = current_entity()
    contract = _lock(contract, actor)
    if contract.state == Contract.State.CANCELLED:
        return contract
    if contract.invoices.exists():
        raise DomainError(
            _("The client is already invoiced: credit the invoice instead."), field="state"
        )
    if contract.state == Contract.State.APPROVED and contract.first_day <= entity_today(entity):
        raise DomainError(
            _("The work has started: the contract can no longer be cancelled."), field="state"
        )
    before = _snapshot(contract)
    _move(contract, Contract.State.CANCELLED)
    contract.save(update_fields=["state", "updated_at"])
    # Declarations not sent yet are withdrawn; one already sent needs a cancellation filed
    # with the authority, which the operator sees on the declaration.
    unsent = contract.declarations.filter(state=EmploymentDeclaration.State.TO_SEND)
    unsent.update(state=EmploymentDeclaration.State.CANCELLED, updated_at=timezone.now())
    if contract.declarations.filter(
        state__in=[EmploymentDeclaration.State.SENT, EmploymentDeclaration.State.ACCEPTED]
    ).exists():
        reason = f"{reason} (a declaration already sent must be cancelled with the authority)"
    _event(contract, actor=actor, action="cancelled", before=before, note=reason.strip())
    return contract


def _notify(contract: Contract, event: str) -> None:
    from members.tasks import contract_review_notify_task

    transaction.on_commit(
        partial(contract_review_notify_task.delay, contract_id=contract.pk, event=event)
    )


@transaction.atomic
def contract_approve(
    *, contract: Contract, actor: User, note: str = "", late_reason: str = ""
) -> Contract:
    """Approve a submitted contract: the coop becomes the employer for its work days.

    Effects: re-checks the submission rules (a late declaration needs the advisor's reason);
    approves; creates the entity's declarations of employment, one per run of consecutive work
    days, in the state "to send"; records it; tells the member by email on commit.
    """
    entity = current_entity()
    contract = _lock(contract, actor, review=True)
    if contract.state == Contract.State.APPROVED:
        return contract
    before = _snapshot(contract)
    _move(contract, Contract.State.APPROVED)
    problems = _submission_problems(
        contract, entity, late_allowed=bool(late_reason.strip()), approving=True
    )
    if problems:
        raise DomainError.many(problems)
    contract.reviewed_by = actor
    contract.reviewed_at = timezone.now()
    contract.review_note = note
    contract.late_reason = late_reason
    contract.save(
        update_fields=[
            "state",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "late_reason",
            "updated_at",
        ]
    )
    declarations.declarations_create(contract=contract, entity=entity)
    _event(contract, actor=actor, action="approved", before=before, note=note or late_reason)
    _notify(contract, "approved")
    return contract


@transaction.atomic
def contract_reject(*, contract: Contract, actor: User, reason: str) -> Contract:
    """Refuse a submitted contract, with the reason the member will read."""
    if not reason.strip():
        raise DomainError(_("Give the member the reason of the refusal."), field="reason")
    contract = _lock(contract, actor, review=True)
    if contract.state == Contract.State.REJECTED:
        return contract
    before = _snapshot(contract)
    _move(contract, Contract.State.REJECTED)
    contract.reviewed_by, contract.reviewed_at, contract.review_note = actor, timezone.now(), reason
    contract.save(
        update_fields=["state", "reviewed_by", "reviewed_at", "review_note", "updated_at"]
    )
    _event(contract, actor=actor, action="rejected", before=before, note=reason)
    _notify(contract, "rejected")
    return contract


@transaction.atomic
def contract_request_changes(*, contract: Contract, actor: User, note: str) -> Contract:
    """Send a submitted contract back to the member with what to change."""
    if not note.strip():
        raise DomainError(_("Tell the member what to change."), field="note")
    contract = _lock(contract, actor, review=True)
    if contract.state == Contract.State.CHANGES_REQUESTED:
        return contract
    before = _snapshot(contract)
    _move(contract, Contract.State.CHANGES_REQUESTED)
    contract.reviewed_by, contract.reviewed_at, contract.review_note = actor, timezone.now(), note
    contract.save(
        update_fields=["state", "reviewed_by", "reviewed_at", "review_note", "updated_at"]
    )
    _event(contract, actor=actor, action="changes_requested", before=before, note=note)
    _notify(contract, "changes_requested")
    return contract


@transaction.atomic
def declaration_state_set(
    *,
    declaration: EmploymentDeclaration,
    to_state: str,
    actor: User,
    reference: str = "",
    error: str = "",
) -> EmploymentDeclaration:
    """Record what the authority answered (or that it was sent): never assumed."""
    declaration = EmploymentDeclaration.objects.select_for_update().get(pk=declaration.pk)
    if declaration.state == to_state:
        return declaration
    if to_state not in EmploymentDeclaration.TRANSITIONS[declaration.state]:
        raise DomainError(
            _("A declaration %(state)s cannot become %(to_state)s.")
            % {"state": declaration.get_state_display(), "to_state": to_state},
            field="state",
            code="illegal_transition",
        )
    if to_state == EmploymentDeclaration.State.ACCEPTED and not reference.strip():
        raise DomainError(
            _("An accepted declaration has the authority's reference."), field="reference"
        )
    if to_state == EmploymentDeclaration.State.ERROR and not error.strip():
        raise DomainError(_("Describe the error the authority returned."), field="error_message")
    from_state = declaration.state
    declaration.state = to_state
    declaration.reference = reference or declaration.reference
    declaration.error_message = error
    declaration.save(update_fields=["state", "reference", "error_message", "updated_at"])
    ContractEvent.objects.create(
        contract=declaration.contract,
        actor=actor,
        action=f"declaration_{to_state}",
        changes={"state": [from_state, to_state]},
        note=reference or error,
    )
    return declaration


# --- partner platforms ---------------------------------------------------------------------


@dataclass
class ShiftInput:
    shift_id: str
    member_email: str
    day: datetime.date
    hours: Decimal
    price: Decimal
    title: str
    place: str


def _shift_same_or_refuse(existing: Contract, data: ShiftInput) -> None:
    """A shift id names one shift: the same call again is fine, other content is a conflict."""
    days = [(day.day, day.hours) for day in existing.work_days.all()]
    if (
        existing.member.user.email.lower() != data.member_email.strip().lower()
        or days != [(data.day, data.hours.quantize(HOURS_UNIT, rounding=ROUND_HALF_UP))]
        or existing.price != quantize(data.price, existing.currency)
    ):
        raise DomainError(
            _("Shift %(shift)s was already opened with other details.") % {"shift": data.shift_id},
            field="shift_id",
            code="shift_conflict",
        )


@transaction.atomic
def partner_shift_open(*, partner: Partner, data: ShiftInput) -> tuple[Contract, bool]:
    """A partner platform opens a shift for one of its workers: an approved contract, or a refusal.

    The partner's shift id makes the call idempotent: the same shift returns the same contract.
    Effects: checks the agreement (minimum shift length, minimum net pay per hour) and the
    contract rules; creates the contract, submits and approves it in the partner's name.
    """
    if not partner.is_active:
        raise DomainError(
            _("The agreement with %(partner)s is not active.") % {"partner": partner.name},
            field="partner",
            code="inactive",
        )
    existing = (
        Contract.objects.filter(partner=partner, partner_shift_id=data.shift_id)
        .select_related("member__user")
        .prefetch_related("work_days")
        .first()
    )
    if existing is not None:
        _shift_same_or_refuse(existing, data)
        return existing, False
    entity = current_entity()
    member = (
        Member.objects.select_related("user").filter(user__email__iexact=data.member_email).first()
    )
    if member is None:
        raise DomainError(_("No member of this entity has this email."), field="member_email")
    problems: list[Problem] = []
    if data.hours < partner.min_shift_hours:
        problems.append(
            Problem(
                _("A shift lasts at least %(hours)s hours under the agreement with %(partner)s.")
                % {"hours": partner.min_shift_hours, "partner": partner.name},
                "hours",
                "shift_too_short",
            )
        )
    estimate = salary_estimate(
        entity=entity,
        invoiced=data.price,
        expenses=ZERO,
        on=data.day,
        category=payroll_category(member),
    )
    if data.hours > 0 and estimate.net / data.hours < partner.min_hourly_net:
        problems.append(
            Problem(
                _(
                    "The shift pays %(hourly)s %(currency)s net per hour, "
                    "below the agreed %(minimum)s."
                )
                % {
                    "hourly": quantize(estimate.net / data.hours, entity.currency),
                    "currency": entity.currency,
                    "minimum": partner.min_hourly_net,
                },
                "price",
                "below_partner_minimum",
            )
        )
    if problems:
        raise DomainError.many(problems)
    contract_input = ContractInput(
        client=partner.client,
        title=data.title,
        place=data.place,
        first_day=data.day,
        last_day=data.day,
        price=data.price,
        work_days=[WorkDayInput(day=data.day, hours=data.hours)],
    )
    try:
        with transaction.atomic():
            contract = contract_save_draft(
                member=member, data=contract_input, actor=partner.api_user
            )
            Contract.objects.filter(pk=contract.pk).update(
                source=Contract.Source.PARTNER, partner=partner, partner_shift_id=data.shift_id
            )
    except IntegrityError:
        # The same shift was opened concurrently: return the one that won.
        return Contract.objects.get(partner=partner, partner_shift_id=data.shift_id), False
    contract_submit(contract=contract, actor=partner.api_user)
    contract = contract_approve(
        contract=contract, actor=partner.api_user, note=f"Partner shift {data.shift_id}"
    )
    return contract, True


@transaction.atomic
def partner_token_issue(*, partner: Partner, actor: User) -> str:
    """A new API token for the partner's platform; the old one stops working at once."""
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=partner.api_user).delete()
    return str(Token.objects.create(user=partner.api_user).key)
