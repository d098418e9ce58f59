"""``/api/v2/reports``: governance reports for admins and provisioners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tokenry import schemas
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import answers
from tokenry.http.scopes import scoped
from tokenry.operations.compliance_report import compliance_report

router = APIRouter(prefix="/api/v2/reports", tags=["reports"],
                   dependencies=[scoped("reports")])


@router.get("/compliance", summary="Tokens and requests that need a compliance review",
            operation_id="showComplianceReport",
            responses=answers(schemas.ComplianceReportBody, 403, 422))
def compliance(core: CoreDep, actor: CurrentActor,
               unused_days: Annotated[int | None, Query(ge=0, le=3650)] = None) -> dict[str, Any]:
    report = compliance_report(core, actor, unused_days=unused_days)
    return {"compliance": report.as_dict()}
