"""Every API error has one shape, `{"errors": [{"field", "rule", "message"}]}`, and nested
serializer errors are named by their path (`lines[2].account`)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from railzpush.api.errors import ApiError, ProblemsError, api_exception_handler, rule_name


class LineSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=5)
    quantity = serializers.DecimalField(max_digits=5, decimal_places=2)


class InvoiceSerializer(serializers.Serializer):
    invoice_number = serializers.CharField(max_length=3)
    lines = LineSerializer(many=True)

    def validate(self, attrs):
        raise serializers.ValidationError("The invoice is unbalanced.")


def handled(exc):
    response = api_exception_handler(exc, {})
    return response.status_code, response.data["errors"]


def test_nested_serializer_errors_are_named_by_their_path():
    serializer = InvoiceSerializer(
        data={
            "invoice_number": "INV-1001",
            "lines": [
                {"description": "ok", "quantity": "1"},
                {"description": "ok", "quantity": "1"},
                {"description": "far too long", "quantity": "x"},
            ],
        }
    )
    assert not serializer.is_valid()
    status, errors = handled(ValidationError(serializer.errors))
    assert status == 400
    assert [(e["field"], e["rule"]) for e in errors] == [
        ("invoice_number", "maxLength"),
        ("lines[2].description", "maxLength"),
        ("lines[2].quantity", "invalid"),
    ]
    assert errors[0]["message"] == "Ensure this field has no more than 3 characters."


def test_missing_fields_and_whole_object_errors():
    serializer = InvoiceSerializer(data={"lines": [{}]})
    serializer.is_valid()
    _, errors = handled(ValidationError(serializer.errors))
    assert [(e["field"], e["rule"]) for e in errors] == [
        ("invoice_number", "required"),
        ("lines[0].description", "required"),
        ("lines[0].quantity", "required"),
    ]
    serializer = InvoiceSerializer(data={"invoice_number": "A", "lines": []})
    serializer.is_valid()
    _, errors = handled(ValidationError(serializer.errors))
    assert errors == [{"field": "", "rule": "invalid", "message": "The invoice is unbalanced."}]


def test_ready_made_problems_and_api_errors_keep_their_field_and_rule():
    problems = [
        {"field": "lines[2].accountRef", "rule": "required", "message": "choose an account"}
    ]
    assert handled(ProblemsError(problems)) == (400, problems)
    status, errors = handled(ApiError("already in flight", rule="pushInFlight", status_code=409))
    assert status == 409
    assert errors == [{"field": "", "rule": "pushInFlight", "message": "already in flight"}]


def test_django_validation_errors_from_services_become_400s():
    status, errors = handled(
        DjangoValidationError({"due_date": ["must be after the posted date"]}, code="invalid")
    )
    assert status == 400
    assert errors == [
        {"field": "due_date", "rule": "invalid", "message": "must be after the posted date"}
    ]


def test_rule_names_follow_railzs_vocabulary():
    assert rule_name("max_length") == "maxLength"
    assert rule_name("blank") == "required"
    assert rule_name("not_authenticated") == "notAuthenticated"
    assert rule_name(None) == "invalid"


def test_an_unexpected_exception_is_left_to_django():
    assert api_exception_handler(RuntimeError("bug"), {}) is None
