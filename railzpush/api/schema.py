"""OpenAPI: the token scheme, and the error answers every operation can give."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every failure: one entry per problem, each naming its field and rule.",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {
                        "type": "string",
                        "description": "Path in the request (`lines[2].accountRef`); "
                        "empty for the request as a whole.",
                    },
                    "rule": {"type": "string", "description": "`required`, `maxLength`..."},
                    "message": {"type": "string"},
                },
                "required": ["field", "rule", "message"],
            },
        }
    },
    "required": ["errors"],
}

ERROR_ANSWERS = {
    "400": "The request is invalid; each error names its field and rule.",
    "401": "No credentials, or an invalid or revoked token.",
    "403": "The user may not do this (staff only; pushing needs the push permission).",
    "404": "No such record (or page).",
    "429": "Too many requests for this token; see Retry-After.",
}
WRITE_ANSWERS = {
    "409": "Conflict: a push is already in flight, the record is no longer a draft, or a "
    "request with this Idempotency-Key is in progress.",
    "422": "This Idempotency-Key was used for another request.",
    "502": "Railz could not be reached or refused to answer; nothing changed here.",
}


class ApiAutoSchema(AutoSchema):
    """Documents `Idempotency-Key` on every method wrapped with `@idempotent`."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        method = getattr(self.view, getattr(self.view, "action", None) or "", None)
        if getattr(method, "idempotent", False):
            from railzpush.api.idempotency import IDEMPOTENCY_KEY_PARAMETER

            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "railzpush.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer rzp_<prefix>_<secret>`, created in the admin.",
        }


def add_error_answers(result, generator, request, public):
    """Postprocessing hook: document the error shape on every operation of /api/v1/."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorResponse"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            answers = dict(ERROR_ANSWERS)
            if method != "get":
                answers.update(WRITE_ANSWERS)
            responses = operation.setdefault("responses", {})
            for code, description in answers.items():
                responses.setdefault(code, {"description": description, "content": reference})
    return result
