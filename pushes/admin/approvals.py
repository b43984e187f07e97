"""Approvals in the admin: each connection's policy (superusers only) and the approvers' queue.

The queue is the list of submissions waiting for approval (other states behind the filter);
a submission's page shows the body to be sent in words and what changed since the version last
pushed, with Approve and Reject (a comment each). "Approve" on the list works like every other
bulk action: a page first says what will happen to each selected submission (one the approver
prepared is skipped), and it runs only when confirmed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from pushes.admin.push_requests import (
    ConfirmRow,
    _change_url,
    _confirmed,
    _plural,
    _report,
    action_confirmation,
)
from pushes.approval_selectors import (
    APPROVE_PERMISSION,
    approval_decision_plan,
    body_differences,
    body_in_words,
    last_pushed_body,
)
from pushes.models import AlertWebhook, ApprovalPolicy, ApprovalRequest
from pushes.push_selectors import push_plan_for
from pushes.services.approvals import (
    ApprovalRefused,
    approval_approve,
    approval_reject,
    approval_submit,
)


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    list_display = ("connection", "rule", "threshold", "thresholds_by_type", "updated_by")
    fields = ("connection", "rule", "threshold", "thresholds_by_type")
    autocomplete_fields = ()

    def _superuser(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    has_view_permission = has_add_permission = _superuser
    has_change_permission = has_delete_permission = _superuser

    def has_module_permission(self, request):
        return self._superuser(request)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class WaitingFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("all", "All"), *ApprovalRequest.State.choices]

    def choices(self, changelist):
        # Waiting is what an approver opens the list for: it is the default.
        value = self.value() or ApprovalRequest.State.WAITING
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or ApprovalRequest.State.WAITING
        if value == "all":
            return queryset
        if value == ApprovalRequest.State.WAITING:
            return queryset.filter(state=value, push__isnull=True)
        return queryset.filter(state=value)


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    list_display = (
        "label",
        "operation",
        "amount_in_words",
        "connection",
        "submitted_by",
        "submitted_at",
        "state",
        "decided_by",
    )
    list_filter = (WaitingFilter, "connection")
    list_select_related = ("connection", "submitted_by", "decided_by")
    actions = ("approve_selected",)
    change_form_template = "admin/pushes/approvalrequest/change_form.html"
    fields = (
        "label",
        "record_link",
        "connection",
        "operation",
        "amount_in_words",
        "state",
        "submitted_by",
        "submitted_at",
        "decided_by",
        "decided_at",
        "comment",
        "voided_at",
        "void_reason",
        "push_link",
        "body_words",
        "differences",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # A decision is made with the buttons below, never by editing the row.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE_PERMISSION)

    # --- display ------------------------------------------------------------------------------

    @admin.display(description="amount")
    def amount_in_words(self, obj):
        return f"{obj.amount:,.2f} {obj.currency}" if obj.amount is not None else "—"

    @admin.display(description="record")
    def record_link(self, obj):
        url = _record_url(obj)
        return format_html('<a href="{}">{}</a>', url, obj.label) if url else obj.label

    @admin.display(description="push")
    def push_link(self, obj):
        if not obj.push_id:
            return "—"
        url = reverse("admin:pushes_pushrequest_change", args=[obj.push_id])
        return format_html('<a href="{}">Push #{}</a>', url, obj.push_id)

    @admin.display(description="what will be sent")
    def body_words(self, obj):
        rows = body_in_words(obj.body)
        if not rows:
            return "A delete sends no data: the record is removed from the accounting system."
        return format_html(
            '<table class="rp-approval-body">{}</table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description="changes since it was last pushed")
    def differences(self, obj):
        before = last_pushed_body(content_type_id=obj.content_type_id, object_id=obj.object_id)
        if before is None:
            return "Never pushed: all of it is new to the accounting system."
        changes = body_differences(body=obj.body, before=before)
        if not changes:
            return "Nothing changed since it was last pushed."
        return format_html(
            '<ul class="rp-approval-diff">{}</ul>',
            format_html_join("", "<li>{}</li>", ((c,) for c in changes)),
        )

    # --- deciding -----------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        approval = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if approval is not None:
            extra["decision"] = approval_decision_plan(approval=approval, user=request.user)
            extra["decide_url"] = reverse("admin:pushes_approvalrequest_decide", args=[approval.pk])
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(require_POST(self.decide_view)),
                name="pushes_approvalrequest_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk: int):
        approval = get_object_or_404(ApprovalRequest.objects.select_related("submitted_by"), pk=pk)
        comment = request.POST.get("comment", "")
        back = reverse("admin:pushes_approvalrequest_change", args=[pk])
        try:
            if request.POST.get("decision") == "approve":
                push = approval_approve(approval=approval, user=request.user, comment=comment)
                messages.success(request, f"Approved: push #{push.pk} is queued.")
                back = reverse("admin:pushes_approvalrequest_changelist")
            else:
                approval_reject(approval=approval, user=request.user, comment=comment)
                messages.success(request, f"Rejected: {approval.submitted_by} sees your comment.")
        except ApprovalRefused as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(back)

    @admin.action(description="Approve and push", permissions=["approve"])
    def approve_selected(self, request, queryset):
        approvals = list(queryset.select_related("submitted_by"))
        plans = [approval_decision_plan(approval=a, user=request.user) for a in approvals]
        if not _confirmed(request):
            will = sum(p.allowed for p in plans)
            return action_confirmation(
                self,
                request,
                title="Approve and push",
                summary=f"{will} of {_plural(len(plans), 'selected submission', 'submissions')}"
                f" will be approved and pushed; {len(plans) - will} will not.",
                button=f"Approve {_plural(will, 'submission', 'submissions')}",
                rows=[
                    ConfirmRow(
                        label=p.approval.label,
                        url=reverse("admin:pushes_approvalrequest_change", args=[p.approval.pk]),
                        outcome="approve" if p.allowed else "skipped",
                        allowed=p.allowed,
                        reason=p.reason,
                    )
                    for p in plans
                ],
                pks=[a.pk for a in approvals],
            )
        done, skipped = 0, []
        for approval in approvals:
            try:
                approval_approve(approval=approval, user=request.user)
            except ApprovalRefused as exc:
                skipped.append(str(exc))
            else:
                done += 1
        _report(request, did="Approved and queued", done=done, skipped=skipped)
        return None


def _record_url(obj: ApprovalRequest) -> str:
    model = obj.content_type.model_class()
    if model is None:
        return ""
    try:
        return reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.object_id]
        )
    except Exception:
        return ""


@admin.register(AlertWebhook)
class AlertWebhookAdmin(ApprovalPolicyAdmin):
    """Outgoing webhooks for chat tools: superusers only, like the approval policies."""

    list_display = ("url", "connection", "active")
    fields = ("connection", "url", "secret", "active")

    def save_model(self, request, obj, form, change):
        admin.ModelAdmin.save_model(self, request, obj, form, change)


@admin.action(description="Submit for approval", permissions=["push"])
def submit_for_approval_action(modeladmin, request, queryset):
    """Under an approval policy, the list's bulk push: each record is submitted for approval
    after a page saying which will be and why the others will not."""
    records = list(queryset.select_related("connection"))
    if not _confirmed(request):
        rows = []
        for record in records:
            plan = push_plan_for(record=record, user=request.user)
            allowed = plan.rule == "approvalRequired"
            reason = plan.reason
            if not plan.refused:
                reason = "No approval is needed: push it instead. " + plan.reason
            rows.append(
                ConfirmRow(
                    label=str(record),
                    url=_change_url(record),
                    outcome="submit" if allowed else "skipped",
                    allowed=allowed,
                    reason=reason,
                )
            )
        will = sum(row.allowed for row in rows)
        return action_confirmation(
            modeladmin,
            request,
            title="Submit for approval",
            summary=f"{will} of {_plural(len(rows), 'selected record', 'selected records')} "
            f"will be submitted for approval; {len(rows) - will} will not.",
            button=f"Submit {_plural(will, 'record', 'records')}",
            rows=rows,
            pks=[r.pk for r in records],
        )
    done, skipped = 0, []
    for record in records:
        try:
            approval_submit(record=record, user=request.user)
        except ApprovalRefused as exc:
            skipped.append(str(exc))
        else:
            done += 1
    _report(request, did="Submitted for approval", done=done, skipped=skipped)
    return None
