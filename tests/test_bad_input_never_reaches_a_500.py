"""Bad input never reaches a 500: deeply nested JSON, numbers past any sane magnitude, NaN,
NULs and control characters (in bodies, paths, query parameters, admin filters and autocomplete
terms), oversized bodies, forms with thousands of fields and absurd page numbers are refused
with a 4xx in the API's error shape (the field and the rule), or by the admin with a 400 or its
own page, and change nothing.

Every API write that reads a body, every query parameter of every list the schema describes,
the webhook, every admin changelist and autocomplete are tried; run on SQLite and PostgreSQL,
which differ in what they do with a NUL.
"""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushes.models import Invoice, InvoiceLine, PushEvent, PushRequest, WebhookEvent
from railzpush.api import bounds
from railzpush.api.models import IdempotencyKey
from railzpush.railz.signatures import sign
from tests.fixtures.api import *  # noqa: F403
from tests.test_api_invoices import INVOICES, draft_body

pytestmark = pytest.mark.django_db

BIG = str(2**70)
HUGE_DIGITS = "9" * 5000


# --- the API's writes -----------------------------------------------------------------------


def _at(path: tuple, value):
    """A change to the draft body: `value` at `path` (a key of a missing step is created)."""

    def change(body):
        target = body
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return body

    return change


def _nested(depth: int):
    value = "bottom"
    for _ in range(depth):
        value = {"a": [value]}
    return value


class Raw:
    """A JSON literal json.dumps cannot write (`1e1000000`, `NaN`), spliced in afterwards."""

    def __init__(self, literal: str):
        self.literal = literal


def _dumps(body) -> bytes:
    raws: list[str] = []

    def default(value):
        raws.append(value.literal)
        return f"@@raw{len(raws) - 1}@@"

    text = json.dumps(body, default=default)
    for index, literal in enumerate(raws):
        text = text.replace(f'"@@raw{index}@@"', literal)
    return text.encode()


QUANTITY = ("lines", 0, "quantity")
# (case, change to a valid body or the raw bytes to send, status, rule, field)
BODY_CASES = [
    ("deep object", _at(("memo",), _nested(40)), 400, "maxDepth", None),
    ("deep array, past the reader's stack", b"[" * 100_000 + b"]" * 100_000, 400, "maxDepth", ""),
    ("deep objects, past the reader's stack", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400,
     "maxDepth", ""),
    ("huge exponent", _at(QUANTITY, Raw("1e1000000")), 400, "max", "lines[0].quantity"),
    ("huge negative", _at(QUANTITY, Raw("-1e1000000")), 400, "max", "lines[0].quantity"),
    ("tiny exponent", _at(("lines", 0, "unit_amount"), Raw("1e-1000000")), 400,
     "maxDecimalPlaces", "lines[0].unit_amount"),
    ("5,000-digit integer", _at(QUANTITY, Raw(HUGE_DIGITS)), 400, "maxDigits",
     "lines[0].quantity"),
    ("35 significant digits", _at(QUANTITY, Raw("1.2345678901234567890123456789012345")), 400,
     "maxDigits", "lines[0].quantity"),
    ("10^18", _at(QUANTITY, Raw("1e18")), 400, "max", "lines[0].quantity"),
    ("NaN", _at(QUANTITY, Raw("NaN")), 400, "format", "lines[0].quantity"),
    ("Infinity", _at(QUANTITY, Raw("Infinity")), 400, "format", "lines[0].quantity"),
    ("-Infinity", _at(QUANTITY, Raw("-Infinity")), 400, "format", "lines[0].quantity"),
    ("id past bigint", _at(("customer",), {"id": Raw(BIG)}), 400, "max", "customer.id"),
    ("NUL in the memo", _at(("memo",), "a\x00b"), 400, "invalidCharacter", "memo"),
    ("NUL in the number", _at(("invoice_number",), "INV-\x00"), 400, "invalidCharacter",
     "invoice_number"),
    ("NUL in the connection", _at(("connection",), "CON-\x00"), 400, "invalidCharacter",
     "connection"),
    ("NUL in a reference", _at(("customer",), {"remote_id": "\x00"}), 400, "invalidCharacter",
     "customer.remote_id"),
    ("control character in a line", _at(("lines", 0, "description"), "bell\x07"), 400,
     "invalidCharacter", "lines[0].description"),
    ("NUL in a key", _at(("me\x00mo",), "x"), 400, "invalidCharacter", ""),
    ("lone surrogate", _at(("memo",), "\ud800"), 400, "invalidCharacter", "memo"),
    ("not JSON", b"{not json", 400, "parseError", ""),
    ("not UTF-8", b'{"memo": "\xff\xfe"}', 400, "parseError", ""),
    ("larger than DATA_UPLOAD_MAX_MEMORY_SIZE", b'{"memo": "' + b"x" * 3_000_000 + b'"}', 413,
     "maxSize", ""),
]  # fmt: skip
FORM_CASES = [
    ("form with 3,000 fields", "&".join(f"f{i}=1" for i in range(3000)), 400, "maxFields", ""),
    ("NUL in a form value", "memo=%00&invoice_number=X", 400, "invalidCharacter", "memo"),
]


@pytest.fixture
def world(api_as, api_pusher, api_refs):
    """A draft invoice, a pushed one with a failed push, and a client allowed everything."""
    client = api_as(api_pusher)
    client.raise_request_exception = False  # a 500 is an answer to look at, not an error here
    draft = client.post(INVOICES, draft_body(api_refs), format="json")
    assert draft.status_code == 201, draft.json()
    invoice = Invoice.objects.get(pk=draft.json()["id"])
    push = PushRequest.objects.create(
        content_type_id=_content_type_id(invoice),
        object_id=invoice.pk,
        connection=invoice.connection,
        data_type="invoices",
        operation="create",
        state="failed",
        requested_by=api_pusher,
    )
    return client, invoice, push


def _content_type_id(record):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(record).pk


def _writes(invoice, push):
    """Every API write that reads its body: (method, url). The POST verbs read it (to key an
    Idempotency-Key on it), so they are sent with one."""
    detail = f"{INVOICES}{invoice.pk}/"
    return [
        ("post", INVOICES),
        ("put", detail),
        ("patch", detail),
        ("post", f"{detail}push/"),
        ("post", f"{detail}push-update/"),
        ("post", f"{detail}push-delete/"),
        ("post", f"/api/v1/connections/{invoice.connection_id}/sync/"),
        ("post", f"/api/v1/pushes/{push.pk}/retry/"),
    ]


def _state(invoice):
    """What a refused request must leave as it was: the counts, and the target invoice."""
    invoice.refresh_from_db()
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("pk").values())
    return (
        {
            model.__name__: model.objects.count()
            for model in (Invoice, InvoiceLine, PushRequest, PushEvent, WebhookEvent)
        },
        IdempotencyKey.objects.count(),
        model_to_dict(invoice),
        lines,
    )


def _problem(response, status, rule, field) -> str | None:
    """What is wrong with the answer (None when it is the refusal expected)."""
    if response.status_code != status:
        return f"answered {response.status_code}: {response.content[:300]!r}"
    if not response["Content-Type"].startswith("application/json"):
        return f"answered {response['Content-Type']}, not the API's JSON"
    errors = response.json().get("errors")
    if not errors or not all({"field", "rule", "message"} <= set(e) for e in errors):
        return f"not the error shape: {response.json()!r}"
    first = errors[0]
    if first["rule"] != rule or (field is not None and first["field"] != field):
        return f"first error {first!r}, expected rule {rule!r} at {field!r}"
    return None


@pytest.mark.parametrize(
    ("case", "change", "status", "rule", "field"), BODY_CASES, ids=[c[0] for c in BODY_CASES]
)
def test_a_bad_json_body_is_refused_by_every_write_and_changes_nothing(
    world, case, change, status, rule, field
):
    client, invoice, push = world
    body = change if isinstance(change, bytes) else _dumps(change(draft_body_of(invoice)))
    before = _state(invoice)
    failures = {}
    for n, (method, url) in enumerate(_writes(invoice, push)):
        response = getattr(client, method)(
            url,
            data=body,
            content_type="application/json",
            headers={"Idempotency-Key": f"bad-{n}"},
        )
        problem = _problem(response, status, rule, field)
        if problem:
            failures[f"{method.upper()} {url}"] = problem
    assert not failures, failures
    assert _state(invoice) == before


@pytest.mark.parametrize(
    ("case", "body", "status", "rule", "field"), FORM_CASES, ids=[c[0] for c in FORM_CASES]
)
def test_a_bad_form_is_refused_in_the_error_shape_not_as_an_html_page(
    world, case, body, status, rule, field
):
    client, invoice, push = world
    before = _state(invoice)
    failures = {}
    for n, (method, url) in enumerate(_writes(invoice, push)):
        response = getattr(client, method)(
            url,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"Idempotency-Key": f"form-{n}"},
        )
        problem = _problem(response, status, rule, field)
        if problem:
            failures[f"{method.upper()} {url}"] = problem
    assert not failures, failures
    assert _state(invoice) == before


def test_a_nul_in_a_multipart_field_is_refused_in_the_error_shape(world):
    client, invoice, _ = world
    before = _state(invoice)
    response = client.post(INVOICES, {"memo": "a\x00b"}, format="multipart")
    assert _problem(response, 400, "invalidCharacter", "memo") is None, response.content
    assert _state(invoice) == before


def draft_body_of(invoice):
    """The valid body the bad values are put into: the world's own refs, a new number."""
    from types import SimpleNamespace

    from refs.models import Account

    refs = SimpleNamespace(
        connection=invoice.connection,
        services=Account.objects.get(connection=invoice.connection, remote_id="210"),
    )
    return draft_body(refs, invoice_number="INV-BAD-1")


def test_what_is_merely_unusual_is_still_accepted(world):
    """The bounds refuse what cannot be meant, not what is odd: tabs and newlines in free text,
    a large amount, a long decimal, an exponent within range."""
    client, invoice, _ = world
    body = draft_body_of(invoice)
    body["memo"] = "Roasting\tweek 48\r\nsecond line"
    body["lines"][0]["quantity"] = Raw("1.5e2")
    body["lines"][0]["unit_amount"] = Raw("12345678.25")
    response = client.post(INVOICES, data=_dumps(body), content_type="application/json")
    assert response.status_code == 201, response.json()
    created = Invoice.objects.get(pk=response.json()["id"])
    assert created.memo == "Roasting\tweek 48\r\nsecond line"
    assert created.lines.order_by("position").first().quantity == 150


# --- query parameters and paths of the API --------------------------------------------------

QUERY_VALUES = [
    ("NUL", "\x00", 400, "invalidCharacter"),
    ("NUL inside", "CON-\x00x", 400, "invalidCharacter"),
    ("newline", "a\nb", 400, "invalidCharacter"),
    ("escape", "\x1b[2J", 400, "invalidCharacter"),
    ("5,000 digits", HUGE_DIGITS, 400, "maxLength"),
    ("2^70", BIG, None, None),
    ("huge exponent", "1e1000000", None, None),
    ("negative", "-1", None, None),
    ("NaN", "NaN", None, None),
    ("unicode", "Café ☕", None, None),
]


def _list_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        get = item.get("get")
        if get and "{" not in path:
            names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
            yield path, names


LISTS = list(_list_operations())


def test_every_list_of_the_schema_is_tried():
    paths = {path for path, _ in LISTS}
    assert {"/api/v1/invoices/", "/api/v1/pushes/", "/api/v1/customers/"} <= paths
    assert len(paths) >= 12


@pytest.mark.parametrize(("path", "names"), LISTS, ids=[path for path, _ in LISTS])
def test_no_query_parameter_of_any_list_reaches_a_500(world, path, names):
    client, invoice, _ = world
    before = _state(invoice)
    failures = {}
    for name in (*names, "page", "page_size", "cursor", "unknown"):
        for label, value, status, rule in QUERY_VALUES:
            response = client.get(path, {name: value})
            if status is None:  # a value of the right kind: any answer but a 500 or HTML
                ok = response.status_code < 500 and response["Content-Type"].startswith(
                    "application/json"
                )
                if ok and response.status_code >= 400:
                    ok = all({"field", "rule"} <= set(e) for e in response.json()["errors"])
                problem = None if ok else f"answered {response.status_code}"
            else:
                problem = _problem(response, status, rule, name)
            if problem:
                failures[f"?{name}= {label}"] = problem
    assert not failures, failures
    assert _state(invoice) == before


@pytest.mark.parametrize(
    "resource", ["invoices", "pushes", "connections", "customers", "tracking-categories"]
)
@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("%00", 400),
        ("1%002", 400),
        ("%0a", 400),
        (BIG, 404),
        (HUGE_DIGITS, 404),
        ("-1", 404),
        ("CON-%00", 400),
    ],
    ids=["NUL", "NUL inside", "newline", "2^70", "5,000 digits", "negative", "CON- and NUL"],
)
def test_no_id_in_an_api_path_reaches_a_500(world, resource, value, status):
    client, _, _ = world
    response = client.get(f"/api/v1/{resource}/{value}/")
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["rule"] == ("invalidCharacter" if status == 400 else "notFound")


def test_too_many_query_parameters_are_refused_in_the_error_shape(world):
    client, _, _ = world
    query = "&".join(f"f{i}=1" for i in range(1200))
    response = client.get(f"{INVOICES}?{query}")
    assert _problem(response, 400, "maxFields", "") is None, response.content[:300]


# --- the webhook ----------------------------------------------------------------------------

WEBHOOK = "/webhooks/railz"


def _event(push, **data):
    return {
        "data": {
            "event": "push",
            "connectionId": push.connection.connection_uuid,
            "pushCommunicationId": "PCI-bad-input",
            "status": "success",
            **data,
        },
        "requestId": "req-bad-input",
    }


WEBHOOK_CASES = [
    ("deep", lambda p: _dumps(_event(p, extra=_nested(40))), 400, "maxDepth", None),
    ("deep, past the reader's stack", lambda p: b"[" * 100_000 + b"]" * 100_000, 400,
     "maxDepth", ""),
    ("NUL in the event", lambda p: _dumps(_event(p, event="pu\x00sh")), 400, "invalidCharacter",
     "data.event"),
    ("NUL deep inside", lambda p: _dumps(_event(p, errors=[{"message": "x\x00"}])), 400,
     "invalidCharacter", "data.errors[0].message"),
    ("NUL in the communication id", lambda p: _dumps(_event(p, pushCommunicationId="\x00")),
     400, "invalidCharacter", "data.pushCommunicationId"),
    ("huge exponent", lambda p: _dumps(_event(p, amount=Raw("1e1000000"))), 400, "max",
     "data.amount"),
    ("NaN", lambda p: _dumps(_event(p, amount=Raw("NaN"))), 400, "format", "data.amount"),
    ("not JSON", lambda p: b"{not json", 400, "parseError", ""),
    ("not an object with data", lambda p: b'["data"]', 400, "type", "data"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "build", "status", "rule", "field"),
    WEBHOOK_CASES,
    ids=[c[0] for c in WEBHOOK_CASES],
)
def test_a_signed_webhook_with_a_bad_body_is_refused_and_stores_nothing(
    world, client, settings, case, build, status, rule, field
):
    _, invoice, push = world
    client.raise_request_exception = False
    body = build(push)
    before = _state(invoice)
    response = client.post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        HTTP_RAILZ_SIGNATURE=sign(body, settings.RAILZ_WEBHOOK_SECRET),
    )
    assert _problem(response, status, rule, field) is None, response.content[:300]
    assert _state(invoice) == before
    push.refresh_from_db()
    assert push.state == "failed"


def test_an_unsigned_or_oversized_webhook_is_refused_in_the_error_shape(world, client):
    _, invoice, push = world
    client.raise_request_exception = False
    before = _state(invoice)
    forged = client.post(
        WEBHOOK, data=_dumps(_event(push, event="\x00")), content_type="application/json"
    )
    assert _problem(forged, 401, "signature", "Railz-Signature") is None, forged.content
    huge = b'{"data": {"x": "' + b"x" * 3_000_000 + b'"}}'
    oversized = client.post(WEBHOOK, data=huge, content_type="application/json")
    assert _problem(oversized, 413, "maxSize", "") is None, oversized.content[:300]
    nul_path = client.post(f"{WEBHOOK}%00", data=b"{}", content_type="application/json")
    assert _problem(nul_path, 400, "invalidCharacter", "path") is None, nul_path.content
    assert _state(invoice) == before


# --- the admin and the staff pages ----------------------------------------------------------

ADMIN_QUERIES = [
    ({"state": "\x00"}, 400),
    ({"status": "\x00"}, 400),
    ({"q": "\x00"}, 400),
    ({"o": "\x00"}, 400),
    ({"connection__id__exact": "\x00"}, 400),
    ({"q": "x" * 5000}, 400),
    ({"p": BIG}, None),
    ({"p": "-1"}, None),
    ({"p": "1e1000000"}, None),
    ({"connection__id__exact": BIG}, None),
    ({"state": BIG}, None),
]


@pytest.mark.parametrize(("query", "status"), ADMIN_QUERIES, ids=lambda v: repr(v)[:40])
def test_no_admin_changelist_filter_reaches_a_500(world, admin_client, plain_static, query, status):
    admin_client.raise_request_exception = False
    invoice = world[1]
    before = _state(invoice)
    failures = {}
    for model_admin in admin.site._registry.values():
        opts = model_admin.opts
        response = admin_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), query
        )
        expected = response.status_code == status if status else response.status_code < 500
        if not expected:
            failures[opts.label_lower] = response.status_code
    assert len(admin.site._registry) >= 15
    assert not failures, failures
    assert _state(invoice) == before


AUTOCOMPLETES = [
    ("pushes", "invoice", "customer"),
    ("pushes", "invoice", "subsidiaries"),
    ("pushes", "invoiceline", "account"),
    ("pushes", "invoiceline", "item"),
    ("pushes", "invoiceline", "tax_rate"),
    ("pushes", "invoiceline", "tracking_options"),
]


@pytest.mark.parametrize(
    ("extra", "statuses"),
    [
        ({"term": "\x00"}, {400}),
        ({"term": "Acme\x00"}, {400}),
        ({"term": "x" * 5000}, {400}),
        ({"term": "a", "page": BIG}, {200, 404}),
        ({"term": "a", "page": HUGE_DIGITS}, {400}),
        ({"term": "a", "page": "-1"}, {200, 404}),
        ({"term": "a", "connection": BIG}, {200, 400}),
        ({"term": "a", "connection": "CON-\x00"}, {400}),
    ],
    ids=[
        "NUL term",
        "NUL in a term",
        "long term",
        "page 2^70",
        "5,000-digit page",
        "negative page",
        "connection 2^70",
        "NUL connection",
    ],
)
def test_no_autocomplete_term_or_page_reaches_a_500(world, admin_client, extra, statuses):
    admin_client.raise_request_exception = False
    failures = {}
    for app_label, model_name, field_name in AUTOCOMPLETES:
        query = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
        response = admin_client.get(reverse("admin:autocomplete"), {**query, **extra})
        if response.status_code not in statuses:
            failures[f"{model_name}.{field_name}"] = response.status_code
    assert not failures, failures


def test_no_staff_page_path_or_parameter_reaches_a_500(world, admin_client):
    admin_client.raise_request_exception = False
    _, invoice, push = world
    status_url = reverse("pushes-invoice-push-status", args=[invoice.pk])
    assert admin_client.get(status_url, {"buttons": "\x00"}).status_code == 400
    assert admin_client.get(f"/staff/pushes/{push.pk}/ret%00ry").status_code == 400
    assert admin_client.get(f"/staff/invoices/{BIG}/push-status").status_code < 500
    assert admin_client.get(reverse("pushes-dashboard-parts"), {"x": "\x00"}).status_code == 400


# --- the reader itself, over any input ------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


READER_RULES = {
    "parseError",
    "invalidCharacter",
    "maxDepth",
    "format",
    "max",
    "maxDigits",
    "maxDecimalPlaces",
}


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(value=JSON_VALUES)
def test_the_reader_returns_a_value_or_refuses_it_by_name_whatever_it_is_given(value):
    try:
        raw = json.dumps(value).encode()
    except ValueError:
        return
    try:
        bounds.json_loads(raw)
    except bounds.BadInput as exc:
        assert exc.errors and {e["rule"] for e in exc.errors} <= READER_RULES
        assert all(e["message"] for e in exc.errors)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_the_reader_never_raises_anything_but_a_refusal_on_arbitrary_bytes(raw):
    try:
        bounds.json_loads(raw)
    except bounds.BadInput as exc:
        assert exc.errors and {e["rule"] for e in exc.errors} <= READER_RULES
