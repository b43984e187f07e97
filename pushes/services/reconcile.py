"""Settling pushes whose outcome is unknown, from Railz's own push log.

A push becomes `unknown` when its request may have reached Railz without an answer coming back
(a lost answer, a 500, a read timeout, a worker killed mid-send). It is never sent again
blindly: Railz has no idempotency key, so a resend could create a second record. Instead its
outcome is looked for in GET /v2/data/pushStatus (deleteStatus for a delete), and this module
decides what that list proves. The invariants:

- A Railz push is adopted by a local push only when the evidence ties them one to one. A
  *candidate* is a push Railz lists, of the same data type, requested inside this attempt's
  window and owned by no local push. A *competitor* is any other push of the same connection
  and data type that may have reached Railz without us knowing its id (unknown, submitting,
  pending without an id, or requeued after a send), whatever caused it. With exactly one
  candidate and no competitor that could own it, it is adopted. Otherwise the record each
  candidate created is read back from Railz (after asking it to refresh that data type) and
  compared with the bodies the pushes sent: number, party, total and date. It is adopted only
  when exactly one candidate's record matches this push and no competitor's body matches it.
- Nothing is guessed. Without proof the push stays `unknown` for a person, with the
  candidates (and the records read) stored in `reconcile_evidence`, so the staff page shows
  them side by side without calling Railz.
- A push Railz does not list, at two checks at least PUSH_SETTLE_NOT_RECEIVED_SECONDS apart
  and both after its request could still have been logged, never reached Railz: it is
  settled as failed (never received) and, with PUSH_AUTO_REQUEUE_NOT_RECEIVED, queued again
  once through the normal retry. A retry that itself was never received is left for a person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from pushes.models import PushRequest, ReconcileReason
from pushes.push_selectors import push_reconcile_plan
from pushes.services.identity import (
    identity_differences,
    identity_in_words,
    identity_proves,
    record_identity,
)
from pushes.services.push_requests import (
    PushesActed,
    PushRefused,
    Source,
    State,
    _by_connection,
    _client,
    _communication_id,
    _is_delete,
    _parse_time,
    _settle_by_person,
    _status_lists,
    _transition,
    _window,
    push_apply_status,
    push_is_automatic_attempt,
    push_note,
    push_request_retry,
    pushes_expire_leases,
    webhook_events_apply_waiting,
)
from railzpush.railz import RailzClient, RailzError

logger = logging.getLogger("pushes")


def _pushed_identity(push: PushRequest) -> dict[str, str | None]:
    return record_identity((push.body or {}).get("data"))


# --- reading candidates' records, once per reconciliation pass --------------------------------


@dataclass
class RecordReader:
    """Reads records back from Railz for one reconciliation pass: each data type of a
    connection is refreshed (POST /v2/data/sync) once, each record read once."""

    client: RailzClient
    started_at: datetime = field(default_factory=timezone.now)
    synced: dict[tuple[str, str], str] = field(default_factory=dict)
    reads: dict[tuple[str, str, str], tuple[dict[str, Any] | None, str]] = field(
        default_factory=dict
    )

    def read(
        self, *, connection_uuid: str, data_type: str, record_id: str
    ) -> tuple[dict[str, Any] | None, str]:
        """(the record, "") or (None, why it could not be read)."""
        if (connection_uuid, data_type) not in self.synced:
            try:
                self.client.data_sync(connection_uuid=connection_uuid, data_type=data_type)
                self.synced[connection_uuid, data_type] = ""
            except RailzError as exc:
                # Railz's copy may be behind; the read below still tells what it has.
                self.synced[connection_uuid, data_type] = str(exc)
        key = (connection_uuid, data_type, record_id)
        if key not in self.reads:
            try:
                record = self.client.record_read(
                    data_type, connection_uuid=connection_uuid, record_id=record_id
                )
                self.reads[key] = (record, "" if record else "Railz has no record with that id")
            except RailzError as exc:
                self.reads[key] = (None, str(exc))
        return self.reads[key]


# --- one unknown push ---------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _targets_ok(push: PushRequest, item: dict[str, Any]) -> bool:
    """An update or delete can only be the Railz push of the record it targets."""
    targets = [str(t) for t in item.get("sourceObjectIds") or []]
    return not (push.provider_record_id and targets and push.provider_record_id not in targets)


def _could_own(push: PushRequest, item: dict[str, Any]) -> bool:
    requested_on = _parse_time(item.get("requestedOn"))
    if requested_on is None or item.get("dataType") != push.data_type:
        return False
    start, end = _window(push)
    return start <= requested_on <= end and _targets_ok(push, item)


def pushes_competing_with(*, push: PushRequest) -> list[PushRequest]:
    """Other pushes of the connection and data type that may have reached Railz without us
    knowing their Railz id, sent close enough in time to share candidates with `push`."""
    start, end = _window(push)
    width = end - start
    return [
        other
        for other in PushRequest.objects.filter(
            connection_id=push.connection_id,
            data_type=push.data_type,
            sent_at__gte=start - width,
            sent_at__lte=end + width,
        )
        .filter(
            Q(state__in=(State.UNKNOWN, State.SUBMITTING))
            | Q(state=State.PENDING, push_communication_id="")
            | Q(state=State.QUEUED, attempts__gt=0)
        )
        .exclude(pk=push.pk)
        .order_by("sent_at", "pk")
        if _is_delete(other) == _is_delete(push)
    ]


def _candidates(push: PushRequest, status_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [_communication_id(i) for i in status_items if _communication_id(i)]
    owned = set(
        PushRequest.objects.railz_pushes(*ids)
        .exclude(pk=push.pk)
        .values_list("push_communication_id", flat=True)
    )
    return [
        item
        for item in status_items
        if _communication_id(item)
        and _communication_id(item) not in owned
        and _could_own(push, item)
    ]


def _candidate_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "pushCommunicationId": _communication_id(item),
        "requestedOn": item.get("requestedOn"),
        "status": item.get("status"),
        "sourceObjectIds": [str(i) for i in item.get("sourceObjectIds") or []],
        "item": item,
    }


def _save_evidence(
    push: PushRequest, *, evidence: dict[str, Any], reason: str, note: str, source: str
) -> None:
    """Keep what this reconciliation saw on the (still unknown) push; a new conclusion also
    goes on its timeline."""
    PushRequest.objects.filter(pk=push.pk, state=State.UNKNOWN).update(
        reconcile_evidence=evidence,
        reconcile_reason=reason,
        reconcile_note=note,
        updated_at=timezone.now(),
    )
    changed = note != push.reconcile_note
    push.reconcile_evidence, push.reconcile_reason, push.reconcile_note = evidence, reason, note
    if changed:
        push_note(push=push, source=source, message=note)


def _adopt(
    push: PushRequest,
    item: dict[str, Any],
    *,
    evidence: dict[str, Any],
    proof: str,
    source: str,
) -> str:
    communication_id = _communication_id(item)
    if not push_apply_status(push=push, item=item, source=source):
        # Another run (or a webhook) settled it a moment ago, or the Railz push became another
        # push's meanwhile: the next run looks again.
        return f"Push #{push.pk} was settled a moment ago."
    evidence = {**evidence, "adopted": communication_id, "proof": proof}
    PushRequest.objects.filter(pk=push.pk).update(reconcile_evidence=evidence, reconcile_reason="")
    push.reconcile_evidence, push.reconcile_reason = evidence, ""
    # Written only by the run that adopted it, so racing runs leave one explanation.
    push_note(
        push=push,
        source=source,
        message=f"Reconciled: Railz push {communication_id} (requested "
        f"{item.get('requestedOn')}) is this push's; adopted it. {proof}",
    )
    # Its webhooks came while nobody here knew the id; the later ones apply now.
    webhook_events_apply_waiting(push_communication_id=communication_id)
    return f"Push #{push.pk}: adopted Railz push {communication_id}."


def push_reconcile(
    *,
    push: PushRequest,
    client: RailzClient | None = None,
    source: str = Source.SYSTEM,
    status_items: list[dict[str, Any]] | None = None,
    reader: RecordReader | None = None,
) -> str:
    """Settle an `unknown` push from Railz's push list; returns what was concluded.

    `status_items` is the connection's pushStatus (its deleteStatus for a delete) when the
    caller already has it; `reader` the pass's reads of records, shared between its pushes.
    See the module's docstring for what is adopted, settled or left for a person.
    """
    if push.state != State.UNKNOWN:
        return f"Push #{push.pk} is {push.state}; nothing to reconcile."
    connection = push.connection
    if status_items is None or reader is None:
        client = _client(client)
        reader = reader or RecordReader(client=client)
    if status_items is None:
        status_items = _status_lists(reader.client, connection, [push])[_is_delete(push)]
    if push.push_communication_id:
        own = [i for i in status_items if _communication_id(i) == push.push_communication_id]
        if own:
            push_apply_status(push=push, item=own[0], source=source)
            return f"Push #{push.pk}: Railz reports it {own[0].get('status')}."
    now = reader.started_at
    start, end = _window(push)
    candidates = _candidates(push, status_items)
    competitors = pushes_competing_with(push=push)
    this = _pushed_identity(push)
    evidence: dict[str, Any] = {
        "checkedAt": _iso(now),
        "window": [_iso(start), _iso(end)],
        "this": this,
        "competitors": [other.pk for other in competitors],
        "candidates": [],
    }
    if not candidates:
        return _not_listed(push, evidence, status_items=status_items, now=now, source=source)
    evidence["notListed"] = []
    owners = {
        _communication_id(item): [q for q in competitors if _could_own(q, item)]
        for item in candidates
    }
    evidence["candidates"] = [
        {**_candidate_row(item), "otherOwners": [q.pk for q in owners[_communication_id(item)]]}
        for item in candidates
    ]
    if len(candidates) == 1 and not owners[_communication_id(candidates[0])]:
        return _adopt(
            push,
            candidates[0],
            evidence=evidence,
            proof="It is the only push Railz lists for this window, and no other push of this "
            "connection could be its owner.",
            source=source,
        )
    return _prove_by_content(
        push, candidates, owners, evidence=evidence, reader=reader, source=source
    )


def _prove_by_content(
    push: PushRequest,
    candidates: list[dict[str, Any]],
    owners: dict[str, list[PushRequest]],
    *,
    evidence: dict[str, Any],
    reader: RecordReader,
    source: str,
) -> str:
    """Several pushes could own these candidates: read each candidate's record and compare it
    with what each of them sent."""
    this = evidence["this"]
    matching, others_own = [], []
    for row, item in zip(evidence["candidates"], candidates, strict=True):
        record_id = row["sourceObjectIds"][0] if row["sourceObjectIds"] else ""
        if not record_id or item.get("status") != "success":
            row["readProblem"] = (
                "Railz reports it pending; there is no record to read yet."
                if item.get("status") == "pending"
                else f"Railz reports it {item.get('status')}; it created no record to read."
            )
            continue
        record, problem = reader.read(
            connection_uuid=push.connection.connection_uuid,
            data_type=push.data_type,
            record_id=record_id,
        )
        if record is None:
            row["readProblem"] = problem
            continue
        found = record_identity(record)
        row["record"] = found
        row["differences"] = identity_differences(this, found)
        row["matchesThis"] = identity_proves(this, found)
        row["matchesOthers"] = [
            q.pk
            for q in owners[row["pushCommunicationId"]]
            if identity_proves(_pushed_identity(q), found)
        ]
        if row["matchesThis"]:
            matching.append((row, item))
        elif row["matchesOthers"]:
            others_own.append(row)
    syncs = [
        f"{data_type} ({problem or 'refresh asked'})"
        for (uuid, data_type), problem in reader.synced.items()
        if uuid == push.connection.connection_uuid
    ]
    evidence["synced"] = syncs
    if len(matching) == 1 and not matching[0][0]["matchesOthers"]:
        row, item = matching[0]
        others = sorted({pk for r in evidence["candidates"] for pk in r["otherOwners"]})
        return _adopt(
            push,
            item,
            evidence=evidence,
            proof=(
                f"Its record {row['sourceObjectIds'][0]}, read back from Railz, has "
                f"{identity_in_words(row['record'])}, as this push sent"
                + (
                    f"; no other push that could own it ({', '.join(f'#{pk}' for pk in others)})"
                    " sent that."
                    if others
                    else "."
                )
            ),
            source=source,
        )
    if len(others_own) == len(candidates):
        # Every candidate's record is another push's by its content: none is this push's.
        evidence["excluded"] = [row["pushCommunicationId"] for row in others_own]
        return _not_listed(push, evidence, status_items=[], now=reader.started_at, source=source)
    start, end = _window(push)
    listed = ", ".join(row["pushCommunicationId"] for row in evidence["candidates"][:5])
    competitors = ", ".join(f"#{pk}" for pk in evidence["competitors"][:5])
    note = (
        f"Railz lists {len(candidates)} {push.data_type} push(es) on this connection requested "
        f"between {start:%Y-%m-%d %H:%M:%S} and {end:%H:%M:%S} UTC ({listed})"
        + (f" that push(es) {competitors} could own as well" if competitors else "")
        + "; which one is this push cannot be told apart automatically"
        + (
            " (their records do not prove it)."
            if any("record" in row for row in evidence["candidates"])
            else "."
        )
        + " Compare them on this push's page and adopt one, or mark it never received."
    )
    _save_evidence(
        push, evidence=evidence, reason=ReconcileReason.SEVERAL, note=note, source=source
    )
    return f"Push #{push.pk}: {note}"


def _not_listed(
    push: PushRequest,
    evidence: dict[str, Any],
    *,
    status_items: list[dict[str, Any]],
    now: datetime,
    source: str,
) -> str:
    """Railz lists no push that could be this one: count the check; after the second one, far
    enough apart, it never arrived."""
    start, end = _window(push)
    previous = push.reconcile_evidence or {}
    checks = list(previous.get("notListed") or [])
    # A check counts once Railz could no longer be logging the request, and once per pass.
    if now >= end and (not checks or checks[-1] != _iso(now)):
        checks.append(_iso(now))
    # The first two checks decide; the latest ones show it is still not listed.
    checks = checks if len(checks) <= 10 else checks[:2] + checks[-8:]
    evidence["notListed"] = checks
    evidence["listedInWindow"] = [
        _communication_id(i)
        for i in status_items
        if i.get("dataType") == push.data_type
        and (t := _parse_time(i.get("requestedOn"))) is not None
        and start <= t <= end
    ][:20] or list(evidence.get("excluded") or [])
    first = _parse_time(checks[0]) if checks else None
    settle = timedelta(seconds=settings.PUSH_SETTLE_NOT_RECEIVED_SECONDS)
    when = f"between {start:%Y-%m-%d %H:%M:%S} and {end:%H:%M:%S} UTC"
    nothing = (
        f"Railz lists no {push.data_type} push on this connection requested {when} that is "
        "not already accounted for: the request probably never arrived."
    )
    if evidence.get("excluded"):
        nothing = (
            f"The {push.data_type} push(es) Railz lists for this window "
            f"({', '.join(evidence['excluded'])}) created records that other pushes sent, "
            "not this one: the request probably never arrived."
        )
    if len(checks) >= 2 and first is not None and now - first >= settle:
        return _settle_not_received(push, evidence, checks=checks, note=nothing, source=source)
    next_check = (first or max(now, end)) + settle
    if not settings.PUSH_AUTO_REQUEUE_NOT_RECEIVED:
        then = "if it still finds none, the push is left for a person to settle"
    else:
        then = "if it still finds none, the push is settled as never received and queued again"
    note = (
        f"{nothing} Checked at {now:%H:%M:%S} UTC; a second check from "
        f"{next_check:%H:%M:%S} UTC on decides: {then}."
    )
    _save_evidence(
        push, evidence=evidence, reason=ReconcileReason.SECOND_CHECK, note=note, source=source
    )
    return f"Push #{push.pk}: {note}"


def _settle_not_received(
    push: PushRequest, evidence: dict[str, Any], *, checks: list[str], note: str, source: str
) -> str:
    listed = ", ".join(evidence.get("listedInWindow") or []) or "none"
    seen = (
        f"Railz's push log did not list it at 2 checks, {checks[0]} and {checks[1]} (pushes "
        f"listed for its window, all another's: {listed})."
    )
    if not settings.PUSH_AUTO_REQUEUE_NOT_RECEIVED or push_is_automatic_attempt(push):
        why = (
            "PUSH_AUTO_REQUEUE_NOT_RECEIVED is off"
            if not settings.PUSH_AUTO_REQUEUE_NOT_RECEIVED
            else "it is already railzpush's own new attempt of an earlier push"
        )
        message = (
            f"{note} {seen} It is not queued again automatically ({why}): check the "
            "accounting system, then mark it never received and retry."
        )
        _save_evidence(
            push,
            evidence=evidence,
            reason=ReconcileReason.NOT_LISTED,
            note=message,
            source=source,
        )
        return f"Push #{push.pk}: {message}"
    evidence = {**evidence, "settled": "never received"}
    moved = _transition(
        push,
        to=State.FAILED,
        source=source,
        message=f"Settled as never received: {seen}",
        fields={
            "completed_on": timezone.now(),
            "last_error": "Railz never received it (not in its push log at two checks).",
            "reconcile_note": "",
            "reconcile_reason": "",
            "reconcile_evidence": evidence,
        },
    )
    if not moved:
        return f"Push #{push.pk} was settled a moment ago."
    try:
        retry = push_request_retry(push=push, user=None, source=PushRequest.Source.SYSTEM)
    except PushRefused as exc:
        push_note(push=push, source=source, message=f"Not queued again: {exc}")
        return f"Push #{push.pk}: never received; not queued again: {exc}"
    evidence["requeuedAs"] = retry.pk
    PushRequest.objects.filter(pk=push.pk).update(reconcile_evidence=evidence)
    push.reconcile_evidence = evidence
    push_note(
        push=push,
        source=source,
        message=f"Queued again automatically as push #{retry.pk}, through the normal retry.",
    )
    return f"Push #{push.pk}: never received; queued again as push #{retry.pk}."


# --- many unknown pushes ----------------------------------------------------------------------

# A push settled in one round can free a candidate for another: look again, a bounded number
# of times, with the same lists and reads (no new call to Railz).
ROUNDS = 3


def pushes_reconcile(
    *,
    pushes: Iterable[PushRequest],
    user: Any = None,
    client: RailzClient | None = None,
    source: str = Source.STAFF,
) -> PushesActed:
    """Reconcile the unknown pushes among `pushes`: one call per connection (one more where a
    delete is among them), plus a refresh and one read per record where content must decide.

    `done` counts the pushes settled; one still unknown is skipped with its reconcile note.
    """
    result = PushesActed()
    groups = _by_connection(pushes, push_reconcile_plan, user, result)
    client = _client(client) if groups else client
    for group in groups.values():
        connection = group[0].connection
        result.asked += len(group)
        try:
            lists = _status_lists(client, connection, group)
        except RailzError as exc:
            result.calls += 1
            result.skipped.append(f"{connection}: {exc}")
            continue
        result.calls += len(lists)
        reader = RecordReader(client=client)
        waiting = sorted(group, key=lambda p: (p.sent_at or p.created_at, p.pk))
        for round_number in range(ROUNDS):
            settled = False
            for push in waiting:
                if round_number and push.reconcile_reason != ReconcileReason.SEVERAL:
                    continue  # its not-listed check of this pass is already counted
                push_reconcile(
                    push=push,
                    status_items=lists[_is_delete(push)],
                    source=source,
                    reader=reader,
                )
                push.refresh_from_db(fields=["state", "reconcile_note", "reconcile_reason"])
                settled = settled or push.state != State.UNKNOWN
            waiting = [p for p in waiting if p.state == State.UNKNOWN]
            if not settled or not waiting:
                break
        result.calls += len(reader.synced) + len(reader.reads)
        # A batch's webhook is kept under its batchId: once its items are adopted, it applies.
        for batch_id in sorted({p.batch_id for p in group if p.state != State.UNKNOWN} - {""}):
            webhook_events_apply_waiting(push_communication_id=batch_id)
        for push in group:
            if push.state == State.UNKNOWN:
                result.skipped.append(f"#{push.pk}: {push.reconcile_note}")
            else:
                result.done += 1
    return result


def pushes_reconcile_unknown(*, client: RailzClient | None = None) -> PushesActed:
    """Expire lost leases, then reconcile every unknown push (one call per connection, one
    more where a delete is among them)."""
    pushes_expire_leases()
    unknown = PushRequest.objects.filter(state=State.UNKNOWN).select_related("connection")
    return pushes_reconcile(pushes=unknown, client=client, source=Source.SYSTEM)


# --- a person decides -------------------------------------------------------------------------


def push_adopt_candidate(
    *,
    push: PushRequest,
    push_communication_id: str,
    user: Any = None,
    client: RailzClient | None = None,
    source: str = PushRequest.Source.STAFF,
) -> bool:
    """A person compared the candidates and decided which Railz push is this push's.

    Only a candidate the last reconciliation stored may be chosen, and only while no other
    push owns it; its current status is asked from Railz and applied. False if the push was
    settled a moment ago; PushRefused with the reason otherwise.
    """
    who = _settle_by_person(push, push_reconcile_plan, user) or "Staff"
    stored = {
        row.get("pushCommunicationId"): row
        for row in (push.reconcile_evidence or {}).get("candidates") or []
    }
    if push_communication_id not in stored:
        raise PushRefused(
            f"Railz push {push_communication_id} is not among the candidates of push "
            f"#{push.pk}; reconcile it again to see the current ones."
        )
    owner = PushRequest.objects.railz_pushes(push_communication_id).exclude(pk=push.pk).first()
    if owner is not None:
        raise PushRefused(
            f"Railz push {push_communication_id} already belongs to push #{owner.pk}."
        )
    client = _client(client)
    try:
        if _is_delete(push):
            body = client.delete_status(
                connection_uuid=push.connection.connection_uuid,
                delete_communication_id=push_communication_id,
            )
        else:
            body = client.push_status(
                connection_uuid=push.connection.connection_uuid,
                push_communication_id=push_communication_id,
            )
    except RailzError as exc:
        raise PushRefused(f"Railz could not be asked about {push_communication_id}: {exc}") from exc
    items = [
        i
        for i in body.get("data") or []
        if isinstance(i, dict) and _communication_id(i) == push_communication_id
    ]
    if not items:
        raise PushRefused(f"Railz no longer lists push {push_communication_id}.")
    row = stored[push_communication_id]
    seen = (
        f" Its record there has {identity_in_words(row['record'])}; this push sent "
        f"{identity_in_words(_pushed_identity(push))}."
        if row.get("record")
        else ""
    )
    event_source = Source.STAFF if source == PushRequest.Source.STAFF else Source.API
    if not push_apply_status(push=push, item=items[0], source=event_source):
        return False
    PushRequest.objects.filter(pk=push.pk).update(
        reconcile_evidence={**push.reconcile_evidence, "adopted": push_communication_id},
        reconcile_reason="",
    )
    push_note(
        push=push,
        source=event_source,
        message=f"{who} decided that Railz push {push_communication_id} (requested "
        f"{row.get('requestedOn')}) is this push's.{seen}",
    )
    webhook_events_apply_waiting(push_communication_id=push_communication_id)
    return True
