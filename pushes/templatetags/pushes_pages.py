"""Template tags of the staff pages: the home dashboard, badges and a record's push panel.

They render from `pushes.dashboard`, so the admin's templates need no view of their own: the
index and every record type's change form include a tag, and the JSON endpoints render the
same parts.
"""

from __future__ import annotations

import json

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.urls import reverse

from pushes.approval_selectors import approval_timeline
from pushes.dashboard import (
    RECORD_ICONS,
    STATE_LEGEND,
    PushPeriods,
    dashboard_build,
    push_badge,
    push_exchanges,
    push_hours_with_pushes,
    record_push_history,
)
from pushes.models import PushRequest
from pushes.push_selectors import (
    PUSH_PERMISSION,
    connections_paused,
    push_plan_for,
    push_verbs_allowed,
)

register = template.Library()


class _CountedDates:
    """The push list as Django's date navigation sees it, but with the dates read from the
    running totals of pushes per hour (a few rows an hour) instead of every push: Django's
    navigation reads the distinct years, months or days of the whole filtered list."""

    def __init__(self, cl) -> None:
        self.date_hierarchy = cl.date_hierarchy
        self.model = cl.model
        self.params = cl.params
        self.get_query_string = cl.get_query_string

        def param(name):
            value = cl.params.get(f"{cl.date_hierarchy}__{name}")
            return value[-1] if isinstance(value, list) else value

        common = {
            "as_field": cl.date_hierarchy,
            "connection_id": cl.params.get("connection__id__exact"),
        }
        self.queryset = PushPeriods(
            push_hours_with_pushes(
                **common, year=param("year"), month=param("month"), day=param("day")
            ),
            every_period=push_hours_with_pushes(**common),
        )


@register.inclusion_tag("admin/date_hierarchy.html")
def push_date_hierarchy(cl):
    return date_hierarchy(_CountedDates(cl))


@register.inclusion_tag("pushes/dashboard/dashboard.html", takes_context=True)
def pushes_dashboard(context):
    request = context["request"]
    return {
        "dashboard": dashboard_build(user=request.user),
        "refresh_url": reverse("pushes-dashboard-parts"),
        "request": request,
    }


@register.inclusion_tag("pushes/badge.html")
def push_state_badge(state: str):
    return {"badge": push_badge(state)}


APPROVAL_REQUIRED = "approvalRequired"


def _push_button(plan, *, record, label: str, url: str, operation, user) -> dict:
    """Push (or delete) as it stands; under an approval policy, "Submit for approval" with the
    plan of the push once approved."""
    query = f"?operation={operation}" if operation else ""
    if plan.rule == APPROVAL_REQUIRED:
        submit = push_plan_for(record=record, operation=operation, user=user, approval=False)
        submit_url = reverse(f"pushes-{record._meta.model_name}-submit-approval", args=[record.pk])
        return {
            "label": f"Submit for approval ({label.lower()})"
            if operation
            else "Submit for approval",
            "url": submit_url + query,
            "operation": operation or "",
            "plan": submit,
            "approval": True,
            "note": plan.reason,
        }
    return {"label": label, "url": url + query, "operation": operation or "", "plan": plan}


def record_panel_context(*, record, user, with_buttons: bool = True) -> dict:
    """What a record's push panel shows; the status endpoint renders the same parts (and
    leaves out the buttons, whose plan checks the whole record)."""
    from pushes.selectors import record_push_state

    invoice = record
    model_name = record._meta.model_name
    state = record_push_state(invoice)
    can_push = user.has_perm(PUSH_PERMISSION)
    buttons = []
    if can_push and with_buttons:
        url = reverse(f"pushes-{model_name}-push", args=[invoice.pk])
        in_flight = PushRequest.objects.for_record(invoice).in_flight().first()
        operation = "update" if invoice.provider_record_id else None
        plan = push_plan_for(record=invoice, operation=operation, user=user, in_flight=in_flight)
        buttons.append(
            _push_button(
                plan,
                record=invoice,
                label="Push update" if operation else "Push",
                url=url,
                operation=operation,
                user=user,
            )
        )
        # Offered only when it can be done: a refused delete is no news next to Push.
        delete = push_plan_for(record=invoice, operation="delete", user=user, in_flight=in_flight)
        if not delete.refused or delete.rule == APPROVAL_REQUIRED:
            buttons.append(
                _push_button(
                    delete,
                    record=invoice,
                    label="Delete from the accounting system",
                    url=url,
                    operation="delete",
                    user=user,
                )
            )
    return {
        "record": invoice,
        "state": state,
        "state_icon": RECORD_ICONS.get(state.key, "•"),
        "history": record_push_history(record=invoice),
        "status_url": reverse(f"pushes-{model_name}-push-status", args=[invoice.pk]),
        "can_push": can_push,
        "buttons": buttons,
        "paused": next(iter(connections_paused(connection_ids=[record.connection_id])), None),
        # Shown with the buttons, which the page asks for only when the state changed.
        "approvals": approval_timeline(record=invoice) if with_buttons else [],
    }


@register.inclusion_tag("pushes/record_push_panel.html", takes_context=True)
def record_push_panel(context, record):
    if record is None or record.pk is None:
        return {"record": None}
    context_data = record_panel_context(record=record, user=context["request"].user)
    return {**context_data, "csrf_token": context.get("csrf_token")}


@register.filter
def pretty_json(value) -> str:
    """A stored body as indented JSON (the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@register.inclusion_tag("pushes/push_request_verbs.html", takes_context=True)
def push_request_verbs(context, push):
    """The buttons for what may be done with this push now (none without the permission)."""
    if push is None:
        return {"verbs": []}
    return {
        "push": push,
        "verbs": push_verbs_allowed(push=push, user=context["request"].user),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("pushes/push_exchanges.html")
def push_request_exchanges(push):
    """Every HTTP exchange of the push with Railz, with the bodies sent and received."""
    return {"push": push, "events": push_exchanges(push=push)}


@register.inclusion_tag("pushes/_state_legend.html")
def push_state_legend():
    """What each push state means and what to do: beside every list of states."""
    return {"legend": STATE_LEGEND}


@register.inclusion_tag("pushes/_compose_links.html", takes_context=True)
def record_compose_links(context):
    """ "New invoice", "New bill", ...: one button for every registered type the person may
    add, in the registry's order."""
    from pushes import registry

    user = context["request"].user
    links = []
    for pushable in registry.pushables():
        opts = pushable.model._meta
        if user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
            links.append(
                {
                    "label": f"New {pushable.spec.label.lower()}",
                    "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_add"),
                    "list_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
                    "plural": pushable.spec.label_plural,
                }
            )
    return {"links": links}


@register.filter
def make_list_of_one(value):
    return [value]
