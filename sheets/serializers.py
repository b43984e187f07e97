"""The import resource's input and answer, in the API's names (camelCase, connection by id or
connection_uuid)."""

from __future__ import annotations

from rest_framework import serializers

from pushes import registry
from pushes.serializers import ConnectionField
from sheets.models import SheetImport


class ImportInputSerializer(serializers.Serializer):
    connection = ConnectionField()
    dataType = serializers.ChoiceField(choices=(), source="data_type")
    file = serializers.FileField(allow_empty_file=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataType"].choices = list(registry.PUSHABLE_TYPES)


class ImportSerializer(serializers.ModelSerializer):
    dataType = serializers.CharField(source="data_type")
    fileName = serializers.CharField(source="file_name")
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()
    problemCount = serializers.SerializerMethodField()
    refusal = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = SheetImport
        fields = [
            "id",
            "connection",
            "dataType",
            "fileName",
            "state",
            "progress",
            "counts",
            "notes",
            "problemCount",
            "problems",
            "refusal",
            "createdAt",
        ]

    def get_progress(self, obj) -> dict:
        return {"done": obj.progress_done, "total": obj.progress_total, "percent": obj.percent}

    def get_counts(self, obj) -> dict:
        return (obj.preview or {}).get("counts") or {}

    def get_notes(self, obj) -> list[str]:
        return (obj.preview or {}).get("notes") or []

    def get_problems(self, obj) -> list[dict]:
        return (obj.preview or {}).get("problems") or []

    def get_problemCount(self, obj) -> int:
        return (obj.preview or {}).get("problem_count") or 0

    def get_refusal(self, obj) -> dict | None:
        if not obj.refusal:
            return None
        return {"field": "file", "rule": obj.refusal_rule, "message": obj.refusal}
