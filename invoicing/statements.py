"""Bank statements: read a CAMT.053 file, record the money it shows, match it to invoices.

The reading is namespace-agnostic (``{*}`` paths), so camt.053.001.02 to .08 are read alike.
Only credits booked on the account are client payments; debits (fees, payouts, salaries) are
kept as ignored lines, booked by the parts of the platform that made them. Every credit in the
entity's currency becomes a payment, matched to an invoice or waiting in unallocated receipts
for an accountant (``statement_line_match``).

Twice is once: the same file is the same statement (its SHA-256), and the same entry in two
overlapping statements is one line (the bank's reference of the entry is unique).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Func, QuerySet, Value
from django.db.models.functions import Upper
from django.utils.translation import gettext as _
from lxml import etree

from invoicing import services
from invoicing.models import BankStatement, Invoice, Payment, StatementLine
from invoicing.references import reference_compact, reference_is_valid
from smart_coop.accounts.models import User
from smart_coop.errors import DomainError
from smart_coop.ledger.services import Leg, account_get, transaction_post
from smart_coop.tenancy.current import current_entity

ZERO = Decimal(0)
CAMT053_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}$")
MAX_FILE_BYTES = 20 * 1024 * 1024

# No DTD, no entities, no network: a statement is data, never instructions to the parser.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


# --- reading the file ------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedLine:
    bank_reference: str
    booking_date: datetime.date
    amount: Decimal
    currency: str
    is_credit: bool
    is_booked: bool
    is_reversal: bool
    counterparty_name: str
    counterparty_iban: str
    # Every reference found: structured (RmtInf/Strd) first, then those read in the free text.
    references: tuple[str, ...]
    remittance_text: str


@dataclass(frozen=True)
class ParsedStatement:
    statement_id: str
    account_iban: str
    lines: tuple[ParsedLine, ...]


def _path(path: str) -> str:
    # "Ntry/Amt" -> "{*}Ntry/{*}Amt": any namespace (or none), whatever the camt version.
    return "/".join(part if part in {".", ".."} else "{*}" + part for part in path.split("/"))


def _text(element: Any, path: str) -> str:
    found = element.find(_path(path))
    return " ".join((found.text or "").split()) if found is not None else ""


def _texts(element: Any, path: str) -> list[str]:
    return [
        " ".join((found.text or "").split())
        for found in element.iterfind(_path(path))
        if (found.text or "").strip()
    ]


def _first(element: Any, *paths: str) -> str:
    for path in paths:
        value = _text(element, path)
        if value:
            return value
    return ""


_OGM = re.compile(r"(?<![0-9])([0-9]{3})\s*/?\s*([0-9]{4})\s*/?\s*([0-9]{5})(?![0-9])")
_RF = re.compile(r"\bRF[0-9]{2}(?:\s?[0-9A-Z]+)*")


def references_in_text(text: str) -> list[str]:
    """The valid OGM/VCS and RF references written in a free text, in their order.

    Belgian banks copy the structured communication into the free text ("+++123/4567/89002+++",
    "123/4567/89002", "123456789002"); an RF reference may be printed in groups of four. A
    candidate is kept only if its check digits are right.
    """
    upper = text.upper()
    found: list[tuple[int, str]] = []
    for match in _OGM.finditer(upper):
        candidate = "".join(match.groups())
        if reference_is_valid(candidate):
            found.append((match.start(), f"+++{candidate[:3]}/{candidate[3:7]}/{candidate[7:]}+++"))
    for match in _RF.finditer(upper):
        for candidate in _rf_candidates(match.group().split()):
            found.append((match.start(), candidate))
    # By position; at one position the longest first (sorted is stable).
    return [reference for _position, reference in sorted(found, key=lambda item: item[0])]


def _rf_candidates(words: list[str]) -> list[str]:
    """The valid references a run of words may start with, longest first.

    Printed, an RF reference is groups of four ("RF18 5390 0754 7034", the last group may be
    shorter); else it is one word. A word that follows may still pass the mod 97 check by
    chance (1 in 97): every valid reading is kept, and matching tells which names an invoice.
    """
    if len(words[0]) > 4:
        groups = words[:1]
    elif len(words) > 1 and len(words[1]) > 4:
        groups = words[:2]  # "RF18 539007547034"
    else:
        groups = words[:1]
        for word in words[1:]:
            if len(word) > 4 or len(groups[-1]) < 4:
                break
            groups.append(word)
    candidates = ("".join(groups[:end]) for end in range(len(groups), 0, -1))
    return [ref for ref in candidates if 5 <= len(ref) <= 25 and reference_is_valid(ref)]


def _date(element: Any, path: str) -> datetime.date | None:
    value = _first(element, f"{path}/Dt", f"{path}/DtTm")
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _amount(element: Any, where: str) -> tuple[Decimal, str]:
    found = element.find(_path("Amt"))
    text = (found.text or "").strip() if found is not None else ""
    currency = (found.get("Ccy") or "").strip().upper() if found is not None else ""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < ZERO or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            _("%(where)s: the amount %(amount)r is not an amount.")
            % {"where": where, "amount": text},
            field="file",
        )
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise DomainError(_("%(where)s: the currency is missing.") % {"where": where}, field="file")
    return amount, currency


def _synthetic_reference(parts: list[str], seen: Counter[str]) -> str:
    # An entry without any bank reference is known by what it says, plus its rank among
    # identical entries of the file: the same entries in an overlapping file get the same keys.
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]
    seen[digest] += 1
    return f"sha256:{digest}:{seen[digest]}"


def _entry_lines(
    entry: Any, *, account_iban: str, where: str, seen: Counter[str]
) -> list[ParsedLine]:
    """One line per entry, or one per transaction of a batch entry whose amounts are given."""
    amount, currency = _amount(entry, where)
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in {"CRDT", "DBIT"}:
        raise DomainError(
            _("%(where)s: credit or debit (CdtDbtInd) is missing.") % {"where": where},
            field="file",
        )
    booking_date = _date(entry, "BookgDt") or _date(entry, "ValDt")
    if booking_date is None:
        raise DomainError(
            _("%(where)s: the booking date is missing.") % {"where": where}, field="file"
        )
    status = _first(entry, "Sts/Cd", "Sts") or "BOOK"
    reversal = _text(entry, "RvslInd").lower() in {"true", "1"}
    entry_reference = _first(entry, "AcctSvcrRef", "NtryRef")
    details = entry.findall(_path("NtryDtls/TxDtls"))

    def transaction_amount(detail: Any) -> tuple[Decimal, str] | None:
        holder = detail.find(_path("AmtDtls/TxAmt"))
        holder = holder if holder is not None else detail
        if holder.find(_path("Amt")) is None:
            return None
        return _amount(holder, where)

    amounts = [transaction_amount(detail) for detail in details]
    split = (
        len(details) > 1
        and all(found is not None and found[1] == currency for found in amounts)
        and sum((found[0] for found in amounts if found is not None), ZERO) == amount
    )
    parts = (
        [(detail, found[0]) for detail, found in zip(details, amounts, strict=True) if found]
        if split
        else [(details[0] if details else None, amount)]
    )
    lines = []
    for index, (detail, part_amount) in enumerate(parts, start=1):
        source = detail if detail is not None else entry
        structured = _texts(source, "RmtInf/Strd/CdtrRefInf/Ref")
        free_text = " ".join(_texts(source, "RmtInf/Ustrd")) or _text(entry, "AddtlNtryInf")
        in_text = references_in_text(free_text)
        party = "Dbtr" if indicator == "CRDT" else "Cdtr"
        name = _first(source, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm")
        iban = _text(source, f"RltdPties/{party}Acct/Id/IBAN")
        if split:
            reference = _text(source, "Refs/AcctSvcrRef") or (
                f"{entry_reference}/{index}" if entry_reference else ""
            )
        else:
            reference = entry_reference or _text(source, "Refs/AcctSvcrRef")
        if not reference:
            reference = _synthetic_reference(
                [account_iban, booking_date.isoformat(), str(part_amount), currency, indicator,
                 iban, name, " ".join(structured), free_text],
                seen,
            )  # fmt: skip
        lines.append(
            ParsedLine(
                bank_reference=reference[:120],
                booking_date=booking_date,
                amount=part_amount,
                currency=currency,
                is_credit=indicator == "CRDT",
                is_booked=status == "BOOK",
                is_reversal=reversal,
                counterparty_name=name[:200],
                counterparty_iban=reference_compact(iban)[:34],
                references=tuple(dict.fromkeys([*structured, *in_text])),
                remittance_text=free_text[:300],
            )
        )
    return lines


def statement_parse(file_bytes: bytes) -> ParsedStatement:
    """Read a CAMT.053 file; a file that is not one is refused with the reason (DomainError).

    Several statements in one file must be of the same account; their entries are read in order.
    """
    try:
        root = etree.fromstring(file_bytes, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise DomainError(
            _("The file is not valid XML: %(error)s") % {"error": error}, field="file"
        ) from error
    namespace = etree.QName(root).namespace
    if (
        etree.QName(root).localname != "Document"
        or (namespace is not None and not CAMT053_NAMESPACE.match(namespace))
        or root.find(_path("BkToCstmrStmt")) is None
    ):
        raise DomainError(
            _("The file is not a CAMT.053 bank statement (%(kind)s).")
            % {"kind": namespace or etree.QName(root).localname},
            field="file",
        )
    statements = root.findall(_path("BkToCstmrStmt/Stmt"))
    if not statements:
        raise DomainError(_("The file holds no statement."), field="file")
    ids, ibans, lines = [], set(), []
    seen: Counter[str] = Counter()
    for statement in statements:
        statement_id = _text(statement, "Id")
        iban = reference_compact(_text(statement, "Acct/Id/IBAN"))
        if not statement_id or not iban:
            raise DomainError(
                _("A statement of the file has no id or no account IBAN."), field="file"
            )
        ids.append(statement_id)
        ibans.add(iban)
        for number, entry in enumerate(statement.iterfind(_path("Ntry")), start=1):
            where = _("Statement %(id)s, entry %(number)s") % {"id": statement_id, "number": number}
            lines.extend(_entry_lines(entry, account_iban=iban, where=where, seen=seen))
    if len(ibans) > 1:
        raise DomainError(_("The file holds statements of several accounts."), field="file")
    return ParsedStatement(
        statement_id=", ".join(ids)[:100], account_iban=ibans.pop(), lines=tuple(lines)
    )


# --- importing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did. For a file imported before, the lines as they stand now."""

    statement: BankStatement
    already_imported: bool
    matched: int
    partial: int
    overpaid: int
    unmatched: int
    ignored: int
    # Entries already imported with an earlier (overlapping) statement, and not booked yet.
    already_known: int
    not_booked: int

    @property
    def lines(self) -> int:
        return self.matched + self.partial + self.overpaid + self.unmatched + self.ignored


def _result(
    statement: BankStatement, parsed: ParsedStatement, *, already_imported: bool
) -> ImportResult:
    statuses = Counter(statement.lines.values_list("status", flat=True))
    mine = set(statement.lines.values_list("bank_reference", flat=True))
    booked = [line for line in parsed.lines if line.is_booked]
    return ImportResult(
        statement=statement,
        already_imported=already_imported,
        matched=statuses[StatementLine.Status.MATCHED],
        partial=statuses[StatementLine.Status.PARTIAL],
        overpaid=statuses[StatementLine.Status.OVERPAID],
        unmatched=statuses[StatementLine.Status.UNMATCHED],
        ignored=statuses[StatementLine.Status.IGNORED],
        already_known=sum(1 for line in booked if line.bank_reference not in mine),
        not_booked=len(parsed.lines) - len(booked),
    )


def compact_reference_expression() -> Func:
    """``payment_reference`` as ``reference_compact`` writes it, computed by the database."""
    return Func(
        Upper("payment_reference"),
        Value("[^0-9A-Z]"),
        Value(""),
        Value("g"),
        function="regexp_replace",
    )


def _open_invoices() -> QuerySet[Invoice]:
    return Invoice.objects.filter(kind=Invoice.Kind.INVOICE, state__in=Invoice.OPEN_STATES)


def _words(text: str) -> str:
    # Banks drop accents and case: "THEATRE QUOKKA" is "Théâtre Quokka".
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def _names_match(debtor: str, names: list[str]) -> bool:
    debtor = _words(debtor)
    if len(debtor) < 3:
        return False
    return any(name and (name in debtor or debtor in name) for name in map(_words, names))


def _invoice_for(line: StatementLine, references: tuple[str, ...]) -> Invoice | None:
    """The open invoice the line pays: by structured reference, else by amount and client."""
    compact = [reference_compact(reference) for reference in references]
    compact = [reference for reference in compact if reference]
    if compact:
        named = list(
            Invoice.objects.filter(kind=Invoice.Kind.INVOICE)
            .annotate(compact_reference=compact_reference_expression())
            .filter(compact_reference__in=compact)
        )
        open_ones = [invoice for invoice in named if invoice.state in Invoice.OPEN_STATES]
        if len(open_ones) == 1:
            return open_ones[0]
        if named:
            # The client names an invoice that is paid, credited or written off (a second
            # payment, a mistake): an accountant decides, not the amount of another invoice.
            return None
    candidates = [
        invoice
        for invoice in _open_invoices()
        .annotate(due=F("gross_total") - F("amount_paid") - F("amount_credited"))
        .filter(due=line.amount)
        .select_related("client")
        if _names_match(
            line.counterparty_name, [invoice.buyer.get("name", ""), invoice.client.name]
        )
    ]
    return candidates[0] if len(candidates) == 1 else None


def _status_for(amount: Decimal, due: Decimal) -> str:
    if amount < due:
        return StatementLine.Status.PARTIAL
    if amount > due:
        return StatementLine.Status.OVERPAID
    return StatementLine.Status.MATCHED


def _line_record(line: StatementLine, references: tuple[str, ...], actor: User | None) -> None:
    """Match one credit line and record its payment (the import's transaction)."""
    invoice = _invoice_for(line, references)
    if invoice is not None:
        # Locked before deciding partial / overpaid: payment_record decides under the same lock.
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        line.status = _status_for(line.amount, invoice.balance_due)
        line.invoice = invoice
        if reference_compact(invoice.payment_reference) in map(reference_compact, references):
            # Of the readings of the free text, the one that named the invoice.
            line.structured_reference = invoice.payment_reference[:40]
        line.save(update_fields=["status", "invoice", "structured_reference"])
    services.payment_record(
        invoice=invoice,
        amount=line.amount,
        received_on=line.booking_date,
        actor=actor,
        source=Payment.Source.BANK,
        statement_line=line,
        note=(line.counterparty_name or line.remittance_text)[:300],
    )


@transaction.atomic
def statement_import(*, file_bytes: bytes, actor: User | None) -> ImportResult:
    """Import a CAMT.053 file: one transaction for the whole file, so a failure leaves nothing.

    Effects, in order: the same file (SHA-256) imported before returns that statement's result
    and writes nothing; reads the file (a malformed one is refused); refuses a statement of
    another account than the entity's; creates the statement; for each booked entry not seen
    in an earlier statement, a line: debits and reversals are ignored; a credit in another
    currency than the entity's waits for an accountant, unbooked; every other credit is
    recorded by ``services.payment_record`` (bank / receivables / client credit, or unallocated
    receipts when no invoice is found), which tells the guarantee fund on commit.
    """
    entity = current_entity()
    if len(file_bytes) > MAX_FILE_BYTES:
        raise DomainError(_("The file is too large for a bank statement."), field="file")
    file_hash = hashlib.sha256(file_bytes).hexdigest()
    parsed = statement_parse(file_bytes)
    existing = BankStatement.objects.filter(file_hash=file_hash).first()
    if existing is not None:
        return _result(existing, parsed, already_imported=True)
    if entity.iban and reference_compact(entity.iban) != parsed.account_iban:
        raise DomainError(
            _("This statement is of the account %(account)s, not of the entity's %(ours)s.")
            % {"account": parsed.account_iban, "ours": reference_compact(entity.iban)},
            field="file",
        )
    try:
        with transaction.atomic():
            statement = BankStatement.objects.create(
                file_hash=file_hash,
                statement_id=parsed.statement_id,
                account_iban=parsed.account_iban,
                imported_by=actor,
            )
    except IntegrityError:
        # The same file, imported at the same moment by someone else: theirs stands.
        return _result(
            BankStatement.objects.get(file_hash=file_hash), parsed, already_imported=True
        )
    booked = [line for line in parsed.lines if line.is_booked]
    known = {
        line.bank_reference: line
        for line in StatementLine.objects.filter(
            bank_reference__in=[line.bank_reference for line in booked]
        )
    }
    for parsed_line in booked:
        earlier = known.get(parsed_line.bank_reference)
        if earlier is not None:
            if (earlier.amount, earlier.booking_date) != (
                parsed_line.amount,
                parsed_line.booking_date,
            ):
                # The bank reused a reference: skipping would lose money, importing would
                # count it twice. Nothing is imported; the bank must explain.
                raise DomainError(
                    _(
                        "The entry %(reference)s of %(date)s was imported before with another "
                        "amount or date: the bank's references are not unique. Nothing was "
                        "imported."
                    )
                    % {"reference": parsed_line.bank_reference, "date": parsed_line.booking_date},
                    field="file",
                )
            continue
        line = _line_create(statement, parsed_line, entity.currency)
        if line is None:
            continue  # imported concurrently with another statement
        known[line.bank_reference] = line
        if line.status != StatementLine.Status.IGNORED and line.currency == entity.currency:
            _line_record(line, parsed_line.references, actor)
    return _result(statement, parsed, already_imported=False)


def _line_create(
    statement: BankStatement, parsed: ParsedLine, currency: str
) -> StatementLine | None:
    client_payment = parsed.is_credit and not parsed.is_reversal and parsed.amount > ZERO
    try:
        with transaction.atomic():
            return StatementLine.objects.create(
                statement=statement,
                bank_reference=parsed.bank_reference,
                booking_date=parsed.booking_date,
                amount=parsed.amount,
                currency=parsed.currency,
                counterparty_name=parsed.counterparty_name,
                counterparty_iban=parsed.counterparty_iban,
                structured_reference=(parsed.references[0] if parsed.references else "")[:40],
                remittance_text=parsed.remittance_text,
                status=(
                    StatementLine.Status.UNMATCHED
                    if client_payment
                    else StatementLine.Status.IGNORED
                ),
            )
    except IntegrityError:
        return None


# --- the accountant's queue ------------------------------------------------------------------


@transaction.atomic
def statement_line_match(*, line: StatementLine, invoice: Invoice, actor: User | None) -> Payment:
    """Give a line waiting in unallocated receipts to the invoice it pays (an accountant's call).

    Effects, in order: locks the line (matched already to this invoice: returns quietly; to
    another, or not a client payment, or never booked: refused); locks the invoice, which must
    be open; books unallocated receipts / receivables (/ client credit for what exceeds the
    balance) under ``match:line:<id>``; the line's payment now names the invoice; updates what
    the invoice has paid and its state; records the line's status; tells the guarantee fund on
    commit (``signals.payment_applied``).
    """
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    payment = Payment.objects.filter(statement_line=line).first()
    if line.status != StatementLine.Status.UNMATCHED:
        if line.invoice_id == invoice.pk and payment is not None:
            return payment
        if line.invoice_id is not None:
            raise DomainError(
                _("This line already pays %(number)s.") % {"number": line.invoice},
                field="line",
            )
        raise DomainError(_("This line is not a client payment."), field="line")
    if payment is None:
        raise DomainError(
            _(
                "This line is in %(currency)s and was not booked: record the payment "
                "on the invoice by hand."
            )
            % {"currency": line.currency},
            field="line",
        )
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.state not in Invoice.OPEN_STATES:
        raise DomainError(
            _("Invoice %(number)s is not waiting for a payment.") % {"number": invoice.number},
            field="invoice",
        )
    status = _status_for(line.amount, invoice.balance_due)
    applied, excess = services.payment_apply(invoice=invoice, amount=line.amount)
    currency, reference = payment.currency, f"invoice:{invoice.pk}"
    transaction_post(
        key=f"match:line:{line.pk}",
        kind="payment_matched",
        description=f"{invoice.number} {line.counterparty_name}".strip(),
        occurred_on=line.booking_date,
        actor=actor,
        legs=[
            Leg(account_get("unallocated_receipts", currency=currency), line.amount, reference),
            Leg(account_get("receivables", currency=currency), -applied, reference),
            Leg(account_get("client_credit", currency=currency), -excess, reference),
        ],
    )
    payment.invoice = invoice
    payment.save(update_fields=["invoice"])
    line.status, line.invoice = status, invoice
    line.save(update_fields=["status", "invoice"])
    return payment
