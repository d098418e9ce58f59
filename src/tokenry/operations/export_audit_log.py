"""ExportAuditLog: the filtered audit log as a CSV file, e-mailed to the admin who asks for it.

Zendesk's ``POST /api/v2/audit_logs/export``: the same filters as the list, admins only, and the
file arrives by e-mail. Here:

1. **Read** (one snapshot): the admin check, a count, then the rows streamed in batches of
   :data:`BATCH` straight into a zlib stream, so neither the table nor the uncompressed file
   is ever held in memory. At most :data:`ROW_LIMIT` rows and :data:`MAX_CSV_BYTES` of CSV
   (base64 in the e-mail adds a third: 20 MB stays under the 25 MB that common mail
   services accept). A larger selection is refused with a 422 that asks for a shorter
   ``created_at`` range, never cut short in silence.
2. **Write** (one transaction): the ``exported`` audit event and the queued e-mail with the
   file attached (compressed, then sealed with a key derived from the server secret: the rows
   hold e-mails and IP addresses). Both commit or neither does.

The file is built here rather than by the worker so that it is fixed once queued: a retried
e-mail carries the same file under the same ``Message-ID``, and the worker stays a sender
that never reads the audit log. It holds the events up to the moment of the request; the
``exported`` event that records it is not in it.

Only e-mail carries the file, so an export is refused (409, saying what to configure) when
e-mail cannot reach the admin. A Slack direct message, when the account has a bot token,
says where the file went; shared channels (Slack webhook, generic webhook) get the notice
that an export happened, never the file.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType, zendesk_action, zendesk_source_type
from tokenry.domain.csv_cells import defuse_text
from tokenry.domain.errors import Conflict, Invalid
from tokenry.domain.timefmt import iso
from tokenry.notify import messages
from tokenry.notify.outbox import Attachment, email_problem, enqueue
from tokenry.operations._common import audit, require_account_admin
from tokenry.operations.audit_log import AuditFilter
from tokenry.operations.context import Actor
from tokenry.operations.paging import count_up_to
from tokenry.storage.models import AuditEvent, User

ROW_LIMIT = 100_000  # bounds the request's time; rows are 150-350 bytes of CSV
MAX_CSV_BYTES = 15 * 1024 * 1024  # bounds the e-mail's size
BATCH = 2_000
SHORTER = "export a shorter time range at a time"

# Zendesk's columns in its vocabulary (as the API shows them), then tokenry's own.
COLUMNS = ("id", "created_at", "actor_id", "actor_name", "source_type", "source_id",
           "source_label", "action", "change_description", "ip_address",
           "tokenry_action", "actor_label", "via", "credential", "user_agent", "changes")
SELECTED = (AuditEvent.id, AuditEvent.created_at, AuditEvent.actor_id, AuditEvent.actor_name,
             AuditEvent.source_type, AuditEvent.source_id, AuditEvent.source_label,
             AuditEvent.action, AuditEvent.change_description, AuditEvent.ip_address,
             AuditEvent.actor_label, AuditEvent.via, AuditEvent.credential,
             AuditEvent.user_agent, AuditEvent.changes)


@dataclass(frozen=True, slots=True)
class Exported:
    audit_log_id: int  # the ``exported`` event
    count: int
    recipient: str
    filename: str


def export_audit_log(core: Core, actor: Actor, filters: AuditFilter, *,
                     limit: int = ROW_LIMIT, max_bytes: int = MAX_CSV_BYTES) -> Exported:
    with core.db.read() as session:
        _requester(session, core, actor)
        # counted no further than one past the limit: a refusal of a million-event log
        # costs what one of a hundred thousand and one does
        selected = select(AuditEvent).where(*filters.conditions(actor.account_id))
        if count_up_to(session, selected, limit + 1) > limit:
            raise Invalid.field("filter[created_at]", f"selects more than the {limit:,} "
                                f"events an export holds, so {SHORTER}")
        compressed, count = _csv(session, filters, actor.account_id, limit, max_bytes)
    filename = f"audit-log-{core.clock():%Y%m%dT%H%M%SZ}.csv"
    summary = filters.summary()
    with core.db.transaction() as session:
        requester = _requester(session, core, actor)  # checked again where it commits
        event = audit(session, core, actor, action=Action.EXPORT,
                      source_type=SourceType.AUDIT_LOG, source_id=None, source_label=summary,
                      description=f"Exported {count:,} audit event{'s' if count != 1 else ''}"
                                  f" as {filename} to {requester.email}")
        session.flush()
        enqueue(session, core, actor.account_id,
                messages.audit_log_export(event.id, requester, count, summary,
                                          Attachment(filename, compressed)),
                [requester])
        return Exported(event.id, count, requester.email, filename)


def _requester(session: Session, core: Core, actor: Actor) -> User:
    """The admin the file goes to, once e-mail can reach them."""
    user = require_account_admin(session, actor, "export the audit log")
    if user is None:
        raise Conflict("An audit log export is e-mailed to the admin who asks for it; act as "
                       "an admin (the command line's --as EMAIL).")
    problem = email_problem(session, core, actor.account_id)
    if problem is not None:
        raise Conflict(f"The audit log export is e-mailed to you, but {problem}.")
    return user


def _csv(session: Session, filters: AuditFilter, account_id: int, limit: int,
         max_bytes: int) -> tuple[bytes, int]:
    """The CSV (RFC 4180, UTF-8) as zlib data, and its number of rows."""
    query = (select(*SELECTED).where(*filters.conditions(account_id)).order_by(*filters.order())
             .limit(limit).execution_options(yield_per=BATCH))
    packer, parts, count, size = zlib.compressobj(), [], 0, 0
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    for batch in session.execute(query).partitions():
        writer.writerows(_cells(row) for row in batch)
        count += len(batch)
        chunk = text.getvalue().encode()
        size += len(chunk)
        if size > max_bytes:
            raise Invalid.field("filter[created_at]", f"selects more than {max_bytes:,} bytes "
                                f"of CSV, more than an e-mail carries reliably, so {SHORTER}")
        parts.append(packer.compress(chunk))
        text.seek(0)
        text.truncate()
    parts += [packer.compress(text.getvalue().encode()), packer.flush()]
    return b"".join(parts), count


def _cells(row: Row[Any]) -> Sequence[object]:
    (event_id, created_at, actor_id, name, source_type, source_id, source_label, action,
     description, ip_address, actor_label, via, credential, user_agent, changes) = tuple(row)
    # Only text can hold a formula; ids are integers and the time is tokenry's own.
    return (event_id, iso(created_at), actor_id, defuse_text(name or actor_label),
            defuse_text(zendesk_source_type(source_type)), source_id, defuse_text(source_label),
            zendesk_action(action), defuse_text(description), defuse_text(ip_address or ""),
            defuse_text(action), defuse_text(actor_label), defuse_text(via),
            defuse_text(credential),
            defuse_text(user_agent or ""),
            defuse_text(json.dumps(changes, ensure_ascii=False, sort_keys=True))
            if changes else "")
