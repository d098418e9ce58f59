from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from tokenry.domain.text import MAX_ID
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.links import resource_url
from tokenry.http.pagination import page_json
from tokenry.http.params import PLAIN, PageNumber, PerPage, RecordId
from tokenry.operations.audit_log import AuditFilter, list_audit_events, show_audit_event
from tokenry.operations.context import PageRequest
from tokenry.operations.users import user_names
from tokenry.present import audit_json
from tokenry.storage.models import AuditEvent

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
    created_at_twice: Annotated[list[datetime] | None, Query(
        alias="filter[created_at]",
        description="Zendesk's other form: given twice, the start and the end")] = None,
    ip_address: Annotated[str | None, Query(alias="filter[ip_address]", max_length=64,
                                            pattern=PLAIN)] = None,
    sort_by: Literal["created_at"] = "created_at",
    sort_order: Literal["asc", "desc"] = "desc",
    sort: Literal["created_at", "-created_at"] | None = None,
    page: PageNumber = 1, per_page: PerPage = 100,
) -> dict[str, Any]:
    since = until = None
    bounds = created_at or created_at_twice
    if bounds:
        since, until = bounds[0], bounds[-1] if len(bounds) > 1 else None
    oldest_first = sort == "created_at" if sort else sort_order == "asc"
    filters = AuditFilter(source_type=source_type, source_id=source_id, actor_id=actor_id,
                          action=action, since=since, until=until, ip_address=ip_address,
                          oldest_first=oldest_first)
    result = list_audit_events(core, actor, filters, PageRequest(page, per_page))
    names = user_names(core, actor, {e.actor_id for e in result.items if e.actor_id})
    return page_json("audit_logs", [_json(request, e, names) for e in result.items], result,
                     request)


@router.get("/{event_id}", summary="Show one audit log event")
def show_audit_log(request: Request, core: CoreDep, actor: CurrentActor,
                   event_id: RecordId) -> dict[str, Any]:
    event = show_audit_event(core, actor, event_id)
    names = user_names(core, actor, {event.actor_id} if event.actor_id else set())
    return {"audit_log": _json(request, event, names)}


def _json(request: Request, event: AuditEvent, names: dict[int, str]) -> dict[str, Any]:
    return audit_json(event, url=resource_url(request, "audit_logs", event.id),
                      actor_name=names.get(event.actor_id) if event.actor_id else None)
