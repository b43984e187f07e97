"""The Railz client's session prepares a request without requests' generic merging (a third of
the client's CPU for a send), and what it prepares is what requests would have: same method,
URL, headers and body, netrc credentials included; with cookies it takes requests' own path."""

import pytest
import requests

from railzpush.railz.client import EnvironmentOnceSession

API = "https://api.railz.example/v2/accounting/invoices"
BEARER = {"Authorization": "Bearer a-token", "Accept": "application/json"}

SHAPES = {
    "a push": {
        "method": "post",
        "url": API,
        "json": {"data": {"totalAmount": 10.5}},
        "headers": BEARER,
    },
    "a read with parameters": {
        "method": "get",
        "url": API,
        "params": {"connectionUuid": "c-1", "offset": 100, "filter": "a b&c"},
        "headers": BEARER,
    },
    "a header unset with None": {
        "method": "get",
        "url": API,
        "headers": {**BEARER, "Accept-Encoding": None},
    },
    "a form body": {"method": "post", "url": API, "data": {"grant": "x"}, "headers": BEARER},
    "basic auth": {"method": "get", "url": API, "auth": ("client", "secret")},
}


def _prepared(session, shape):
    return session.prepare_request(requests.Request(**shape))


def _same(one, other):
    assert one.method == other.method
    assert one.url == other.url
    assert dict(one.headers) == dict(other.headers)
    assert one.body == other.body


@pytest.fixture
def no_netrc(monkeypatch, tmp_path):
    empty = tmp_path / "netrc"
    empty.write_text("")
    monkeypatch.setenv("NETRC", str(empty))


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_it_prepares_what_requests_prepares(shape, no_netrc):
    _same(_prepared(EnvironmentOnceSession(), shape), _prepared(requests.Session(), shape))


def test_netrc_credentials_apply_as_with_requests_and_are_read_once_per_host(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.railz.example login someone password hunter2\n")
    monkeypatch.setenv("NETRC", str(netrc))
    once = EnvironmentOnceSession()
    shape = {"method": "get", "url": API}

    first = _prepared(once, shape)
    _same(first, _prepared(requests.Session(), shape))
    assert first.headers["Authorization"].startswith("Basic ")

    netrc.write_text("")
    assert _prepared(once, shape).headers["Authorization"] == first.headers["Authorization"]


def test_cookies_the_session_holds_are_sent_as_requests_sends_them(no_netrc):
    once, plain = EnvironmentOnceSession(), requests.Session()
    for session in (once, plain):
        session.cookies.set("AWSALB", "sticky", domain="api.railz.example", path="/")

    prepared = _prepared(once, SHAPES["a push"])

    _same(prepared, _prepared(plain, SHAPES["a push"]))
    assert prepared.headers["Cookie"] == "AWSALB=sticky"
