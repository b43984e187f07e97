"""Push requests in the admin: read-only history with the timeline, and the staff verbs.

Everyone with view access sees every push, its body and timeline; only holders of
`pushes.push_records` see (and can run) the actions, and the services refuse them anyway.
The record admins (invoices, later bills) plug in `push_records_action`, `push_update_action`
and `push_delete_action`. Every bulk action here first answers with a confirmation page saying
what will happen to each selected row, or why it will be skipped (from the same plan the
service checks before it acts); it runs only when that page is confirmed, and then reports
what it did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from pushes import registry
from pushes.dashboard import push_badge
from pushes.models import PushEvent, PushRequest
from pushes.push_selectors import (
    PUSH_PERMISSION,
    PUSH_VERBS_BY_NAME,
    PushVerb,
    push_plan_for,
    pushes_stuck,
)
from pushes.refusals import refusals_by_push, refusals_in_words
from pushes.services.identity import IDENTITY_FIELDS
from pushes.services.open_documents import push_request_release
from pushes.services.push_requests import (
    PushRefused,
    push_request_cancel,
    push_request_retry,
    push_resolve_not_received,
    pushes_refresh,
    pushes_request_bulk,
)
from pushes.services.reconcile import push_adopt_candidate, pushes_reconcile
from refs.admin import CappedCountPaginator
from sheets.exports import ExportMixin

State = PushRequest.State
LISTED_REASONS = 10


def has_push_permission(self, request: HttpRequest) -> bool:
    """`allowed_permissions = ("push",)` on any admin: holders of pushes.push_records only."""
    return request.user.has_perm(PUSH_PERMISSION)


def _report(request, *, did: str, done: int, skipped: list[str]) -> None:
    """One message with what was done, one with what was skipped and why."""
    if done:
        messages.success(request, f"{did}: {done}.")
    else:
        messages.info(request, f"{did}: none.")
    if skipped:
        listed = " ".join(skipped[:LISTED_REASONS])
        more = (
            f" (and {len(skipped) - LISTED_REASONS} more)" if len(skipped) > LISTED_REASONS else ""
        )
        messages.warning(request, f"Skipped {len(skipped)}: {listed}{more}")


# --- the confirmation page every bulk action shows first -------------------------------------

CONFIRMED = "confirm"


@dataclass(frozen=True)
class ConfirmRow:
    """One selected row on a confirmation page: what will happen to it, or why it is skipped."""

    label: str
    url: str
    outcome: str
    allowed: bool
    reason: str


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def action_confirmation(
    modeladmin, request, *, title: str, summary: str, button: str, rows: list[ConfirmRow], pks
) -> TemplateResponse:
    """What the chosen action will do to each selected row, and a button that runs it.

    The form posts the same action and selection back with `confirm=yes`; the action runs only
    then. The button is off when nothing would be done.
    """
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "summary": summary,
        "button": button,
        "rows": rows,
        "will_do": sum(row.allowed for row in rows),
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": list(pks),
        "confirm_field": CONFIRMED,
    }
    return TemplateResponse(request, "admin/pushes/action_confirmation.html", context)


def _confirmed(request) -> bool:
    return request.POST.get(CONFIRMED) == "yes"


def _change_url(obj) -> str:
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


# --- actions on records (invoices...) ---------------------------------------------------------


def _push_action(modeladmin, request, queryset, *, operation: str | None, title: str):
    records = list(queryset.select_related("connection"))
    deleting = operation == PushRequest.Operation.DELETE
    if not _confirmed(request):
        plans = [push_plan_for(record=r, operation=operation, user=request.user) for r in records]
        will = sum(not p.refused for p in plans)
        return action_confirmation(
            modeladmin,
            request,
            title=title,
            summary=f"{will} of {_plural(len(plans), 'selected record', 'selected records')} "
            f"will be {'deleted from the accounting system' if deleting else 'pushed'}; "
            f"{len(plans) - will} will not.",
            button=f"{'Delete' if deleting else 'Push'} {_plural(will, 'record', 'records')}",
            rows=[
                ConfirmRow(
                    label=str(p.record),
                    url=_change_url(p.record),
                    outcome="refused" if p.refused else p.operation,
                    allowed=not p.refused,
                    reason=p.reason,
                )
                for p in plans
            ],
            pks=[r.pk for r in records],
        )
    result = pushes_request_bulk(
        records=records,
        user=request.user,
        source=PushRequest.Source.STAFF,
        operation=operation,
    )
    if deleting:
        did = f"Queued {len(result.created)} delete(s) from the accounting system"
    else:
        creates = sum(p.operation == "create" for p in result.created)
        updates = len(result.created) - creates
        did = f"Queued {len(result.created)} push(es) ({creates} create, {updates} update)"
    _report(
        request,
        did=did,
        done=len(result.created),
        skipped=[reason for _, reason in result.refused],
    )
    return None


@admin.action(description="Push to the accounting system", permissions=["push"])
def push_records_action(modeladmin, request, queryset):
    return _push_action(
        modeladmin, request, queryset, operation=None, title="Push to the accounting system"
    )


@admin.action(description="Push update to the accounting system", permissions=["push"])
def push_update_action(modeladmin, request, queryset):
    return _push_action(
        modeladmin,
        request,
        queryset,
        operation=PushRequest.Operation.UPDATE,
        title="Push update to the accounting system",
    )


@admin.action(description="Delete from the accounting system", permissions=["push"])
def push_delete_action(modeladmin, request, queryset):
    # The record stays here (with its history); only the accounting system's copy goes.
    return _push_action(
        modeladmin,
        request,
        queryset,
        operation=PushRequest.Operation.DELETE,
        title="Delete from the accounting system",
    )


# --- the push request admin -------------------------------------------------------------------


class StuckFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("stuck", "Pushing too long"),
            ("unknown", "Outcome unknown"),
            ("held", "Held for a person"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "stuck":
            return queryset.filter(pk__in=pushes_stuck().values("pk"))
        if self.value() == "unknown":
            return queryset.filter(state=State.UNKNOWN)
        if self.value() == "held":
            return queryset.filter(state=State.QUEUED).exclude(held_reason="")
        return queryset


class DataTypeFilter(admin.AllValuesFieldListFilter):
    """The record types the registry declares, not the distinct values read from every push
    (a scan of the whole history on each visit of the list); same parameter as Django's."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = sorted(registry.PUSHABLE_TYPES)


def _record_words(push: PushRequest, record) -> str:
    """ "Invoice INV-1042 for Beacon Brewing", or its type and number when it is gone."""
    if record is not None:
        try:
            return registry.for_model(record).describe(record)
        except registry.UnknownPushable:
            return str(record)
    return f"{push.content_type.name} #{push.object_id}"


class NamedRecordsChangeList(ChangeList):
    """The push list names each push's record: one query per record type on the page."""

    def get_results(self, request):
        super().get_results(request)
        wanted: dict[int, set[int]] = {}
        for push in self.result_list:
            wanted.setdefault(push.content_type_id, set()).add(push.object_id)
        found = {}
        for content_type_id, ids in wanted.items():
            model = ContentType.objects.get_for_id(content_type_id).model_class()
            if model is None:
                continue
            try:
                party = registry.for_model(model).spec.party
            except registry.UnknownPushable:
                party = None
            rows = model._default_manager.filter(pk__in=ids)
            if party:
                rows = rows.select_related(party)
            found.update({(content_type_id, row.pk): row for row in rows})
        refusals = refusals_by_push(self.result_list)
        for push in self.result_list:
            push._listed_record = found.get((push.content_type_id, push.object_id))
            push._refusals = refusals.get(push.pk, [])


def _errors_in_words(push: PushRequest) -> str:
    refusals = getattr(push, "_refusals", None)
    if refusals is None:
        refusals = refusals_in_words(push)
    return " ".join(refusal.words for refusal in refusals)


@admin.register(PushRequest)
class PushRequestAdmin(ExportMixin, admin.ModelAdmin):
    # The state legend and the date navigation read from the running totals (this template
    # extends the export mixin's, so the export links stay).
    change_list_template = "admin/pushes/pushrequest/change_list.html"
    list_display = (
        "record_link",
        "operation",
        "state_badge",
        "asked_by",
        "problem",
    )
    list_filter = (
        StuckFilter,
        "state",
        "reconcile_reason",
        "operation",
        ("data_type", DataTypeFilter),
        "source",
        "connection",
    )
    list_select_related = ("connection", "content_type", "requested_by")
    search_fields = (
        "=push_communication_id",
        "=batch_id",
        "=object_id",
        "=provider_record_id",
    )
    show_full_result_count = False
    # A page of a million pushes counts at most COUNT_CAP + 1 of them, never the history.
    paginator = CappedCountPaginator
    list_per_page = 50
    date_hierarchy = "created_at"
    actions = (
        "retry_pushes",
        "refresh_status",
        "reconcile_pushes",
        "cancel_queued",
        "release_held",
        "mark_never_received",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "record_link",
                    "connection",
                    "data_type",
                    "operation",
                    "provider_record_id",
                    "state",
                    "outcome_in_words",
                    "reconcile_reason",
                    "reconcile_note",
                    "push_communication_id",
                    "batch_id",
                    "source_object_ids",
                    "response_code",
                    "requested_on",
                    "completed_on",
                )
            },
        ),
        (
            "Attempts",
            {
                "fields": (
                    "attempts",
                    "sent_at",
                    "next_attempt_at",
                    "last_error",
                    "requested_by",
                    "source",
                    "retry_of",
                    "created_at",
                    "updated_at",
                )
            },
        ),
        ("Body sent", {"fields": ("body_pretty",)}),
        ("Timeline", {"fields": ("timeline",)}),
    )
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])

    has_push_permission = has_push_permission

    class Media:
        css = {"all": ("pushes/record.css", "pushes/dashboard/dashboard.css")}

    def has_add_permission(self, request):
        return False

    def get_fieldsets(self, request, obj=None):
        if obj is None or not obj.is_terminal:
            return self.fieldsets
        # A push that has ended is never attempted again: no "next attempt" to read.
        return tuple(
            (
                title,
                {
                    **options,
                    "fields": tuple(f for f in options["fields"] if f != "next_attempt_at"),
                },
            )
            for title, options in self.fieldsets
        )

    def has_change_permission(self, request, obj=None):
        # The history is never edited by hand; the actions go through the services.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist(self, request, **kwargs):
        return NamedRecordsChangeList

    # --- display ------------------------------------------------------------------------------

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: PushRequest):
        badge = push_badge(obj.state, held=bool(obj.held_reason))
        return render_to_string("pushes/badge.html", {"badge": badge})

    @admin.display(description="asked by", ordering="created_at")
    def asked_by(self, obj: PushRequest):
        who = obj.requested_by.get_username() if obj.requested_by else obj.get_source_display()
        return format_html(
            '{}<span class="record-list__when">{}</span>',
            who,
            f"{timezone.localtime(obj.created_at):%-d %b %H:%M}",
        )

    @admin.display(description="record")
    def record_link(self, obj: PushRequest):
        model = obj.content_type.model_class()
        record = getattr(obj, "_listed_record", None)
        label = _record_words(obj, record)
        if model is None:
            return label
        try:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[obj.object_id],
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="why")
    def problem(self, obj: PushRequest) -> str:
        refused = _errors_in_words(obj)
        if refused:
            return refused  # in full: the next step closes it
        text = obj.held_reason or obj.reconcile_note or obj.last_error
        return text[:160] + ("…" if len(text) > 160 else "")

    @admin.display(description="outcome")
    def outcome_in_words(self, obj: PushRequest) -> str:
        words = {
            State.QUEUED: "Waiting to be sent.",
            State.SUBMITTING: "Being sent to Railz.",
            State.PENDING: "Railz accepted it; waiting for the accounting system.",
            State.SUCCESS: "Done in the accounting system.",
            State.FAILED: "The accounting system did not take it.",
            State.REJECTED: "Railz refused the request; nothing was created.",
            State.UNKNOWN: "It may or may not have reached Railz; it is not sent again until "
            "this is settled.",
            State.CANCELLED: "Cancelled before it was sent.",
        }[obj.state]
        if obj.state == State.QUEUED and obj.held_reason:
            words = f"{obj.held_reason} Release it or cancel it."
        errors = _errors_in_words(obj)
        return f"{words} {errors}" if errors else words

    @admin.display(description="body")
    def body_pretty(self, obj: PushRequest):
        return format_html(
            '<pre style="white-space: pre-wrap">{}</pre>', json.dumps(obj.body, indent=2)
        )

    @admin.display(description="timeline")
    def timeline(self, obj: PushRequest):
        rows = []
        for event in obj.events.order_by("at", "pk"):
            if event.kind == PushEvent.Kind.EXCHANGE:
                what = f"{event.method} {event.path} → {event.status_code or 'no answer'}"
                if event.duration_ms is not None:
                    what += f" in {event.duration_ms} ms"
                detail = json.dumps(event.response_body)[:400] if event.response_body else ""
                detail = event.message or detail
            elif event.kind == PushEvent.Kind.STATE:
                what = f"{event.from_state or '—'} → {event.to_state}"
                detail = event.message
            else:
                what, detail = "note", event.message
            rows.append((f"{event.at:%Y-%m-%d %H:%M:%S}", event.source, what, detail))
        return format_html(
            "<table><thead><tr><th>when (UTC)</th><th>from</th><th>what</th><th>detail</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    # --- reconciliation evidence and a person's decision --------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        push = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if push is not None:
            extra["reconcile"] = reconcile_evidence_view(push, user=request.user)
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/adopt/",
                self.admin_site.admin_view(require_POST(self.adopt_view)),
                name="pushes_pushrequest_adopt",
            ),
            *super().get_urls(),
        ]

    def adopt_view(self, request, object_id):
        """A person adopts one stored candidate for an unknown push (its page showed them)."""
        if not has_push_permission(self, request):
            raise PermissionDenied
        push = get_object_or_404(PushRequest.objects.select_related("connection"), pk=object_id)
        candidate = request.POST.get("candidate", "")
        try:
            if push_adopt_candidate(push=push, push_communication_id=candidate, user=request.user):
                messages.success(
                    request, f"Push #{push.pk} is Railz push {candidate} now, as you decided."
                )
            else:
                messages.warning(
                    request, f"Push #{push.pk} changed state a moment ago; look again."
                )
        except PushRefused as exc:
            messages.error(request, f"Not adopted: {exc}")
        return HttpResponseRedirect(reverse("admin:pushes_pushrequest_change", args=[push.pk]))

    # --- actions ------------------------------------------------------------------------------

    def _preview_or_run(self, request, queryset: QuerySet[PushRequest], *, name: str):
        verb = PUSH_VERBS_BY_NAME[name]
        pushes = list(queryset.select_related("connection", "content_type"))
        if _confirmed(request):
            self.push_verb_run(request, pushes, verb=verb)
            return None
        plans = [verb.plan(push=push, user=request.user) for push in pushes]
        will = sum(plan.allowed for plan in plans)
        return action_confirmation(
            self,
            request,
            title=f"{verb.label}: what will happen",
            summary=f"{will} of {_plural(len(plans), 'selected push', 'selected pushes')} "
            f"will be {verb.done}; {len(plans) - will} will be skipped.",
            button=f"{verb.label} ({_plural(will, 'push', 'pushes')})",
            rows=[
                ConfirmRow(
                    label=str(plan.push),
                    url=reverse("admin:pushes_pushrequest_change", args=[plan.push.pk]),
                    outcome=verb.done if plan.allowed else "skipped",
                    allowed=plan.allowed,
                    reason=plan.reason,
                )
                for plan in plans
            ],
            pks=[push.pk for push in pushes],
        )

    def push_verb_run(self, request, pushes: list[PushRequest], *, verb: PushVerb) -> None:
        """Run `verb` on `pushes` now and say what it did and what it skipped, and why.

        Called once a person confirmed: from the list's confirmation page, or from the button
        on a push's own page.
        """
        user = request.user
        staff = PushEvent.Source.STAFF
        if verb.name == "refresh_status":
            result = pushes_refresh(pushes=pushes, user=user, source=staff)
            did = (
                f"Asked Railz about {result.asked} pending push(es) in {result.calls} call(s); "
                "outcome known now"
            )
            _report(request, did=did, done=result.done, skipped=result.skipped)
            return
        if verb.name == "reconcile_pushes":
            result = pushes_reconcile(pushes=pushes, user=user, source=staff)
            _report(request, did="Reconciled", done=result.done, skipped=result.skipped)
            return
        service, did = {
            "retry_pushes": (push_request_retry, "Retried"),
            "cancel_queued": (push_request_cancel, "Cancelled"),
            "release_held": (push_request_release, "Released"),
            "mark_never_received": (
                push_resolve_not_received,
                "Marked as never received (can be retried now)",
            ),
        }[verb.name]
        done, skipped = 0, []
        for push in pushes:
            try:
                if service(push=push, user=user):
                    done += 1
                else:
                    # The plan allowed it, but a worker or a poll moved the push meanwhile.
                    skipped.append(f"Push #{push.pk} changed state a moment ago; look again.")
            except PushRefused as exc:
                skipped.append(str(exc))
        _report(request, did=did, done=done, skipped=skipped)

    @admin.action(description="Retry (a new attempt linked to this one)", permissions=["push"])
    def retry_pushes(self, request, queryset: QuerySet[PushRequest]):
        return self._preview_or_run(request, queryset, name="retry_pushes")

    @admin.action(description="Refresh status now", permissions=["push"])
    def refresh_status(self, request, queryset: QuerySet[PushRequest]):
        return self._preview_or_run(request, queryset, name="refresh_status")

    @admin.action(description="Reconcile unknown outcome", permissions=["push"])
    def reconcile_pushes(self, request, queryset: QuerySet[PushRequest]):
        return self._preview_or_run(request, queryset, name="reconcile_pushes")

    @admin.action(description="Cancel queued pushes", permissions=["push"])
    def cancel_queued(self, request, queryset: QuerySet[PushRequest]):
        return self._preview_or_run(request, queryset, name="cancel_queued")

    @admin.action(description="Release held payments", permissions=["push"])
    def release_held(self, request, queryset: QuerySet[PushRequest]):
        return self._preview_or_run(request, queryset, name="release_held")

    @admin.action(
        description="Mark as never received (checked in the accounting system)",
        permissions=["push"],
    )
    def mark_never_received(self, request, queryset: QuerySet[PushRequest]):
        return self._preview_or_run(request, queryset, name="mark_never_received")


def _when(value) -> object:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed or value


def reconcile_evidence_view(push: PushRequest, *, user) -> dict | None:
    """What the last reconciliation stored, shaped for the push's page: each candidate's
    record next to this push's body, field by field. Reads the push only; never calls Railz."""
    evidence = push.reconcile_evidence or {}
    if not evidence:
        return None
    this = evidence.get("this") or {}
    others = {
        p.pk: p
        for p in PushRequest.objects.filter(
            pk__in={
                pk
                for row in evidence.get("candidates") or []
                for pk in row.get("otherOwners") or []
            }
        )
    }
    candidates = []
    for row in evidence.get("candidates") or []:
        record = row.get("record")
        candidates.append(
            {
                "id": row.get("pushCommunicationId"),
                "requested_on": _when(row.get("requestedOn")),
                "requested_raw": row.get("requestedOn") or "",
                "status": row.get("status"),
                "source_object_ids": row.get("sourceObjectIds") or [],
                "fields": [
                    (
                        name,
                        record.get(name),
                        this.get(name),
                        not (record.get(name) and this.get(name))
                        or record.get(name) == this.get(name),
                    )
                    for name in IDENTITY_FIELDS
                ]
                if record
                else [],
                "matches_this": row.get("matchesThis"),
                "read_problem": row.get("readProblem", ""),
                "other_owners": [others[pk] for pk in row.get("otherOwners") or [] if pk in others],
                "matches_others": row.get("matchesOthers") or [],
            }
        )
    return {
        "checked_at": _when(evidence.get("checkedAt")),
        "note": push.reconcile_note if push.state == State.UNKNOWN else "",
        "adopted": evidence.get("adopted", ""),
        "proof": evidence.get("proof", ""),
        "checks": [_when(at) for at in evidence.get("notListed") or []],
        "listed": evidence.get("listedInWindow") or [],
        "candidates": candidates,
        "can_decide": push.state == State.UNKNOWN and user.has_perm(PUSH_PERMISSION),
    }
