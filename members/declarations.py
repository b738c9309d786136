"""Declarations of employment, built in the shape each authority's interface expects.

Belgium: Dimona IN with its end date (a fixed-term contract needs no separate OUT), the fields
listed in shared/domain/README.md section 1.3: employer number, worker's INSS, joint committee,
worker type, start and end. France: DPAE. Other entities: the common fields of their pre-start
declaration (UNILAV, DEÜV, alta, ELDA, T1041), to be mapped to the authority's format when the
integration is built. The payload is data; sending it is an operator's or an integration's job.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from members.models import Contract, EmploymentDeclaration
from smart_coop.tenancy.models import Entity

# Joint committee (commission paritaire) of the coop's workers in Belgium: 322 covers temporary
# work through an agency-like employer; artistic contracts use 304. Configurable per entity in a
# later step; the advisor can correct a declaration before it is sent.
BE_JOINT_COMMITTEE = "322"
BE_WORKER_TYPE = "OTH"  # ordinary worker, not student/flexi/occasional


def work_periods(days: Iterable[datetime.date]) -> list[tuple[datetime.date, datetime.date]]:
    """Runs of consecutive days: [(start, end), ...]."""
    periods: list[tuple[datetime.date, datetime.date]] = []
    for day in sorted(set(days)):
        if periods and day == periods[-1][1] + datetime.timedelta(days=1):
            periods[-1] = (periods[-1][0], day)
        else:
            periods.append((day, day))
    return periods


def _worker(contract: Contract) -> dict[str, Any]:
    member = contract.member
    return {
        "nationalId": member.national_id,
        "lastName": member.user.last_name,
        "firstName": member.user.first_name,
        "birthDate": member.date_of_birth.isoformat(),
    }


def dimona_in(
    contract: Contract, entity: Entity, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    """Dimona IN for a fixed-term period, with the end date given (Dimona REST declaration)."""
    return {
        "employer": {"enterpriseNumber": entity.company_number},
        "worker": {"ssin": contract.member.national_id},
        "dimonaIn": {
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "features": {
                "jointCommissionNumber": BE_JOINT_COMMITTEE,
                "workerType": BE_WORKER_TYPE,
            },
        },
    }


def dpae(
    contract: Contract, entity: Entity, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    """DPAE to URSSAF: made before the work starts (no earlier than 8 days before hire)."""
    member = contract.member
    return {
        "employeur": {"siren": entity.company_number, "raisonSociale": entity.legal_name},
        "salarie": {
            "nir": member.national_id,
            "nom": member.user.last_name,
            "prenoms": member.user.first_name,
            "dateNaissance": member.date_of_birth.isoformat(),
        },
        "contrat": {
            "dateEmbauche": start.isoformat(),
            "natureContrat": "CDD",
            "dateFinCDD": end.isoformat(),
        },
    }


def generic(
    contract: Contract, entity: Entity, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    return {
        "declaration": entity.hiring_declaration,
        "employer": {"vatNumber": entity.vat_number, "companyNumber": entity.company_number},
        "worker": _worker(contract),
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "place": contract.place,
    }


BUILDERS: dict[str, Callable[[Contract, Entity, datetime.date, datetime.date], dict[str, Any]]] = {
    "dimona": dimona_in,
    "dpae": dpae,
}


def declarations_create(*, contract: Contract, entity: Entity) -> list[EmploymentDeclaration]:
    """One declaration per run of consecutive work days, in the state "to send"."""
    kind = entity.hiring_declaration
    if not kind:
        return []
    build = BUILDERS.get(kind, generic)
    created = []
    for start, end in work_periods(contract.work_days.values_list("day", flat=True)):
        declaration, _ = EmploymentDeclaration.objects.get_or_create(
            contract=contract,
            kind=kind,
            period_start=start,
            defaults={"period_end": end, "payload": build(contract, entity, start, end)},
        )
        created.append(declaration)
    return created
