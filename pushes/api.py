"""REST API of the declared record types (invoices, bills, credit notes) and their pushes: thin
shells over the composer's and the pipeline's services, so the API and the admin cannot
disagree about a rule. One viewset class serves every type; `record_viewset` names it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from pushes import filters, registry, selectors, serializers
from pushes.approval_selectors import approvals_open_for
from pushes.models import ApprovalRequest, PushEvent, PushRequest
from pushes.push_options_selectors import push_operation_for, push_rules_unchecked
from pushes.push_selectors import (
    push_cancel_plan,
    push_never_received_plan,
    push_reconcile_plan,
    push_refresh_plan,
    push_release_plan,
)
from pushes.services.approvals import (
    ApprovalRefused,
    approval_approve,
    approval_reject,
    approval_submit,
)
from pushes.services.open_documents import push_request_release
from pushes.services.push_requests import (
    PushRefused,
    push_request_cancel,
    push_request_create,
    push_request_retry,
    push_resolve_not_received,
    pushes_poll_connection,
)
from pushes.services.reconcile import push_reconcile
from pushes.services.records import (
    RecordInvalid,
    record_create,
    record_notes,
    record_update,
    record_validate,
)
from pushes.spec import DocumentSpec, Kind
from railzpush.api.errors import ApiError, ProblemsError, error
from railzpush.api.idempotency import idempotent
from railzpush.api.pagination import NewestFirstCursorPagination
from railzpush.api.permissions import CanPushRecords
from railzpush.railz import RailzError

API = PushRequest.Source.API
# The rule code of `validate`'s note that the provider's push rules were not applied.
PROVIDER_RULES_UNKNOWN = "providerRulesUnknown"
PUSH_ACTIONS = {
    "push",
    "submit_for_approval",
    "push_update",
    "push_delete",
    "retry",
    "refresh",
    "reconcile",
    "cancel",
    "release",
    "never_received",
}


def _conflict(message: str, rule: str) -> ApiError:
    return ApiError(message, rule=rule, status_code=status.HTTP_409_CONFLICT)


def _railz_unavailable(exc: RailzError) -> ApiError:
    return ApiError(str(exc), rule="railzUnavailable", status_code=status.HTTP_502_BAD_GATEWAY)


class PushPermissionMixin:
    """The default permissions (staff, model permissions) for everything; the push actions
    also need `pushes.push_records`."""

    def get_permissions(self):
        if self.action in PUSH_ACTIONS:
            return [*super().get_permissions(), CanPushRecords()]
        return super().get_permissions()


def _push_answer(request, push: PushRequest, status_code: int) -> Response:
    push = PushRequest.objects.select_related("content_type", "requested_by").get(pk=push.pk)
    body = serializers.PushRequestSerializer(push, context={"request": request}).data
    location = reverse("push-detail", args=[push.pk])
    return Response(body, status=status_code, headers={"Location": location})


def _problems(exc: RecordInvalid) -> ProblemsError:
    return ProblemsError(serializers.problem_errors(exc.problems))


class RecordViewSet(
    PushPermissionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Records of one declared type composed for one connection; `validate` says what keeps
    one from being pushed. `record_viewset` makes one per type."""

    spec: DocumentSpec

    def get_queryset(self):
        model = self.spec.model_class
        if getattr(self, "swagger_fake_view", False):
            return model.objects.none()  # the schema is generated without a database
        queryset = model.objects.select_related(*self.spec.related).prefetch_related(
            *((self.spec.lines_prefetch(categories=False),) if self.spec.has_lines else ()),
            *(f.name for f in self.spec.fields if f.kind in (Kind.REFS, Kind.TRACKING)),
        )
        # Each record's push state comes with the page, not one query per record.
        return selectors.records_with_push_state(queryset)

    def _valid_serializer(self, **kwargs):
        serializer = self.get_serializer(**kwargs)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError as exc:
            raise ProblemsError(serializers.serializer_errors(exc, self.spec)) from None
        return serializer

    def _answer(self, record, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self._valid_serializer(data=request.data)
        try:
            record = record_create(
                data_type=self.spec.data_type, data=serializer.record_data(), user=request.user
            )
        except RecordInvalid as exc:
            raise _problems(exc) from None
        return self._answer(record, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        record = self.get_object()
        serializer = self._valid_serializer(instance=record, data=request.data, partial=partial)
        try:
            record = record_update(
                record=record, data=serializer.record_data(record=record), user=request.user
            )
        except RecordInvalid as exc:
            raise _problems(exc) from None
        return self._answer(record)

    def destroy(self, request, *args, **kwargs):
        record = self.get_object()
        label = self.spec.label
        with transaction.atomic():
            locked = self.spec.model_class.objects.select_for_update().get(pk=record.pk)
            pushes = PushRequest.objects.for_record(locked)
            if pushes.in_flight().exists():
                raise _conflict(
                    f"{label} {locked} has a push in progress; it cannot be deleted.",
                    "pushInFlight",
                )
            # A record the accounting system holds, or one with a push history, must stay:
            # the history (deleted with it) is what explains what happened to it.
            if locked.last_pushed_at is not None or locked.provider_record_id or pushes.exists():
                raise _conflict(
                    f"{label} {locked} has been pushed to the accounting system; only drafts "
                    "never pushed can be deleted.",
                    f"{self.spec.data_type.removesuffix('s')}Pushed",
                )
            locked.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: serializers.RecordValidationSerializer})
    @action(detail=True, methods=["get"])
    def validate(self, request, pk=None):
        """Every reason the record cannot be pushed now, with the admin's wording, and whether
        the provider's own push rules were among the checks."""
        record = self.get_object()
        problems = record_validate(record=record)
        # Until the provider's rules for this push are fetched, passing every check railzpush
        # has is not "ready": the accounting system may still refuse it. The answer says so as
        # the admin does, in words and in a field a program can branch on.
        operation = push_operation_for(record)
        unchecked = push_rules_unchecked(
            connection=record.connection, data_type=self.spec.data_type, operation=operation
        )
        return Response(
            {
                "valid": not problems,
                "operation": operation,
                "provider_rules_checked": not unchecked,
                "errors": serializers.problem_errors(problems),
                "notes": [
                    *([error("", PROVIDER_RULES_UNKNOWN, unchecked)] if unchecked else []),
                    *serializers.problem_errors(record_notes(record=record)),
                ],
            },
        )

    def _push(self, request, operation: str | None) -> Response:
        record = self.get_object()
        try:
            push = push_request_create(
                record=record, user=request.user, source=API, operation=operation
            )
        except PushRefused as exc:
            # The plan's code says which kind of refusal it was; the problems of a record
            # that is not ready are answered at their fields.
            if exc.rule == "pushInFlight":
                raise _conflict(str(exc), "pushInFlight") from None
            if exc.rule in ("notReady", "schema"):
                problems = record_validate(record=record)
                if problems:
                    raise ProblemsError(serializers.problem_errors(problems)) from None
            raise _conflict(str(exc), "pushRefused") from None
        return _push_answer(request, push, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: serializers.PushRequestSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def push(self, request, pk=None):
        """Queue a push of the record (an update if it is already in the accounting system and
        changed). The outcome arrives later: follow the push at its Location."""
        return self._push(request, operation=None)

    @extend_schema(request=None, responses={202: serializers.PushRequestSerializer})
    @action(detail=True, methods=["post"], url_path="push-update")
    @idempotent
    def push_update(self, request, pk=None):
        """Queue an update of the record already in the accounting system, changed or not
        (refused where Railz has no update for the type or the provider)."""
        return self._push(request, operation=PushRequest.Operation.UPDATE)

    @extend_schema(request=None, responses={202: serializers.PushRequestSerializer})
    @action(detail=True, methods=["post"], url_path="push-delete")
    @idempotent
    def push_delete(self, request, pk=None):
        """Queue a delete of the record from the accounting system (where Railz can delete
        it); the record stays here. Once it succeeds the record has no provider id, and a
        later push creates it again."""
        return self._push(request, operation=PushRequest.Operation.DELETE)


class ApprovalSerializer(drf_serializers.ModelSerializer):
    submitted_by = drf_serializers.StringRelatedField()
    decided_by = drf_serializers.StringRelatedField()
    # waiting, approved, rejected or voided (a plain string: pushes have a `state` enum too).
    state = drf_serializers.CharField(read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = (
            "id",
            "data_type",
            "object_id",
            "operation",
            "state",
            "amount",
            "currency",
            "submitted_by",
            "submitted_at",
            "decided_by",
            "decided_at",
            "comment",
            "voided_at",
            "void_reason",
            "push",
        )


class DecisionSerializer(drf_serializers.Serializer):
    comment = drf_serializers.CharField(required=False, allow_blank=True, max_length=2000)


# How a refused submission or decision answers: the rule's status.
APPROVAL_STATUS = {
    "permissionDenied": status.HTTP_403_FORBIDDEN,
    "selfApproval": status.HTTP_403_FORBIDDEN,
    "notWaiting": status.HTTP_409_CONFLICT,
    "approvalWaiting": status.HTTP_409_CONFLICT,
    "approvalVoid": status.HTTP_409_CONFLICT,
    "pushInFlight": status.HTTP_409_CONFLICT,
    "required": status.HTTP_400_BAD_REQUEST,
}


def _approval_error(exc: ApprovalRefused) -> ApiError:
    return ApiError(
        str(exc),
        rule=exc.rule,
        field="comment" if exc.rule == "required" else "",
        status_code=APPROVAL_STATUS.get(exc.rule, status.HTTP_409_CONFLICT),
    )


class ApprovalActionsMixin:
    """submit-for-approval, approve and reject: the approval verbs of every record type."""

    def _waiting_approval(self, record) -> ApprovalRequest:
        approval = (
            approvals_open_for(record)
            .filter(state=ApprovalRequest.State.WAITING)
            .select_related("submitted_by")
            .first()
        )
        if approval is None:
            raise ApiError(
                "Nothing of this record waits for approval.",
                rule="notWaiting",
                status_code=status.HTTP_409_CONFLICT,
            )
        return approval

    def _comment(self, request) -> str:
        decision = DecisionSerializer(data=request.data or {})
        decision.is_valid(raise_exception=True)
        return decision.validated_data.get("comment", "")

    @extend_schema(request=None, responses={201: ApprovalSerializer})
    @action(detail=True, methods=["post"], url_path="submit-for-approval")
    def submit_for_approval(self, request, pk=None):
        """Submit the record's push (`?operation=update|delete` as for push) for approval,
        where the connection's policy asks for one."""
        record = self.get_object()
        operation = request.query_params.get("operation") or None
        if operation not in (None, "update", "delete"):
            raise ApiError(
                "operation must be one of the following values: update, delete.",
                rule="enum",
                field="operation",
            )
        try:
            approval = approval_submit(record=record, user=request.user, operation=operation)
        except ApprovalRefused as exc:
            raise _approval_error(exc) from None
        return Response(ApprovalSerializer(approval).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={202: serializers.PushRequestSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve what waits for approval (never one's own) and queue its push."""
        record = self.get_object()
        comment = self._comment(request)
        try:
            push = approval_approve(
                approval=self._waiting_approval(record),
                user=request.user,
                comment=comment,
                source=API,
            )
        except ApprovalRefused as exc:
            raise _approval_error(exc) from None
        return _push_answer(request, push, status.HTTP_202_ACCEPTED)

    @extend_schema(request=DecisionSerializer, responses={200: ApprovalSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject what waits for approval with a comment (required) for its preparer."""
        record = self.get_object()
        comment = self._comment(request)
        try:
            approval = approval_reject(
                approval=self._waiting_approval(record), user=request.user, comment=comment
            )
        except ApprovalRefused as exc:
            raise _approval_error(exc) from None
        return Response(ApprovalSerializer(approval).data)


def record_viewset(data_type: str) -> type[RecordViewSet]:
    """The REST resource of a declared type (`/api/v1/<data_type>/`), read from its declaration."""
    spec = registry.for_data_type(data_type).spec
    search = [f.name for f in spec.fields if f.kind is Kind.TEXT and f.strip]
    name = spec.label.title().replace(" ", "")
    return type(
        f"{name}ViewSet",
        (ApprovalActionsMixin, RecordViewSet),
        {
            "__doc__": f"{spec.label_plural.capitalize()} composed for one connection; "
            "`validate` says what keeps one from being pushed.",
            "spec": spec,
            "queryset": spec.model_class.objects.none(),  # the model, for the schema
            "serializer_class": serializers.record_serializer(data_type),
            "filterset_class": filters.record_filterset(data_type),
            "search_fields": (*search, *((f"{spec.party}__name",) if spec.party else ())),
        },
    )


class PushRequestViewSet(PushPermissionMixin, viewsets.ReadOnlyModelViewSet):
    """Pushes, newest first, and what can be done with one that did not go as planned."""

    filterset_class = filters.PushRequestFilter
    pagination_class = NewestFirstCursorPagination
    search_fields = ("=push_communication_id", "=batch_id", "=provider_record_id")

    def get_queryset(self):
        queryset = PushRequest.objects.select_related("content_type", "requested_by")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("events", queryset=PushEvent.objects.order_by("at", "pk"))
            )
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.PushRequestDetailSerializer
        return serializers.PushRequestSerializer

    def _detail(self, push: PushRequest) -> dict:
        fresh = self.get_queryset().prefetch_related("events").get(pk=push.pk)
        return serializers.PushRequestDetailSerializer(
            fresh, context=self.get_serializer_context()
        ).data

    @extend_schema(request=None, responses={201: serializers.PushRequestSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request, pk=None):
        """A new attempt of a push that failed, was rejected or was cancelled, built from the
        record as it is now."""
        try:
            push = push_request_retry(push=self.get_object(), user=request.user, source=API)
        except PushRefused as exc:
            raise _conflict(str(exc), "pushNotRetryable") from None
        return _push_answer(request, push, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: serializers.PushRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Ask Railz now for the outcome of a pending push."""
        push = self.get_object()
        plan = push_refresh_plan(push=push)
        if not plan.allowed:
            raise _conflict(plan.reason, "pushNotPending")
        try:
            pushes_poll_connection(
                connection=push.connection, source=PushEvent.Source.API, push_ids=[push.pk]
            )
        except RailzError as exc:
            raise _railz_unavailable(exc) from None
        return Response(self._detail(push))

    @extend_schema(request=None, responses={200: serializers.PushReconcileSerializer})
    @action(detail=True, methods=["post"])
    def reconcile(self, request, pk=None):
        """Settle a push whose outcome is unknown from Railz's list of pushes."""
        push = self.get_object()
        plan = push_reconcile_plan(push=push)
        if not plan.allowed:
            raise _conflict(plan.reason, "pushNotUnknown")
        try:
            outcome = push_reconcile(push=push, source=PushEvent.Source.API)
        except RailzError as exc:
            raise _railz_unavailable(exc) from None
        return Response({"outcome": outcome, "push": self._detail(push)})

    def _settle(self, settle, plan, rule: str) -> Response:
        """Run a person's verb that settles this push (cancel, never received); 409 with the
        plan's reason when it does not apply, or stopped applying a moment ago."""
        push = self.get_object()
        try:
            settled = settle(push=push, user=self.request.user, source=API)
        except PushRefused as exc:
            raise _conflict(str(exc), rule) from None
        if not settled:
            # Sent, reconciled or finished between reading it and settling it.
            push.refresh_from_db(fields=["state"])
            raise _conflict(plan(push=push).reason, rule)
        return Response(self._detail(push))

    @extend_schema(request=None, responses={200: serializers.PushRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a push nobody has sent yet."""
        return self._settle(push_request_cancel, push_cancel_plan, "pushNotCancellable")

    @extend_schema(request=None, responses={200: serializers.PushRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release a payment held because a document it pays failed or was cancelled on its
        way: it waits for the document again, or is sent now if the document has its id."""
        return self._settle(push_request_release, push_release_plan, "pushNotHeld")

    @extend_schema(request=None, responses={200: serializers.PushRequestDetailSerializer})
    @action(detail=True, methods=["post"], url_path="never-received")
    def never_received(self, request, pk=None):
        """Record that a push whose outcome is unknown never reached the accounting system
        (after checking there), so that it can be retried."""
        return self._settle(push_resolve_not_received, push_never_received_plan, "pushNotUnknown")


# One resource per declared type, named by its Railz dataType, then the pushes.
ROUTES = (
    *(
        (registry.for_data_type(data_type).spec.api_resource, record_viewset(data_type))
        for data_type in registry.PUSHABLE_TYPES
    ),
    ("pushes", PushRequestViewSet),
)
