from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from tokenry import schemas
from tokenry.domain.audit import ZENDESK_ACTIONS, source_type_named
from tokenry.domain.text import MAX_ID
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import answers
from tokenry.http.links import resource_url
from tokenry.http.pagination import Paging, page_json
from tokenry.http.params import PLAIN, RecordId
from tokenry.http.scopes import scoped
from tokenry.operations.audit_log import AuditFilter, list_audit_events, show_audit_event
from tokenry.operations.context import PageRequest
from tokenry.operations.export_audit_log import export_audit_log
from tokenry.present import audit_json
from tokenry.storage.models import AuditEvent

router = APIRouter(prefix="/api/v2/audit_logs", tags=["audit logs"],
                   dependencies=[scoped("audit_logs")])


async def audit_filter(  # no I/O: run on the event loop, not a worker thread
    source_type: Annotated[str | None, Query(
        alias="filter[source_type]", max_length=64, pattern=PLAIN,
        description="Zendesk's `apitoken`, or any source type an event shows")] = None,
    source_id: Annotated[int | None, Query(alias="filter[source_id]", ge=1, le=MAX_ID)] = None,
    actor_id: Annotated[int | None, Query(alias="filter[actor_id]", ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(
        alias="filter[action]", max_length=64, pattern=PLAIN,
        description="One of Zendesk's actions (create, update, destroy, login, exported), "
                    "or one of tokenry's finer ones (deactivate, approve, ...)")] = None,
    tokenry_action: Annotated[str | None, Query(
        alias="filter[tokenry_action]", max_length=64, pattern=PLAIN,
        description="tokenry's own action, exactly (`update` without deactivations)")] = None,
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
) -> AuditFilter:
    """The list's and the export's filters and order, as Zendesk names them."""
    since = until = None
    bounds = created_at or created_at_twice
    if bounds:
        since, until = bounds[0], bounds[-1] if len(bounds) > 1 else None
    oldest_first = sort == "created_at" if sort else sort_order == "asc"
    zendesk = action if action in ZENDESK_ACTIONS else None
    return AuditFilter(
        source_type=source_type_named(source_type) if source_type else None,
        source_id=source_id, actor_id=actor_id, zendesk_action=zendesk,
        action=tokenry_action or (None if zendesk else action),
        since=since, until=until, ip_address=ip_address, oldest_first=oldest_first)


Filters = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("", summary="The audit log, newest first", operation_id="listAuditLogs",
            responses=answers(schemas.AuditLogList, 403, 422))
def list_audit_logs(request: Request, core: CoreDep, actor: CurrentActor, filters: Filters,
                    paging: Paging) -> dict[str, Any]:
    result = list_audit_events(core, actor, filters, paging or PageRequest())
    return page_json("audit_logs", [_json(request, e) for e in result.items], result, request)


@router.post("/export", status_code=202, operation_id="exportAuditLogs",
             summary="E-mail the filtered audit log to yourself as a CSV file",
             responses=answers(schemas.AuditLogExportBody, 403, 409, 422, status=202,
                               description="Accepted: the file is on its way"))
def export_audit_logs(core: CoreDep, actor: CurrentActor, filters: Filters) -> dict[str, Any]:
    """Takes the list's filters and order. As Zendesk, answers 202 and e-mails the file to
    the admin who asks (at most 100,000 events and 15 MiB of CSV; more is a 422 asking for a
    shorter range). tokenry's body says how many events the file holds and where it goes."""
    done = export_audit_log(core, actor, filters)
    return {"audit_log_export": {
        "status": "queued", "count": done.count, "recipient": done.recipient,
        "filename": done.filename, "audit_log_id": done.audit_log_id}}


@router.get("/{event_id}", summary="Show one audit log event", operation_id="showAuditLog",
            responses=answers(schemas.AuditLogBody, 403, 404, 422))
def show_audit_log(request: Request, core: CoreDep, actor: CurrentActor,
                   event_id: RecordId) -> dict[str, Any]:
    return {"audit_log": _json(request, show_audit_event(core, actor, event_id))}


def _json(request: Request, event: AuditEvent) -> dict[str, Any]:
    return audit_json(event, url=resource_url(request, "audit_logs", event.id))
