"""Push bodies are checked like Railz checks them: every broken rule, with its path and wording."""

import dataclasses

import pytest

from railzpush.railz.datatypes import (
    DATA_TYPES,
    Op,
    OperationNotSupported,
    UnknownDataType,
    data_type,
    validate_request,
)
from railzpush.railz.schema import (
    Array,
    Boolean,
    Integer,
    Number,
    Object,
    PassThrough,
    Problem,
    Ref,
    String,
    validate,
)
from tests.railz_openapi import example_for, request_dto, spec_operation

CONNECTION_UUID = "CON-396d5daa-26b2-4979-89b6-cafb2c298155"
INVOICE = data_type("invoices").operation(Op.CREATE).data

# The invoice of the "Pushing Data" guide (the push response's `data`), as the page shows it.
GUIDE_INVOICE = {
    "invoiceNumber": "INV-10546",
    "postedDate": "2021-03-29",
    "dueDate": "2021-03-29",
    "currency": "CAD",
    "currencyRate": 1.13,
    "memo": "Example invoice memo.",
    "customerRef": {"id": "124"},
    "lines": [
        {
            "description": "Services rendered.",
            "quantity": 3,
            "discountPercentage": 30,
            "taxRateRef": {"id": "12"},
            "accountRef": {"id": "200"},
            "inventoryRef": {"id": "32"},
            "trackingCategoryRefs": [{"id": "4040", "type": "class"}],
            "unitAmount": 100.5,
        }
    ],
    "subsidiaryRefs": [{"id": "4"}],
}


def invoice(**changes):
    return {**GUIDE_INVOICE, **changes}


def line(**changes):
    return {**GUIDE_INVOICE["lines"][0], **changes}


def messages(problems):
    return [p.message for p in problems]


# --- valid bodies ------------------------------------------------------------------------------


def test_the_pushing_data_guide_invoice_is_valid():
    assert validate(INVOICE, GUIDE_INVOICE) == []
    body = {"connectionUuid": CONNECTION_UUID, "data": GUIDE_INVOICE}
    assert validate_request("invoices", Op.CREATE, body) == []
    assert validate_request("invoices", Op.UPDATE, body) == []


@pytest.mark.parametrize(
    ("method", "path", "op"),
    [
        ("POST", "/v2/accounting/invoices", Op.CREATE),
        ("PUT", "/v2/accounting/invoices/{id}", Op.UPDATE),
    ],
)
def test_the_spec_examples_for_invoices_are_valid(railz_spec, method, path, op):
    body = example_for(
        railz_spec, request_dto(railz_spec, spec_operation(railz_spec, method, path))
    )

    assert body["data"]["customerRef"] == {"id": "124"}  # the example was really assembled
    assert validate_request("invoices", op, body) == []


# The spec gives some amounts as strings in its examples ("342.99") though it types them as
# numbers; Railz wants numbers, so those examples are rightly refused.
SPEC_EXAMPLES_WITH_STRING_AMOUNTS = {
    ("invoicePayments", Op.CREATE): ["data.lines[0].amount"],
    ("invoicePayments", Op.UPDATE): ["data.lines[0].amount"],
    ("billPayments", Op.CREATE): ["data.lines[0].amount"],
    ("billPayments", Op.UPDATE): ["data.lines[0].amount"],
    ("invoiceCreditNotes", Op.CREATE): [
        "data.currencyRate",
        "data.lines[0].discountPercentage",
        "data.lines[0].quantity",
        "data.lines[0].unitAmount",
        "data.lines[0].taxAmount",
    ],
}
# Batch updates name their target with a plain id string the spec gives no example for.
BATCH_UPDATE_TARGETS = {
    "customers": "customerRef",
    "vendors": "vendorRef",
    "journalEntries": "journalEntryRef",
}


@pytest.mark.parametrize(
    ("name", "op"),
    [
        pytest.param(dt.name, o.op, id=f"{dt.name}-{o.op}")
        for dt in DATA_TYPES.values()
        for o in dt.operations.values()
        if o.data is not None
    ],
)
def test_the_spec_examples_pass_except_for_amounts_written_as_strings(railz_spec, name, op):
    operation = data_type(name).operation(op)
    spec_op = spec_operation(railz_spec, operation.method, operation.path)
    body = example_for(railz_spec, request_dto(railz_spec, spec_op))
    if op is Op.BATCH_UPDATE:
        body["batch"][0][BATCH_UPDATE_TARGETS[name]] = "1"

    problems = validate_request(name, op, body)

    expected = SPEC_EXAMPLES_WITH_STRING_AMOUNTS.get((name, op), [])
    assert [(p.path, p.rule) for p in problems] == [(path, "type") for path in expected]


def test_unknown_fields_are_let_through_as_railz_drops_them():
    body = invoice(status="paid", lines=[line(colour="blue")])

    assert validate(INVOICE, body) == []


def test_pass_through_takes_any_object():
    custom = {"CustomField": [{"DefinitionId": "1", "StringValue": "x", "Name": "Field One"}]}

    assert validate(INVOICE, invoice(passThrough=custom)) == []
    assert messages(validate(INVOICE, invoice(passThrough=["x"]))) == [
        "passThrough must be an object"
    ]


def test_null_optional_fields_count_as_absent():
    assert validate(INVOICE, invoice(memo=None, dueDate=None, lines=[line(accountRef=None)])) == []


# --- one rule at a time, with Railz's wording --------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in GUIDE_INVOICE.items() if k != "customerRef"},
        invoice(customerRef=None),
        invoice(customerRef=""),
    ],
    ids=["missing", "null", "empty string"],
)
def test_required_field_should_not_be_empty(body):
    assert validate(INVOICE, body) == [
        Problem("customerRef", "required", "customerRef should not be empty")
    ]


def test_required_field_inside_a_nested_ref():
    body = invoice(lines=[line(), line(), line(accountRef={"id": ""})])

    assert validate(INVOICE, body) == [
        Problem("lines[2].accountRef.id", "required", "lines[2].accountRef.id should not be empty")
    ]


def test_max_length_counts_characters():
    assert validate(INVOICE, invoice(invoiceNumber="I" * 21)) == []
    assert validate(INVOICE, invoice(invoiceNumber="I" * 22)) == [
        Problem(
            "invoiceNumber",
            "maxLength",
            "invoiceNumber must be shorter than or equal to 21 characters",
        )
    ]


@pytest.mark.parametrize(
    "value", ["2021/03/29", "20210329", "2021-02-30", "2021-03-29T00:00:00Z", "29-03-2021", ""]
)
def test_dates_must_be_yyyy_mm_dd(value):
    assert validate(INVOICE, invoice(postedDate=value)) == [
        Problem("postedDate", "format", "postedDate must be formatted as yyyy-mm-dd")
    ]


def test_date_times_must_be_iso_8601():
    entry = data_type("journalEntries").operation(Op.CREATE).data
    body = {"lines": [{"accountRef": {"id": "200"}, "debit": 10}]}

    assert validate(entry, {**body, "createdDate": "2021-03-09T10:18:29.985Z"}) == []
    assert validate(entry, {**body, "createdDate": "2021-03-09T10:18:29+05:00"}) == []
    assert validate(entry, {**body, "createdDate": "yesterday"}) == [
        Problem("createdDate", "format", "createdDate must be a valid ISO 8601 date string")
    ]


@pytest.mark.parametrize("value", ["3", True, [3], {"n": 3}, float("nan")])
def test_amounts_must_be_numbers_and_booleans_are_not(value):
    assert validate(INVOICE, invoice(lines=[line(quantity=value)])) == [
        Problem("lines[0].quantity", "type", "lines[0].quantity must be a number")
    ]


def test_integers_and_floats_are_both_numbers():
    assert validate(INVOICE, invoice(lines=[line(quantity=3), line(quantity=2.5)])) == []


def test_integer_rejects_fractions_and_booleans_but_takes_whole_floats():
    node = Object({"count": Integer()})

    assert validate(node, {"count": 3}) == []
    assert validate(node, {"count": 3.0}) == []
    assert messages(validate(node, {"count": 3.5}) + validate(node, {"count": False})) == [
        "count must be an integer number",
        "count must be an integer number",
    ]


def test_booleans_must_be_true_or_false():
    customer = data_type("customers").operation(Op.CREATE).data

    assert validate(customer, {"isPerson": False}) == []
    assert validate(customer, {"isPerson": "yes"}) == [
        Problem("isPerson", "type", "isPerson must be a boolean value")
    ]


def test_strings_must_be_strings():
    assert validate(INVOICE, invoice(invoiceNumber=10546)) == [
        Problem("invoiceNumber", "type", "invoiceNumber must be a string")
    ]


def test_enum_lists_the_allowed_values():
    body = invoice(lines=[line(trackingCategoryRefs=[{"id": "4040", "type": "region"}])])

    assert validate(INVOICE, body) == [
        Problem(
            "lines[0].trackingCategoryRefs[0].type",
            "enum",
            "lines[0].trackingCategoryRefs[0].type must be one of the following values: "
            "class, department, location, unknown",
        )
    ]


def test_arrays_must_be_arrays():
    assert validate(INVOICE, invoice(lines={"0": line()})) == [
        Problem("lines", "type", "lines must be an array")
    ]


def test_refs_must_be_objects():
    assert validate(INVOICE, invoice(customerRef="124")) == [
        Problem("customerRef", "type", "customerRef must be an object")
    ]


def test_array_items_are_checked_one_by_one():
    assert messages(validate(INVOICE, invoice(subsidiaryRefs=[{"id": "4"}, "5", {}]))) == [
        "subsidiaryRefs[1] must be an object",
        "subsidiaryRefs[2].id should not be empty",
    ]


def test_bill_credit_note_lines_must_not_be_empty_though_invoice_lines_may():
    credit_note = data_type("billCreditNotes").operation(Op.CREATE).data

    assert validate(INVOICE, invoice(lines=[])) == []
    assert validate(credit_note, {"vendorRef": {"id": "130"}, "lines": []}) == [
        Problem("lines", "minItems", "lines should not be empty")
    ]


def test_min_items_above_one_names_the_count():
    node = Array(String(), min_items=2)

    assert validate(node, ["a"], "tags") == [
        Problem("tags", "minItems", "tags must contain at least 2 elements")
    ]


def test_bill_lines_need_quantity_and_unit_amount():
    bill = data_type("bills").operation(Op.CREATE).data

    assert messages(validate(bill, {"vendorRef": {"id": "130"}, "lines": [{}]})) == [
        "lines[0].unitAmount should not be empty",
        "lines[0].quantity should not be empty",
    ]


# --- every problem, not only the first ---------------------------------------------------------


def test_every_problem_is_reported_in_field_order():
    body = {
        "invoiceNumber": "I" * 30,
        "postedDate": "29/03/2021",
        "lines": [
            line(quantity="3", accountRef={}),
            line(unitAmount=True, trackingCategoryRefs=[{"type": "region"}]),
        ],
    }

    assert messages(validate(INVOICE, body)) == [
        "invoiceNumber must be shorter than or equal to 21 characters",
        "postedDate must be formatted as yyyy-mm-dd",
        "customerRef should not be empty",
        "lines[0].quantity must be a number",
        "lines[0].accountRef.id should not be empty",
        "lines[1].trackingCategoryRefs[0].id should not be empty",
        "lines[1].trackingCategoryRefs[0].type must be one of the following values: "
        "class, department, location, unknown",
        "lines[1].unitAmount must be a number",
    ]


def test_path_prefix_roots_the_reported_paths():
    assert validate(INVOICE.fields["lines"].items, line(quantity="x"), "lines[4]") == [
        Problem("lines[4].quantity", "type", "lines[4].quantity must be a number")
    ]


# --- the request envelope ----------------------------------------------------------------------


@pytest.mark.parametrize("connection_uuid", [None, "", "missing"])
def test_connection_uuid_should_not_be_empty(connection_uuid):
    body = {"data": GUIDE_INVOICE}
    if connection_uuid != "missing":
        body["connectionUuid"] = connection_uuid

    assert validate_request("invoices", Op.CREATE, body) == [
        Problem("connectionUuid", "required", "connectionUuid should not be empty")
    ]


def test_connection_uuid_must_be_a_string():
    body = {"connectionUuid": 42, "data": GUIDE_INVOICE}

    assert messages(validate_request("invoices", Op.CREATE, body)) == [
        "connectionUuid must be a string"
    ]


def test_data_problems_are_reported_under_data():
    body = {"connectionUuid": CONNECTION_UUID, "data": invoice(lines=[line(quantity="3")])}

    assert validate_request("invoices", Op.CREATE, body) == [
        Problem("data.lines[0].quantity", "type", "data.lines[0].quantity must be a number")
    ]


def test_data_is_required_and_must_be_an_object():
    assert messages(validate_request("invoices", Op.CREATE, {"connectionUuid": "C"})) == [
        "data should not be empty"
    ]
    assert messages(
        validate_request("invoices", Op.CREATE, {"connectionUuid": "C", "data": []})
    ) == ["data must be an object"]


def test_a_body_that_is_not_an_object_is_refused_whole():
    assert validate_request("invoices", Op.CREATE, ["x"]) == [
        Problem("", "type", "request body must be an object")
    ]


def test_batch_items_are_validated_with_their_index():
    body = {
        "connectionUuid": CONNECTION_UUID,
        "batch": [
            {"customerRef": "120", "customerName": "ACME Inc."},
            {"customerName": "N" * 501, "isPerson": "no"},
            {"customerRef": {"id": "122"}},
        ],
    }

    assert validate_request("customers", Op.BATCH_UPDATE, body) == [
        Problem("batch[1].isPerson", "type", "batch[1].isPerson must be a boolean value"),
        Problem(
            "batch[1].customerName",
            "maxLength",
            "batch[1].customerName must be shorter than or equal to 500 characters",
        ),
        Problem("batch[1].customerRef", "required", "batch[1].customerRef should not be empty"),
        # Batch updates name their target with a plain id, not a {"id"} ref.
        Problem("batch[2].customerRef", "type", "batch[2].customerRef must be a string"),
    ]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (None, "batch should not be empty"),
        ([], "batch should not be empty"),
        ({"customerName": "ACME"}, "batch must be an array"),
    ],
)
def test_batch_is_a_required_non_empty_array(batch, message):
    body = {"connectionUuid": CONNECTION_UUID, "batch": batch}

    assert messages(validate_request("customers", Op.BATCH_CREATE, body)) == [message]


def test_a_valid_batch_passes():
    body = {
        "connectionUuid": CONNECTION_UUID,
        "batch": [{"vendorName": "Paper Co."}, {"vendorName": "Ink Ltd.", "isPerson": False}],
    }

    assert validate_request("vendors", Op.BATCH_CREATE, body) == []


def test_delete_checks_the_connection_uuid_query_parameter():
    assert validate_request("invoices", Op.DELETE, {"connectionUuid": CONNECTION_UUID}) == []
    assert messages(validate_request("bills", "delete", {})) == [
        "connectionUuid should not be empty"
    ]


# --- the registry ------------------------------------------------------------------------------


def test_an_operation_railz_lacks_is_a_clear_lookup_error():
    with pytest.raises(OperationNotSupported, match=r"^Railz has no batch create for invoices$"):
        data_type("invoices").operation(Op.BATCH_CREATE)
    with pytest.raises(LookupError, match=r"^Railz has no delete for journal entries$"):
        validate_request("journalEntries", Op.DELETE, {"connectionUuid": CONNECTION_UUID})
    with pytest.raises(LookupError, match=r"^Railz has no operation 'archive' for bills$"):
        data_type("bills").operation("archive")


def test_an_unknown_data_type_is_a_key_error_naming_it():
    with pytest.raises(UnknownDataType) as raised:
        data_type("expenses")

    assert isinstance(raised.value, KeyError)
    assert str(raised.value).startswith("railzpush cannot push Railz data type 'expenses'")


def test_supports_needs_the_operation_and_the_provider():
    invoices = data_type("invoices")

    assert invoices.supports(Op.UPDATE, "xero")
    assert invoices.supports("update", "quickbooks")
    assert not invoices.supports(Op.UPDATE, "sageIntacct")  # Intacct can create, not update
    assert not invoices.supports(Op.BATCH_CREATE, "xero")  # nobody can
    assert not invoices.supports(Op.CREATE, "quickbooksDesktop")


def test_every_data_type_has_a_label_and_a_read_path():
    assert {name: dt.label for name, dt in DATA_TYPES.items()} == {
        "invoices": "Invoice",
        "bills": "Bill",
        "invoicePayments": "Invoice payment",
        "billPayments": "Bill payment",
        "invoiceCreditNotes": "Invoice credit note",
        "billCreditNotes": "Bill credit note",
        "journalEntries": "Journal entry",
        "customers": "Customer",
        "vendors": "Vendor",
    }
    assert data_type("invoicePayments").read_path == "/v2/accounting/invoices/payments"


def test_schemas_and_registry_cannot_be_changed_in_place():
    with pytest.raises(dataclasses.FrozenInstanceError):
        INVOICE.required = True
    with pytest.raises(TypeError):
        INVOICE.fields["memo"] = String()
    with pytest.raises(TypeError):
        DATA_TYPES["expenses"] = DATA_TYPES["bills"]
    with pytest.raises(TypeError):
        data_type("bills").operations[Op.BATCH_CREATE] = data_type("bills").operation(Op.CREATE)


def test_ref_is_an_object_whose_id_is_required():
    ref = Ref(required=True, extra={"type": String(enum=("customer", "vendor"))})

    assert ref.required
    assert validate(ref, {"id": "1", "type": "vendor"}) == []
    assert messages(validate(ref, {"type": "person"}, "entityRef")) == [
        "entityRef.id should not be empty",
        "entityRef.type must be one of the following values: customer, vendor",
    ]


def test_nodes_of_every_kind_report_their_own_rule():
    node = Object(
        {
            "name": String(required=True, max_length=3),
            "paid": Boolean(),
            "count": Integer(),
            "total": Number(),
            "extra": PassThrough(),
            "tags": Array(String(enum=("a", "b"))),
        }
    )
    good = {"name": "abc", "paid": True, "count": 1, "total": 1.5, "extra": {}, "tags": ["a"]}
    bad = {"name": "abcd", "paid": 1, "count": "1", "total": "1", "extra": 1, "tags": ["c"]}

    assert validate(node, good) == []
    assert [(p.path, p.rule) for p in validate(node, bad)] == [
        ("name", "maxLength"),
        ("paid", "type"),
        ("count", "type"),
        ("total", "type"),
        ("extra", "type"),
        ("tags[0]", "enum"),
    ]
