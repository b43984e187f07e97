"""`validate` never calls a record ready without saying what it did not check: until the
provider's push rules (pushOptions) for the push's operation are fetched, its answer says so
with `provider_rules_checked: false` and a note (rule `providerRulesUnknown`) in the admin's
words, for every declared type. Once the rules are kept, the note goes and their problems show."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pushes.models import ProviderPushOptions
from pushes.push_options_selectors import push_rules_unchecked
from railzpush.railz.datatypes import DATA_TYPES
from tests.factories import ConnectionFactory
from tests.fixtures.api import *  # noqa: F403

pytestmark = pytest.mark.django_db


def validate(api, record_type, record) -> dict:
    response = api.get(f"{record_type.url}{record.pk}/validate/")
    assert response.status_code == 200, response.content
    return response.json()


def keep_rules(connection, data_type: str, operation: str, options=()) -> None:
    ProviderPushOptions.objects.create(
        connection=connection,
        data_type=data_type,
        operation=operation,
        options=list(options),
        fetched_at=timezone.now(),
    )


def test_a_record_passing_every_check_is_not_called_ready_before_the_rules_are_known(
    record_type, api
):
    connection = ConnectionFactory(service_name="xero")
    record = record_type.create(connection=connection)

    answer = validate(api, record_type, record)

    assert answer["valid"] is True and answer["errors"] == []
    assert answer["operation"] == "create"
    assert answer["provider_rules_checked"] is False
    [note] = answer["notes"]
    assert note["field"] == "" and note["rule"] == "providerRulesUnknown"
    # The admin's sentence, word for word, so the two never disagree.
    assert note["message"].startswith("Not yet checked against Xero's rules: its push rules")
    assert note["message"] == push_rules_unchecked(
        connection=connection, data_type=record_type.data_type, operation="create"
    )
    # It points at the action on the list of the record's own type, where it is.
    label = DATA_TYPES[record_type.data_type].label.lower()
    assert f"the {label} list's \"Fetch the accounting system's push rules" in note["message"]


def test_once_the_rules_are_kept_the_answer_says_they_were_checked(record_type, api):
    connection = ConnectionFactory(service_name="xero")
    record = record_type.create(connection=connection)
    # Railz was asked and described nothing: the rules are known, and there are none.
    keep_rules(connection, record_type.data_type, "create")

    answer = validate(api, record_type, record)

    assert answer == {
        "valid": True,
        "operation": "create",
        "provider_rules_checked": True,
        "errors": [],
        "notes": [],
    }


def test_the_rules_checked_are_those_of_the_push_s_operation(record_type, api):
    connection = ConnectionFactory(service_name="xero")
    record = record_type.create(connection=connection)
    keep_rules(connection, record_type.data_type, "create")
    # In the accounting system already: the next push is an update, whose rules are unknown.
    type(record).objects.filter(pk=record.pk).update(provider_record_id="X-1")

    answer = validate(api, record_type, record)

    assert answer["operation"] == "update"
    assert answer["provider_rules_checked"] is False
    assert [n["rule"] for n in answer["notes"]] == ["providerRulesUnknown"]


def test_a_rule_the_provider_marks_required_is_a_problem_and_no_note(record_type, api):
    connection = ConnectionFactory(service_name="xero")
    record = record_type.create(connection=connection)
    path = record_type.optional_text_path
    required = {"properties": {path: {"required": True, "description": "Always"}}}
    keep_rules(connection, record_type.data_type, "create", [required])

    answer = validate(api, record_type, record)

    assert answer["valid"] is False
    assert answer["provider_rules_checked"] is True and answer["notes"] == []
    assert [(e["field"], e["rule"]) for e in answer["errors"]] == [(path, "required")]
