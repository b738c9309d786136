"""Salary runs: open, calculate, approve (booked), mark paid (booked), mark exported.

Two employment forms meet in a run:

* fixed-term: a salary is due once the contract's work is done; a run for a month gathers
  every issued invoice whose contract's last work day falls in that month or earlier and that
  has no payslip yet, and converts it (``payroll.conversion.salary_from_invoice``) with the
  parameters in force on the last work day;
* permanent contract with salary smoothing: the member's invoices fill their activity budget
  account when issued; each month's run pays the agreed monthly gross from it
  (``salary_from_gross``) and reimburses the expenses of the invoices whose work ended.

A payslip is computed once and never recomputed or edited (the database refuses it): a
recalculation only adds the salaries still missing, and a correction is a new payslip in a
later run (``payslip_correct``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from guarantee_fund.models import Payout
from invoicing.models import Invoice
from members.models import Member
from members.services import entity_today
from payroll.conversion import Salary, salary_from_gross, salary_from_invoice
from payroll.models import (
    PayrollParameters,
    Payslip,
    PayslipLine,
    PermanentContract,
    ReimbursedInvoice,
    SalaryRun,
)
from payroll.parameters import SECTOR_CATEGORIES, parameters_in_force
from payroll.sepa import Transfer, pain001_render
from smart_coop.accounts.models import User
from smart_coop.db import copy_rows, ids_reserve
from smart_coop.errors import DomainError
from smart_coop.ledger.services import (
    Leg,
    account_get,
    accounts_get,
    budget_accounts_get,
    transaction_post,
)
from smart_coop.money import quantize
from smart_coop.tenancy.current import current_entity
from smart_coop.tenancy.models import Entity

ZERO = Decimal(0)
# Invoices whose salary is not (or no longer) due: not issued, or cancelled by a credit note.
_NOT_DUE = (Invoice.State.DRAFT, Invoice.State.CREDITED, Invoice.State.WRITTEN_OFF)


# A run can take payslips (and their lines) only while it is in one of these states.
OPEN_STATES = (SalaryRun.State.DRAFT, SalaryRun.State.CALCULATED)


def next_month(period: datetime.date) -> datetime.date:
    """The first day of the month after ``period``'s."""
    return (period.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def permanent_contracts_in(period: datetime.date) -> QuerySet[PermanentContract]:
    """The permanent contracts that cover the month of ``period``."""
    month = period.replace(day=1)
    return PermanentContract.objects.filter(first_month__lte=month).filter(
        Q(last_month__isnull=True) | Q(last_month__gte=month)
    )


def _transition(run: SalaryRun, to_state: str) -> None:
    if to_state not in SalaryRun.TRANSITIONS[run.state]:
        raise DomainError(
            _("A salary run cannot go from %(from)s to %(to)s.")
            % {"from": run.state, "to": to_state},
            field="state",
            code="illegal_transition",
        )


def _locked(run: SalaryRun) -> SalaryRun:
    return SalaryRun.objects.select_for_update().get(pk=run.pk)


@transaction.atomic
def salary_run_open(*, period: datetime.date, actor: User | None) -> SalaryRun:
    """The run of the month of ``period`` (any day of it), created as a draft if there is none.

    Idempotent: a second call returns the first run, whatever its state.
    """
    run, _created = SalaryRun.objects.get_or_create(
        period=period.replace(day=1), defaults={"created_by": actor}
    )
    return run


@dataclass(frozen=True)
class _Due:
    invoice_id: int
    member_id: int
    invoiced: Decimal
    last_day: datetime.date
    expenses: Decimal
    category: str


def _expenses_total() -> Coalesce:
    return Coalesce(
        Sum("contract__expenses__amount"),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def _credited_net() -> Coalesce:
    """What issued credit notes took off the invoice, excl. VAT: a salary is paid on what
    stays invoiced (a credit note after the salary is computed calls for a correction)."""
    credited = (
        Invoice.objects.filter(
            credited_invoice=OuterRef("pk"), kind=Invoice.Kind.CREDIT_NOTE, number__isnull=False
        )
        .values("credited_invoice")
        .annotate(total=Sum("net_total"))
        .values("total")
    )
    return Coalesce(
        Subquery(credited),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def _under_permanent_contract() -> Exists:
    """The invoice's member had a permanent contract in the month of its last work day."""
    return Exists(
        PermanentContract.objects.filter(
            member=OuterRef("member_id"), first_month__lte=OuterRef("contract__last_day")
        ).filter(Q(last_month__isnull=True) | Q(last_month__gte=OuterRef("last_day_month")))
    )


def _issued_invoices_until(
    end: datetime.date, not_due: Sequence[str] = _NOT_DUE
) -> QuerySet[Invoice]:
    """Issued invoices (not cancelled) of contracts whose work ended before ``end``."""
    return (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE, contract__isnull=False, contract__last_day__lt=end
        )
        .exclude(state__in=not_due)
        .annotate(last_day_month=TruncMonth("contract__last_day"))
    )


def _left_to_the_fund() -> Q:
    """Invoices the guarantee fund pays (a payout scheduled or awaiting an advisor), and those
    it does not guarantee while the client has not paid them: the run leaves them out."""
    payouts = Payout.objects.filter(invoice=OuterRef("pk"))
    return Q(
        Exists(payouts.filter(state__in=(Payout.State.SCHEDULED, Payout.State.AWAITING_APPROVAL)))
    ) | (
        Q(Exists(payouts.filter(state=Payout.State.NOT_GUARANTEED))) & ~Q(state=Invoice.State.PAID)
    )


def _due(run: SalaryRun, invoice_ids: Sequence[int] | None = None) -> list[_Due]:
    if invoice_ids is None:
        invoices = _issued_invoices_until(next_month(run.period)).exclude(_left_to_the_fund())
    else:
        # The fund's payout: guaranteed even when the client's debt was written off meanwhile.
        invoices = _issued_invoices_until(
            next_month(run.period), not_due=(Invoice.State.DRAFT, Invoice.State.CREDITED)
        ).filter(pk__in=invoice_ids)
    rows = (
        invoices.exclude(Exists(Payslip.objects.filter(invoice=OuterRef("pk"))))
        .exclude(_under_permanent_contract())
        .annotate(expenses_total=_expenses_total(), invoiced=F("net_total") - _credited_net())
        .values_list(
            "pk", "member_id", "invoiced", "contract__last_day", "expenses_total", "member__sector"
        )
        .order_by("pk")
    )
    return [
        _Due(pk, member_id, invoiced, last_day, expenses, SECTOR_CATEGORIES.get(sector, "standard"))
        for pk, member_id, invoiced, last_day, expenses, sector in rows
    ]


Line = tuple[str, Decimal | None, Decimal | None, Decimal]


def _lines(salary: Salary, params: PayrollParameters) -> list[Line]:
    """(code, base, rate, amount) for every step of the conversion, in its order."""
    code = PayslipLine.Code
    invoiced: list[Line] = [
        (code.INVOICED, None, None, salary.invoiced),
        (code.FEE, salary.invoiced, params.fee_percent, salary.fee),
        (code.GUARANTEE, salary.invoiced, params.guarantee_percent, salary.guarantee_contribution),
    ]
    return [
        *(invoiced if salary.invoiced else []),
        (code.EXPENSES, None, None, salary.expenses),
        (code.BUDGET, None, None, salary.budget),
        (code.GROSS, None, None, salary.gross),
        (
            code.EMPLOYER,
            salary.contribution_base,
            params.employer_percent,
            salary.employer_contributions,
        ),
        (
            code.EMPLOYEE,
            salary.contribution_base,
            params.employee_percent,
            salary.employee_contributions,
        ),
        (code.TAXABLE, None, None, salary.taxable),
        (code.WITHHOLDING, salary.taxable, params.withholding_percent, salary.withholding),
        (code.NET, None, None, salary.net),
        (code.REMAINDER, None, None, salary.budget_remainder),
    ]


@dataclass(frozen=True)
class _NewPayslip:
    member_id: int
    kind: str
    salary: Salary
    parameters: PayrollParameters
    invoice_id: int | None = None
    permanent_contract_id: int | None = None
    corrects_id: int | None = None
    reason: str = ""
    # Monthly payslips: (invoice id, expenses) of the invoices whose expenses they reimburse.
    reimbursed: tuple[tuple[int, Decimal], ...] = ()
    paid_out: bool = False


_PAYSLIP_COLUMNS = (
    "id",
    "run_id",
    "member_id",
    "kind",
    "invoice_id",
    "permanent_contract_id",
    "corrects_id",
    "reason",
    "parameters_id",
    "budget",
    "gross",
    "employer_contributions",
    "employee_contributions",
    "taxable",
    "withholding",
    "net",
    "expenses",
    "budget_remainder",
    "currency",
    "is_estimate",
    "paid_out",
    "created_at",
)
_LINE_COLUMNS = ("payslip_id", "position", "code", "label", "base", "rate", "amount")


def _payslips_write(run: SalaryRun, new: Sequence[_NewPayslip]) -> list[int]:
    """Store the payslips, their lines and the invoices they take up; return their ids."""
    if not new:
        return []
    ids = ids_reserve(Payslip._meta.db_table, len(new))
    now = timezone.now()
    copy_rows(
        Payslip._meta.db_table,
        _PAYSLIP_COLUMNS,
        (
            (
                pk,
                run.pk,
                slip.member_id,
                slip.kind,
                slip.invoice_id,
                slip.permanent_contract_id,
                slip.corrects_id,
                slip.reason,
                slip.parameters.pk,
                slip.salary.budget,
                slip.salary.gross,
                slip.salary.employer_contributions,
                slip.salary.employee_contributions,
                slip.salary.taxable,
                slip.salary.withholding,
                slip.salary.net,
                slip.salary.expenses,
                slip.salary.budget_remainder,
                slip.salary.currency,
                slip.salary.is_estimate,
                slip.paid_out,
                now,
            )
            for pk, slip in zip(ids, new, strict=True)
        ),
    )
    # Labels are stored in the entity's language at calculation; documents translate codes.
    labels = {code: str(label) for code, label in PayslipLine.Code.choices}
    copy_rows(
        PayslipLine._meta.db_table,
        _LINE_COLUMNS,
        (
            (pk, position, code, labels[code], base, rate, amount)
            for pk, slip in zip(ids, new, strict=True)
            for position, (code, base, rate, amount) in enumerate(
                _lines(slip.salary, slip.parameters), start=1
            )
        ),
    )
    ReimbursedInvoice.objects.bulk_create(
        ReimbursedInvoice(payslip_id=pk, invoice_id=invoice_id, expenses=expenses)
        for pk, slip in zip(ids, new, strict=True)
        for invoice_id, expenses in slip.reimbursed
    )
    return ids


class _Parameters:
    """The parameters in force per (category, day), read once per run."""

    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        self._found: dict[tuple[str, datetime.date], PayrollParameters] = {}

    def on(self, category: str, day: datetime.date) -> PayrollParameters:
        key = (category, day)
        if key not in self._found:
            self._found[key] = parameters_in_force(entity=self.entity, category=category, on=day)
        return self._found[key]


def _fixed_term(
    run: SalaryRun,
    parameters: _Parameters,
    due_rows: list[_Due] | None = None,
    *,
    paid_out: bool = False,
) -> list[_NewPayslip]:
    new = []
    # The same amount, expenses and parameters give the same salary: computed once a run.
    salaries: dict[tuple[int, Decimal, Decimal], Salary] = {}
    for due in _due(run) if due_rows is None else due_rows:
        params = parameters.on(due.category, due.last_day)
        key = (params.pk, due.invoiced, due.expenses)
        salary = salaries.get(key)
        if salary is None:
            salary = salaries[key] = salary_from_invoice(
                entity=parameters.entity,
                invoiced=due.invoiced,
                expenses=due.expenses,
                on=due.last_day,
                parameters=params,
            )
        new.append(
            _NewPayslip(
                due.member_id,
                Payslip.Kind.FIXED_TERM,
                salary,
                params,
                invoice_id=due.invoice_id,
                paid_out=paid_out,
            )
        )
    return new


def _ended_with_expenses_left(run: SalaryRun) -> list[PermanentContract]:
    """The latest ended contract of each member not covered in the run's month whose invoices
    of a permanent contract's month were issued after its last payslip (their expenses are
    still due), unless it has a payslip in this run already."""
    members = (
        _issued_invoices_until(next_month(run.period))
        .filter(_under_permanent_contract())
        .exclude(Exists(ReimbursedInvoice.objects.filter(invoice=OuterRef("pk"))))
        .exclude(member_id__in=permanent_contracts_in(run.period).values("member_id"))
        .values("member_id")
    )
    ended = PermanentContract.objects.filter(
        member_id__in=members, last_month__lt=run.period
    ).order_by("member_id", "-last_month")
    latest = list(ended.distinct("member_id"))
    holding = set(
        Payslip.objects.filter(
            run=run, kind=Payslip.Kind.MONTHLY, permanent_contract__in=latest
        ).values_list("permanent_contract_id", flat=True)
    )
    return [contract for contract in latest if contract.pk not in holding]


def _monthly(run: SalaryRun, parameters: _Parameters) -> list[_NewPayslip]:
    """One payslip per permanent contract covering the month that has none in this run; and,
    for a member whose contract ended before the month, one without salary reimbursing the
    expenses of the invoices of its months issued since its last payslip."""
    month_end = next_month(run.period) - datetime.timedelta(days=1)
    contracts = list(
        permanent_contracts_in(run.period).exclude(
            Exists(Payslip.objects.filter(permanent_contract=OuterRef("pk"), run=run))
        )
    )
    contracts += _ended_with_expenses_left(run)
    if not contracts:
        return []
    # Invoices of their months not taken up yet: their expenses are reimbursed now.
    taken_up = (
        _issued_invoices_until(next_month(run.period))
        .filter(member_id__in=[contract.member_id for contract in contracts])
        .filter(_under_permanent_contract())
        .exclude(Exists(ReimbursedInvoice.objects.filter(invoice=OuterRef("pk"))))
        .annotate(expenses_total=_expenses_total())
        .values_list("member_id", "pk", "expenses_total")
        .order_by("pk")
    )
    per_member: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for member_id, invoice_id, expenses in taken_up:
        per_member[member_id].append((invoice_id, expenses))
    new = []
    for contract in contracts:
        params = parameters.on(contract.category, month_end)
        reimbursed = tuple(per_member[contract.member_id])
        # A contract that ended before the month pays no salary, only the expenses left.
        covers = contract.last_month is None or contract.last_month >= run.period
        salary = salary_from_gross(
            currency=contract.currency,
            gross=contract.monthly_gross if covers else ZERO,
            expenses=sum((expenses for _pk, expenses in reimbursed), ZERO),
            parameters=params,
        )
        new.append(
            _NewPayslip(
                contract.member_id,
                Payslip.Kind.MONTHLY,
                salary,
                params,
                permanent_contract_id=contract.pk,
                reimbursed=reimbursed,
            )
        )
    return new


@transaction.atomic
def salary_run_calculate(*, run: SalaryRun, actor: User | None) -> SalaryRun:
    """Compute the payslips due in the run's period that no run holds yet.

    ``actor`` None is the system (commands, the schedule); a user needs
    ``payroll.approve_salaryrun``. Effects, in order: checks the permission; locks the run
    (draft or calculated, else DomainError); converts each
    issued invoice due (contract's last work day in the period or earlier, no payslip, member
    not under a permanent contract then) with the parameters of the member's category in force
    on its last work day; adds one monthly payslip per permanent contract covering the month,
    with the expenses of the invoices it takes up; writes the payslips and their lines; marks
    the run calculated. Existing payslips are never touched; calling it again adds only what
    became due since (unique constraints guard against a concurrent run).
    """
    _may_approve(actor, _("You may not calculate salary runs."))
    run = _locked(run)
    _transition(run, SalaryRun.State.CALCULATED)
    parameters = _Parameters(current_entity())
    _payslips_write(run, [*_fixed_term(run, parameters), *_monthly(run, parameters)])
    run.state = SalaryRun.State.CALCULATED
    run.calculated_at = timezone.now()
    run.save(update_fields=["state", "calculated_at", "updated_at"])
    return run


@transaction.atomic
def payslips_for_invoices(
    *,
    invoice_ids: Sequence[int],
    on: datetime.date,
    paid_out: bool,
    actor: User | None,
    reload: bool = True,
) -> dict[int, Payslip]:
    """The fixed-term payslips of these invoices, computed now: the guarantee fund's payout.

    Effects, in order: opens the run of ``on``'s month (the first open one after it when that
    one is approved already) and locks it; locks the invoices; computes, like a run does, a payslip
    for each invoice that is due (issued, work ended by ``on``, member not under a permanent
    contract) and has none yet, marked ``paid_out`` when its booking and transfer are made by
    the caller instead of the run. Returns every one of these invoices' payslips (existing ones
    as they are): calling it again computes nothing twice. ``reload`` False: the payslips it
    computes are returned as it wrote them (their ``created_at`` read on access) instead of read
    back, and only the others are read: the same values, without reading back thousands of rows.
    """
    period = on.replace(day=1)
    run = salary_run_open(period=period, actor=actor)
    while run.state not in OPEN_STATES:
        run = salary_run_open(period=next_month(run.period), actor=actor)
    run = _locked(run)
    list(Invoice.objects.select_for_update().filter(pk__in=invoice_ids).values_list("pk"))
    due = [row for row in _due(run, invoice_ids) if row.last_day <= on]
    new = _fixed_term(run, _Parameters(current_entity()), due, paid_out=paid_out)
    ids = _payslips_write(run, new)
    if run.state == SalaryRun.State.DRAFT:
        run.state = SalaryRun.State.CALCULATED
        run.calculated_at = timezone.now()
        run.save(update_fields=["state", "calculated_at", "updated_at"])
    written = {} if reload else _payslips_as_written(run, ids, new)
    return {
        **{
            payslip.invoice_id: payslip
            for payslip in Payslip.objects.filter(
                invoice_id__in=[pk for pk in invoice_ids if pk not in written],
                kind=Payslip.Kind.FIXED_TERM,
            )
            if payslip.invoice_id is not None
        },
        **written,
    }


def _payslips_as_written(
    run: SalaryRun, ids: Sequence[int], new: Sequence[_NewPayslip]
) -> dict[int, Payslip]:
    """Invoice id -> the payslip ``_payslips_write`` stored for it, built from what it wrote
    (as the database holds it; ``created_at`` is deferred: read on access)."""
    names = [f.attname for f in Payslip._meta.concrete_fields if f.attname != "created_at"]
    written = {}
    for pk, slip in zip(ids, new, strict=True):
        if slip.invoice_id is None:
            continue
        row = {
            "id": pk,
            "run_id": run.pk,
            "member_id": slip.member_id,
            "kind": slip.kind,
            "invoice_id": slip.invoice_id,
            "permanent_contract_id": slip.permanent_contract_id,
            "corrects_id": slip.corrects_id,
            "reason": slip.reason,
            "paid_out": slip.paid_out,
            "parameters_id": slip.parameters.pk,
            "budget": slip.salary.budget,
            "gross": slip.salary.gross,
            "employer_contributions": slip.salary.employer_contributions,
            "employee_contributions": slip.salary.employee_contributions,
            "taxable": slip.salary.taxable,
            "withholding": slip.salary.withholding,
            "net": slip.salary.net,
            "expenses": slip.salary.expenses,
            "budget_remainder": slip.salary.budget_remainder,
            "currency": slip.salary.currency,
            "is_estimate": slip.salary.is_estimate,
        }
        written[slip.invoice_id] = Payslip.from_db(
            Payslip.objects.db, names, [row[name] for name in names]
        )
    return written


@transaction.atomic
def payslip_correct(
    *, payslip: Payslip, gross: Decimal, reason: str, actor: User | None
) -> Payslip:
    """Correct a payslip by a new one in the current open run: never an edit.

    ``gross`` is what the gross salary should change by (negative takes pay back). Effects, in
    order: checks the permission (``payroll.correct_payslip``) and the input; opens the first
    run that is still open from the current month on, and after the corrected payslip's; locks it
    and adds a correction payslip (contributions and tax on the difference, with the
    parameters the corrected payslip used) and its lines; the run must be calculated again
    before its approval is possible (it stays or becomes calculated).
    """
    if actor is not None and not actor.has_perm("payroll.correct_payslip"):
        raise DomainError(_("You may not correct payslips."), code="permission_denied")
    entity = current_entity()
    if not reason.strip():
        raise DomainError(_("Say why the payslip is corrected."), field="reason", code="required")
    if quantize(gross, entity.currency) == ZERO:
        raise DomainError(_("A correction changes the gross salary."), field="gross")
    period = max(entity_today(entity).replace(day=1), next_month(payslip.run.period))
    run = salary_run_open(period=period, actor=actor)
    while run.state not in OPEN_STATES:
        run = salary_run_open(period=next_month(run.period), actor=actor)
    run = _locked(run)
    salary = salary_from_gross(
        currency=payslip.currency, gross=gross, expenses=ZERO, parameters=payslip.parameters
    )
    (pk,) = _payslips_write(
        run,
        [
            _NewPayslip(
                payslip.member_id,
                Payslip.Kind.CORRECTION,
                salary,
                payslip.parameters,
                corrects_id=payslip.pk,
                reason=reason.strip(),
            )
        ],
    )
    if run.state == SalaryRun.State.DRAFT:
        run.state = SalaryRun.State.CALCULATED
        run.calculated_at = timezone.now()
        run.save(update_fields=["state", "calculated_at", "updated_at"])
    return Payslip.objects.get(pk=pk)


@dataclass(frozen=True)
class RunTotals:
    payslips: int
    budget: Decimal
    gross: Decimal
    employer: Decimal
    employee: Decimal
    withholding: Decimal
    net: Decimal
    expenses: Decimal
    remainder: Decimal

    @property
    def to_pay(self) -> Decimal:
        """What reaches the members' bank accounts: net salaries and expenses."""
        return self.net + self.expenses


def salary_run_totals(*, run: SalaryRun, paid_out: bool | None = None) -> RunTotals:
    """The sums of the run's payslips; ``paid_out`` False: only those the run itself books and
    pays, True: only those the guarantee fund paid out on their own."""
    zero = Value(ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))
    payslips = run.payslips.all()
    if paid_out is not None:
        payslips = payslips.filter(paid_out=paid_out)
    sums = payslips.aggregate(
        **{
            name: Coalesce(Sum(field), zero)
            for name, field in (
                ("gross", "gross"),
                ("employer", "employer_contributions"),
                ("employee", "employee_contributions"),
                ("withholding", "withholding"),
                ("net", "net"),
                ("expenses", "expenses"),
                ("remainder", "budget_remainder"),
            )
        }
    )
    return RunTotals(
        payslips=payslips.count(),
        # What leaves the members' activity budgets: the salary cost and the remainders.
        budget=sums["gross"] + sums["employer"] + sums["remainder"],
        **sums,
    )


def _legs(run: SalaryRun, entity: Entity) -> list[Leg]:
    currency = entity.currency
    per_member: dict[int, Decimal] = defaultdict(lambda: ZERO)
    rows = (
        run.payslips.filter(paid_out=False)
        .values("member_id")
        .annotate(
            cost=Sum(
                F("gross") + F("employer_contributions") + F("budget_remainder") + F("expenses")
            ),
            paid_out=Sum(F("net") + F("expenses")),
            social=Sum(F("employee_contributions") + F("employer_contributions")),
            withholding=Sum("withholding"),
            remainder=Sum("budget_remainder"),
        )
    )
    to_pay = social = withholding = remainder = ZERO
    for row in rows:
        per_member[row["member_id"]] += row["cost"]
        to_pay += row["paid_out"]
        social += row["social"]
        withholding += row["withholding"]
        remainder += row["remainder"]
    # User.get_full_name, read as values: 20,000 members at month end.
    names = {
        pk: f"{first} {last}".strip() or email or str(pk)
        for pk, first, last, email in Member.objects.filter(pk__in=per_member).values_list(
            "pk", "user__first_name", "user__last_name", "user__email"
        )
    }
    accounts = accounts_get(
        ["salaries_payable", "social_payable", "withholding_payable", "budget_remainders"],
        currency=currency,
    )
    budgets = budget_accounts_get(names, currency=currency)
    reference = f"salary_run:{run.pk}"
    return [
        *(Leg(budgets[member_id], amount, reference) for member_id, amount in per_member.items()),
        Leg(accounts["salaries_payable"], -to_pay, reference),
        Leg(accounts["social_payable"], -social, reference),
        Leg(accounts["withholding_payable"], -withholding, reference),
        Leg(accounts["budget_remainders"], -remainder, reference),
    ]


def _last_day(run: SalaryRun) -> datetime.date:
    return next_month(run.period) - datetime.timedelta(days=1)


def _may_approve(actor: User | None, message: str) -> None:
    if actor is not None and not actor.has_perm("payroll.approve_salaryrun"):
        raise DomainError(message, code="permission_denied")


@transaction.atomic
def salary_run_approve(*, run: SalaryRun, actor: User | None) -> SalaryRun:
    """Approve a calculated run and book it: one ledger transaction for the whole run.

    ``actor`` None is the system (the ``run_payroll`` command, run by an operator); a user
    needs ``payroll.approve_salaryrun``. Effects, in order: checks the permission; locks the
    run (calculated, else DomainError; already approved: returned as is); refuses it while a
    permanent contract covering the month has no payslip in it (agreed after the calculation:
    no later run pays that month); books, under the key ``salary_run:<id>:approve``, each
    member's activity budget debited by their payslips' gross
    + employer contributions + remainder + expenses, against salaries payable (net + expenses),
    social contributions payable (employee + employer), withholding tax payable and budget
    remainders (payslips the guarantee fund paid out on their own were booked then and are
    left out); marks the run approved by ``actor``. From then on the database refuses any
    change to its payslips.
    """
    _may_approve(actor, _("You may not approve salary runs."))
    run = _locked(run)
    if run.state == SalaryRun.State.APPROVED:
        return run
    if run.state != SalaryRun.State.CALCULATED:
        _transition(run, SalaryRun.State.APPROVED)
    if (
        permanent_contracts_in(run.period)
        .exclude(Exists(Payslip.objects.filter(permanent_contract=OuterRef("pk"), run=run)))
        .exists()
    ):
        raise DomainError(
            _("A permanent contract of %(period)s has no payslip yet: calculate the run again.")
            % {"period": f"{run.period:%Y-%m}"},
            field="state",
            code="not_calculated",
        )
    transaction_post(
        key=f"salary_run:{run.pk}:approve",
        kind="salary_run",
        description=f"Salary run {run.period:%Y-%m}",
        occurred_on=_last_day(run),
        legs=_legs(run, current_entity()),
        actor=actor,
    )
    run.state = SalaryRun.State.APPROVED
    run.approved_by = actor
    run.approved_at = timezone.now()
    run.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
    return run


@transaction.atomic
def salary_run_mark_paid(
    *, run: SalaryRun, actor: User | None, paid_on: datetime.date | None = None
) -> SalaryRun:
    """Record that the net salaries and expenses of an approved run left the bank.

    Effects, in order: checks the permission; locks the run (approved, else DomainError;
    already paid: returned as is); books, under ``salary_run:<id>:paid``, salaries payable
    against the bank for what the run's transfers pay (``salary_run_transfers``: net +
    expenses of each member owed something; what a member owes stays in salaries payable);
    marks it paid.
    """
    _may_approve(actor, _("You may not pay salary runs."))
    run = _locked(run)
    if run.state == SalaryRun.State.PAID:
        return run
    _transition(run, SalaryRun.State.PAID)
    entity = current_entity()
    to_pay = salary_run_transfer_total(run=run)
    reference = f"salary_run:{run.pk}"
    transaction_post(
        key=f"salary_run:{run.pk}:paid",
        kind="salary_payment",
        description=f"Salaries paid, run {run.period:%Y-%m}",
        occurred_on=paid_on or entity_today(entity),
        legs=[
            Leg(account_get("salaries_payable", currency=entity.currency), to_pay, reference),
            Leg(account_get("bank", currency=entity.currency), -to_pay, reference),
        ],
        actor=actor,
    )
    run.state = SalaryRun.State.PAID
    run.paid_at = timezone.now()
    run.save(update_fields=["state", "paid_at", "updated_at"])
    return run


@transaction.atomic
def salary_run_mark_exported(*, run: SalaryRun, actor: User | None) -> SalaryRun:
    """Record that a paid run was handed to the social secretariat and the accounting package.

    Effects: checks the permission (``payroll.export_salaryrun``); locks the run (paid, else
    DomainError; already exported: returned as is); marks it exported by ``actor``.
    """
    if actor is not None and not actor.has_perm("payroll.export_salaryrun"):
        raise DomainError(_("You may not export salary runs."), code="permission_denied")
    run = _locked(run)
    if run.state == SalaryRun.State.EXPORTED:
        return run
    _transition(run, SalaryRun.State.EXPORTED)
    run.state = SalaryRun.State.EXPORTED
    run.exported_at = timezone.now()
    run.exported_by = actor
    run.save(update_fields=["state", "exported_at", "exported_by", "updated_at"])
    return run


def _transfer_amounts(run: SalaryRun) -> list[tuple[int, Decimal]]:
    """Per member (member id, amount), what the run's own transfers pay them: the net
    salaries and expenses of their payslips not paid out by the fund, when more than zero."""
    return list(
        run.payslips.filter(paid_out=False)
        .values("member_id")
        .annotate(amount=Sum(F("net") + F("expenses")))
        .filter(amount__gt=0)
        .order_by("member_id")
        .values_list("member_id", "amount")
    )


def salary_run_transfer_total(*, run: SalaryRun) -> Decimal:
    """What the run's transfers pay in all (the SEPA file's total, the payment booked)."""
    return sum((amount for _member, amount in _transfer_amounts(run)), ZERO)


def salary_run_transfers(*, run: SalaryRun) -> list[Transfer]:
    """The SEPA transfers of an approved run: one per member, net salaries plus expenses.

    A member whose payslips in the run add up to nothing or less (a correction taking pay
    back) gets no transfer; what they owe stays in salaries payable (a debit), not paid.
    """
    if run.state not in (
        SalaryRun.State.APPROVED,
        SalaryRun.State.PAID,
        SalaryRun.State.EXPORTED,
    ):
        raise DomainError(_("Only an approved run can be paid."), field="state")
    rows = _transfer_amounts(run)
    members = Member.objects.in_bulk([member_id for member_id, _amount in rows])
    transfers = []
    for member_id, amount in rows:
        member = members[member_id]
        transfers.append(
            Transfer(
                name=member.user.get_full_name() or member.user.email,
                iban=member.iban,
                bic=member.bic,
                amount=amount,
                end_to_end_id=f"SALARY-{run.period:%Y%m}-{member.pk}",
                remittance=_("Salary %(period)s") % {"period": f"{run.period:%Y-%m}"},
            )
        )
    return transfers


def salary_run_sepa(*, run: SalaryRun, execution_date: datetime.date) -> bytes:
    """The pain.001.001.09 file paying the run's transfers from the entity's account.

    A file that cannot be made (an entity not in euro, a member's invalid IBAN, nothing to
    pay) is refused with a DomainError saying why.
    """
    entity = current_entity()
    try:
        return pain001_render(
            entity=entity,
            transfers=salary_run_transfers(run=run),
            execution_date=execution_date,
            message_id=f"SALARY-{entity.code.upper()}-{run.period:%Y%m}-{run.pk}",
        )
    except ValueError as error:
        raise DomainError(str(error), field="sepa", code="sepa_refused") from error
