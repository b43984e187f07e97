"""Staff endpoints behind the live pages: the dashboard's refresh, a record's push state,
pushing one record (invoice, bill, credit note) from its page, and running a verb on one push.

Thin shells: reads come from `pushes.dashboard`, writes go through the pipeline's services (or
the push request admin's own actions), and every endpoint is for staff only. The JSON ones
answer 403 in JSON instead of redirecting to a login page a script cannot follow.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from pushes import registry
from pushes.dashboard import dashboard_build
from pushes.models import AlertPreference, PushRequest
from pushes.push_selectors import (
    PUSH_PERMISSION,
    PUSH_VERBS_BY_NAME,
    connections_paused,
    push_plan_for,
)
from pushes.selectors import records_with_push_state
from pushes.services.alerts import alert_preference_of, alert_preference_set
from pushes.services.approvals import ApprovalRefused, approval_submit
from pushes.services.connection_pauses import connection_resume
from pushes.services.push_requests import PushRefused, push_request_create
from pushes.templatetags.pushes_pages import record_panel_context

# The parts of the dashboard the refresh swaps, each a template of its own.
DASHBOARD_PARTS = ("attention", "connections", "budget", "charts")


def staff_json(permission: str):
    """Staff holding `permission` only; anyone else gets a 403 in JSON (never a redirect)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            user = request.user
            if not (user.is_active and user.is_staff):
                return JsonResponse({"error": "Staff login required."}, status=403)
            if not user.has_perm(permission):
                return JsonResponse(
                    {"error": "You do not have permission to see this."}, status=403
                )
            return view(request, *args, **kwargs)

        return never_cache(wrapped)

    return decorator


@require_GET
@staff_json("pushes.view_pushrequest")
def dashboard_parts(request: HttpRequest) -> JsonResponse:
    """The dashboard's parts as HTML, for the page to swap in place every few seconds."""
    dashboard = dashboard_build(user=request.user)
    context = {"dashboard": dashboard, "request": request}
    return JsonResponse(
        {
            "generatedAt": dashboard.now.isoformat(),
            "failuresTotal": dashboard.failures_total,
            "parts": {
                name: render_to_string(f"pushes/dashboard/_{name}.html", context, request)
                for name in DASHBOARD_PARTS
            },
        }
    )


def _record(data_type: str, pk: int):
    spec = registry.for_data_type(data_type).spec
    queryset = spec.model_class.objects.select_related(*spec.related)
    return get_object_or_404(records_with_push_state(queryset), pk=pk)


@require_GET
@never_cache
def record_push_status(request: HttpRequest, data_type: str, pk: int) -> JsonResponse:
    """The record's push state, provider id and push history, as data and as HTML parts.

    `?buttons=1` adds the push buttons (their plan checks the whole record, so the page asks
    for them only when the state has changed).
    """
    model_name = registry.for_data_type(data_type).spec.model_class._meta.model_name
    return staff_json(f"pushes.view_{model_name}")(_record_push_status)(request, data_type, pk)


def _record_push_status(request: HttpRequest, data_type: str, pk: int) -> JsonResponse:
    record = _record(data_type, pk)
    with_buttons = request.GET.get("buttons") == "1"
    context = record_panel_context(record=record, user=request.user, with_buttons=with_buttons)
    state = context["state"]
    parts = {
        "state": render_to_string("pushes/_record_state.html", context, request),
        "history": render_to_string("pushes/_record_history.html", context, request),
    }
    if with_buttons:
        parts["actions"] = render_to_string("pushes/_record_actions.html", context, request)
    return JsonResponse(
        {
            "state": state.key,
            "label": state.label,
            "tone": state.colour,
            "providerRecordId": record.provider_record_id,
            "pushing": state.key == "pushing",
            "history": [
                {
                    "id": row.push.pk,
                    "state": row.push.state,
                    "operation": row.push.operation,
                    "createdAt": row.push.created_at.isoformat(),
                    "completedOn": row.push.completed_on.isoformat()
                    if row.push.completed_on
                    else None,
                    "message": row.message,
                }
                for row in context["history"]
            ],
            "parts": parts,
        }
    )


def _require_push_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(PUSH_PERMISSION):
        raise PermissionDenied("You do not have permission to push records.")


# `?operation=` of the invoice's push buttons: the title of the confirmation page and the label
# of its button, by the operation asked for (none: create, or update if it changed).
PUSH_PAGES = {
    None: ("Push to the accounting system", "Confirm: push now"),
    PushRequest.Operation.UPDATE: ("Push update to the accounting system", "Confirm: push now"),
    PushRequest.Operation.DELETE: ("Delete from the accounting system", "Confirm: delete now"),
}


def record_push(request: HttpRequest, data_type: str, pk: int) -> HttpResponse:
    """GET: what pushing (or deleting) the record would do, to confirm; POST: queue it."""
    _require_push_permission(request)
    invoice = _record(data_type, pk)
    opts = invoice._meta
    operation = request.GET.get("operation")
    if operation not in PUSH_PAGES:
        operation = None
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[invoice.pk])
    if request.method == "POST":
        try:
            push = push_request_create(
                record=invoice,
                user=request.user,
                source=PushRequest.Source.STAFF,
                operation=operation,
            )
        except PushRefused as exc:
            messages.error(request, f"Not pushed: {exc}")
        else:
            messages.success(
                request,
                f"Push #{push.pk} queued ({push.operation}); its state updates on this page.",
            )
        return HttpResponseRedirect(change_url)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    plan = push_plan_for(record=invoice, operation=operation, user=request.user)
    title, confirm_label = PUSH_PAGES[operation]
    context = {
        **admin.site.each_context(request),
        "title": title,
        "confirm_label": confirm_label,
        "opts": opts,
        "record": invoice,
        "plan": plan,
        "change_url": change_url,
    }
    return TemplateResponse(request, "pushes/record_push_confirm.html", context)


@require_POST
def push_request_verb(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """Run one of the push request admin's actions on this push (its page asked first)."""
    _require_push_permission(request)
    push = get_object_or_404(PushRequest.objects.select_related("connection"), pk=pk)
    change_url = reverse("admin:pushes_pushrequest_change", args=[push.pk])
    chosen = PUSH_VERBS_BY_NAME.get(verb)
    if chosen is None:
        raise Http404("No such action.")
    plan = chosen.plan(push=push, user=request.user)
    if not plan.allowed:
        messages.warning(
            request, f"That action no longer applies to push #{push.pk}: {plan.reason}"
        )
        return HttpResponseRedirect(change_url)
    admin.site._registry[PushRequest].push_verb_run(request, [push], verb=chosen)
    return HttpResponseRedirect(change_url)


def connection_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: why the connection is paused and what resuming sends; POST: resume it."""
    _require_push_permission(request)
    paused = connections_paused(connection_ids=[pk])
    home = reverse("admin:index")
    if request.method == "POST":
        if not paused:
            messages.info(request, "That connection is not paused any more.")
            return HttpResponseRedirect(home)
        sent = connection_resume(connection_id=pk, user=request.user)
        messages.success(
            request,
            f"{paused[0].pause.connection} resumed: {sent} waiting push(es) are being sent. "
            "If the connection is still broken, it pauses again with the reason.",
        )
        return HttpResponseRedirect(home)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    if not paused:
        raise Http404("That connection is not paused.")
    context = {
        **admin.site.each_context(request),
        "title": f"Resume pushing to {paused[0].pause.connection}",
        "paused": paused[0],
        "home": home,
    }
    return TemplateResponse(request, "pushes/connection_resume.html", context)


@require_POST
def record_submit_approval(request: HttpRequest, data_type: str, pk: int) -> HttpResponse:
    """Submit the record's push (`?operation=`) for approval, from its page."""
    _require_push_permission(request)
    record = _record(data_type, pk)
    opts = record._meta
    operation = request.GET.get("operation")
    if operation not in PUSH_PAGES:
        operation = None
    try:
        approval_submit(record=record, user=request.user, operation=operation)
    except ApprovalRefused as exc:
        messages.error(request, f"Not submitted: {exc}")
    else:
        messages.success(
            request, "Submitted for approval: someone with the approval permission decides."
        )
    return HttpResponseRedirect(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
    )


def alert_settings(request: HttpRequest) -> HttpResponse:
    """Each person's own choice: alerts by email immediately, in a daily digest, or none."""
    if request.method == "POST":
        delivery = request.POST.get("delivery", "")
        if delivery in AlertPreference.Delivery.values:
            alert_preference_set(user=request.user, delivery=delivery)
            messages.success(request, "Your alert setting is saved.")
            return HttpResponseRedirect(reverse("pushes-alert-settings"))
        messages.error(request, "Choose one of the three settings.")
    elif request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    context = {
        **admin.site.each_context(request),
        "title": "Your alerts",
        "choices": AlertPreference.Delivery.choices,
        "current": alert_preference_of(request.user),
        "email": request.user.email,
    }
    return TemplateResponse(request, "pushes/alert_settings.html", context)
