"""Every declared type is a REST resource at /api/v1/<data_type>/: create, read, list, change
and delete, `validate`, and `push`, `push-update`, `push-delete` where Railz supports them,
with the one error shape and rule codes."""

from __future__ import annotations

import pytest

from pushes.models import PushRequest
from pushes.push_selectors import push_plan_for
from pushes.spec import Kind
from railzpush.railz.datatypes import Op
from tests.contract.conftest import SAMPLES, ref_factory
from tests.factories import AccountFactory, ConnectionFactory
from tests.fixtures.api import *  # noqa: F403

pytestmark = pytest.mark.django_db


def url(record_type, pk=None, verb=None) -> str:
    base = record_type.url
    if pk is not None:
        base += f"{pk}/"
    return base + (f"{verb}/" if verb else "")


def api_body(record_type, connection, **overrides) -> dict:
    """A complete record as the API takes it, references by their row id."""
    spec = record_type.spec
    body = {"connection": connection.connection_uuid, "status": "ready"}
    for f in spec.fields:
        if f.name == spec.party:
            body[f.name] = {"id": ref_factory(spec, f.name)(connection=connection).pk}
        elif f.name == spec.number:
            body[f.name] = "API-1"
        elif f.ready and f.name in SAMPLES:
            body[f.name] = SAMPLES[f.name]
        elif f.kind is Kind.DATE:
            body[f.name] = "2026-12-02" if f.name == "due_date" else "2026-11-02"
    if spec.has_lines:
        body["lines"] = record_type.line_bodies(AccountFactory(connection=connection).remote_id)
    body.update(overrides)
    return body


def errors_of(response) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


@pytest.fixture
def pusher(api_as, api_pusher):
    return api_as(api_pusher)


def test_crud_through_the_api(record_type, api):
    connection = ConnectionFactory()
    created = api.post(url(record_type), api_body(record_type, connection), format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["push_state"] == "ready"
    if record_type.spec.has_lines:
        number = record_type.decimal_line_field.name
        assert created.json()["lines"][0][number] in ("2.0000", "201.0000")

    assert api.get(url(record_type, pk)).json()["id"] == pk
    listed = api.get(url(record_type), {"connection": connection.connection_uuid}).json()
    assert [row["id"] for row in listed["results"]] == [pk]
    text = record_type.spec.field_at(record_type.optional_text_path).name
    changed = api.patch(url(record_type, pk), {text: "Changed"}, format="json")
    assert changed.status_code == 200 and changed.json()[text] == "Changed"

    assert api.delete(url(record_type, pk)).status_code == 204
    assert not record_type.spec.model_class.objects.exists()


def test_validate_names_every_problem_by_path_and_rule(record_type, api):
    connection = ConnectionFactory()
    body = api_body(record_type, connection, status="draft")
    body.pop("lines", None)
    for f in record_type.spec.fields:
        if f.ready:
            body.pop(f.name)
    created = api.post(url(record_type), body, format="json").json()

    response = api.get(url(record_type, created["id"], "validate"))

    assert response.status_code == 200 and response.json()["valid"] is False
    assert errors_of(response) == record_type.required


def test_a_reference_from_another_connection_is_a_400_at_its_path(record_type, api):
    connection, other = ConnectionFactory(), ConnectionFactory()
    row = record_type.ref(other)
    given = [{"id": row.pk}] if record_type.ref_many else {"id": row.pk}
    body = api_body(record_type, connection, **{record_type.ref_name: given})

    response = api.post(url(record_type), body, format="json")

    assert response.status_code == 400
    assert errors_of(response) == [(record_type.ref_path, "sameConnection")]
    assert not record_type.spec.model_class.objects.exists()


def test_a_ready_record_is_pushed_and_a_draft_is_not(record_type, api, pusher):
    connection = ConnectionFactory()
    ready = api.post(url(record_type), api_body(record_type, connection), format="json").json()
    draft_body = api_body(record_type, connection, status="draft")
    draft_body[record_type.spec.number] = "API-2"
    draft = api.post(url(record_type), draft_body, format="json").json()

    refused = pusher.post(url(record_type, draft["id"], "push"))
    assert refused.status_code == 409 and errors_of(refused) == [("", "pushRefused")]
    response = pusher.post(url(record_type, ready["id"], "push"))
    assert response.status_code == 202, response.json()
    assert response.json()["data_type"] == record_type.data_type
    assert response.json()["operation"] == "create"
    sent = PushRequest.objects.get().body["data"]
    if record_type.spec.has_lines:
        assert isinstance(sent["lines"][0][record_type.decimal_line_field.path], int | float)
    else:
        assert sent[record_type.spec.field_at_name(record_type.spec.number).path] == "API-1"


def test_push_update_and_push_delete_follow_what_railz_supports(record_type, api, pusher):
    connection = ConnectionFactory(service_name="xero")
    created = api.post(url(record_type), api_body(record_type, connection), format="json").json()
    record = record_type.spec.model_class.objects.get(pk=created["id"])

    never = pusher.post(url(record_type, record.pk, "push-update"))
    assert never.status_code == 409 and "push it first" in never.json()["errors"][0]["message"]

    type(record).objects.filter(pk=record.pk).update(
        provider_record_id="X-1", last_pushed_hash=record.payload_hash
    )
    record.refresh_from_db()
    operations = record_type.spec.railz.operations
    for verb, op in (("push-update", Op.UPDATE), ("push-delete", Op.DELETE)):
        plan = push_plan_for(record=record, operation=op.value)
        response = pusher.post(url(record_type, record.pk, verb))
        if op in operations:
            assert not plan.refused
            assert response.status_code == 202, response.json()
            assert response.json()["operation"] == op.value
            PushRequest.objects.all().delete()
        else:
            # Create only: the plan says so with a code, the API in its error shape.
            assert plan.rule == "operationNotSupported"
            assert response.status_code == 409
            assert "created only" in response.json()["errors"][0]["message"]
