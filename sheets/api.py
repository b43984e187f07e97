"""/api/v1/imports/: the admin's import steps for programs.

POST a file (multipart: connection, dataType, file) and get the check (201; 202 while a worker
checks a large file), GET it to follow the progress, POST confirm/ to create the records, GET
result/ for the outcome per row (CSV or XLSX), and GET template/ for a type's blank sheet.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from pushes import registry
from railzpush.api.errors import ApiError
from railzpush.api.parsers import BoundedJSONParser, BoundedMultiPartParser
from sheets.blanks import blank_response
from sheets.models import SheetImport
from sheets.reading import FileRefused
from sheets.serializers import ImportInputSerializer, ImportSerializer
from sheets.services import (
    RESULT_HEADERS,
    NotConfirmable,
    import_confirm,
    import_result_rows,
    import_start,
)
from sheets.writing import FORMATS, rows_response

_FORMAT = OpenApiParameter("file_format", str, enum=list(FORMATS), description="csv or xlsx")


def _file_format(request) -> str:
    value = request.query_params.get("file_format", "csv")
    if value not in FORMATS:
        raise ApiError(
            f"file_format must be csv or xlsx; got {value[:20]!r}.",
            rule="enum",
            field="file_format",
        )
    return value


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = SheetImport.objects.defer("content").select_related("connection")
    serializer_class = ImportSerializer
    parser_classes = [BoundedMultiPartParser, BoundedJSONParser]
    filterset_fields = ("state", "data_type")

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer}, responses=ImportSerializer
    )
    def create(self, request, *args, **kwargs):
        given = ImportInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        opts = registry.for_data_type(given.validated_data["data_type"]).spec.model_class._meta
        if not request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
            raise ApiError(
                f"You do not have the permission to add {opts.verbose_name_plural}.",
                rule="permissionDenied",
                status_code=status.HTTP_403_FORBIDDEN,
            )
        upload = given.validated_data["file"]
        try:
            sheet_import = import_start(
                connection=given.validated_data["connection"],
                data_type=given.validated_data["data_type"],
                file_name=upload.name or "",
                content=upload.read(),
                user=request.user,
            )
        except FileRefused as exc:
            raise ApiError(exc.message, rule=exc.rule, field="file") from None
        if sheet_import.state == SheetImport.State.REFUSED:
            raise ApiError(sheet_import.refusal, rule=sheet_import.refusal_rule, field="file")
        code = (
            status.HTTP_202_ACCEPTED
            if sheet_import.state == SheetImport.State.CHECKING
            else status.HTTP_201_CREATED
        )
        return Response(ImportSerializer(sheet_import).data, status=code)

    @extend_schema(request=None, responses=ImportSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        sheet_import = self.get_object()
        opts = registry.for_data_type(sheet_import.data_type).spec.model_class._meta
        if not request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
            raise ApiError(
                f"You do not have the permission to add {opts.verbose_name_plural}.",
                rule="permissionDenied",
                status_code=status.HTTP_403_FORBIDDEN,
            )
        try:
            sheet_import = import_confirm(sheet_import=sheet_import, user=request.user)
        except NotConfirmable as exc:
            raise ApiError(exc.message, rule=exc.rule, status_code=409) from None
        code = (
            status.HTTP_200_OK
            if sheet_import.state == SheetImport.State.DONE
            else status.HTTP_202_ACCEPTED
        )
        return Response(ImportSerializer(sheet_import).data, status=code)

    @extend_schema(parameters=[_FORMAT], responses={(200, "text/csv"): bytes})
    @action(detail=True, methods=["get"])
    def result(self, request, pk=None):
        file_format = _file_format(request)
        sheet_import = self.get_object()
        return rows_response(
            RESULT_HEADERS,
            import_result_rows(sheet_import),
            file_format=file_format,
            file_name=f"import-{sheet_import.pk}-result",
            title="Result",
        )

    @extend_schema(
        parameters=[
            _FORMAT,
            OpenApiParameter("dataType", str, enum=list(registry.PUSHABLE_TYPES), required=True),
        ],
        responses={(200, "text/csv"): bytes},
    )
    @action(detail=False, methods=["get"])
    def template(self, request):
        file_format = _file_format(request)
        data_type = request.query_params.get("dataType", "")
        if data_type not in registry.PUSHABLE_TYPES:
            raise ApiError(
                f"dataType must be one of {', '.join(registry.PUSHABLE_TYPES)}.",
                rule="enum",
                field="dataType",
            )
        return blank_response(data_type, file_format=file_format)


ROUTES = (("imports", ImportViewSet),)
