from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from tokenry.domain.text import MAX_ID
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.pagination import page_json
from tokenry.http.params import PLAIN, PageNumber, PerPage
from tokenry.operations.audit_log import AuditFilter, list_audit_events
from tokenry.operations.context import PageRequest
from tokenry.present import audit_json

router = APIRouter(prefix="/api/v2/audit_logs", tags=["audit logs"])


@router.get("", summary="The audit log, newest first")
def list_audit_logs(
    request: Request, core: CoreDep, actor: CurrentActor,
    source_type: Annotated[str | None, Query(alias="filter[source_type]", max_length=64,
                                             pattern=PLAIN)] = None,
    source_id: Annotated[int | None, Query(alias="filter[source_id]", ge=1, le=MAX_ID)] = None,
    actor_id: Annotated[int | None, Query(alias="filter[actor_id]", ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(alias="filter[action]", max_length=64,
                                        pattern=PLAIN)] = None,
    created_at: Annotated[list[datetime] | None, Query(
        alias="filter[created_at][]",
        description="Two values: the start and the end of the time range")] = None,
    page: PageNumber = 1, per_page: PerPage = 100,
) -> dict[str, Any]:
    since = until = None
    if created_at:
        since, until = created_at[0], created_at[-1] if len(created_at) > 1 else None
    filters = AuditFilter(source_type=source_type, source_id=source_id, actor_id=actor_id,
                          action=action, since=since, until=until)
    result = list_audit_events(core, actor, filters, PageRequest(page, per_page))
    return page_json("audit_logs", [audit_json(e) for e in result.items], result, request)
