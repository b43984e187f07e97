"""REST API of invoices (and their pushes): thin shells over the composer's and the pipeline's
services, so the API and the admin cannot disagree about a rule."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from pushes import filters, serializers
from pushes.models import Invoice, InvoiceLine
from pushes.services.invoices import (
    InvoiceInvalid,
    invoice_create,
    invoice_update,
    invoice_validate,
)
from railzpush.api.errors import ApiError, ProblemsError
from railzpush.api.idempotency import idempotent


def _problems(exc: InvoiceInvalid) -> ProblemsError:
    return ProblemsError(serializers.problem_errors(exc.problems))


class InvoiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invoices composed for one connection; `validate` says what keeps one from being pushed."""

    serializer_class = serializers.InvoiceSerializer
    filterset_class = filters.InvoiceFilter
    search_fields = ("invoice_number", "customer__name")

    def get_queryset(self):
        lines = InvoiceLine.objects.select_related("account", "item", "tax_rate").prefetch_related(
            "tracking_options"
        )
        return Invoice.objects.select_related("connection", "customer").prefetch_related(
            Prefetch("lines", queryset=lines.order_by("position", "id")), "subsidiaries"
        )

    def _valid_serializer(self, **kwargs):
        serializer = self.get_serializer(**kwargs)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError as exc:
            raise ProblemsError(serializers.serializer_errors(exc)) from None
        return serializer

    def _answer(self, invoice: Invoice, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=invoice.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self._valid_serializer(data=request.data)
        try:
            invoice = invoice_create(data=serializer.invoice_data(), user=request.user)
        except InvoiceInvalid as exc:
            raise _problems(exc) from None
        return self._answer(invoice, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        invoice = self.get_object()
        serializer = self._valid_serializer(instance=invoice, data=request.data, partial=partial)
        try:
            invoice = invoice_update(
                invoice=invoice, data=serializer.invoice_data(invoice=invoice), user=request.user
            )
        except InvoiceInvalid as exc:
            raise _problems(exc) from None
        return self._answer(invoice)

    def destroy(self, request, *args, **kwargs):
        invoice = self.get_object()
        with transaction.atomic():
            locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
            # An invoice the accounting system holds must stay: it is what the push history
            # and provider_record_id refer to.
            if locked.last_pushed_at is not None or locked.provider_record_id:
                raise ApiError(
                    f"Invoice {locked} has been pushed to the accounting system and cannot be "
                    "deleted here.",
                    rule="invoicePushed",
                    status_code=status.HTTP_409_CONFLICT,
                )
            locked.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: serializers.InvoiceValidationSerializer})
    @action(detail=True, methods=["get"])
    def validate(self, request, pk=None):
        """Every reason the invoice cannot be pushed now, with the admin's wording."""
        problems = invoice_validate(invoice=self.get_object())
        return Response(
            {"valid": not problems, "errors": serializers.problem_errors(problems)},
        )


ROUTES = (("invoices", InvoiceViewSet),)
