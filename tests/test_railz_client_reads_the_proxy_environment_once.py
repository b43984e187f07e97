"""The Railz client's session reads the environment's proxy and CA settings as requests does,
but once per host instead of on every request (requests reads os.environ twice a request,
which cost about a tenth of a push's CPU)."""

import requests

from railzpush.railz.client import EnvironmentOnceSession

API = "https://api.railz.example/v2/accounting/invoices"
AUTH = "https://auth.railz.example/getAccess"


def _merged(session, url):
    return session.merge_environment_settings(url, {}, False, None, None)


def test_it_answers_as_requests_does_for_each_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "auth.railz.example")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    once, plain = EnvironmentOnceSession(), requests.Session()

    for url in (API, AUTH, API):
        assert _merged(once, url) == _merged(plain, url)
    assert _merged(once, API)["proxies"]["https"] == "http://proxy.example:3128"
    assert "https" not in _merged(once, AUTH)["proxies"]


def test_it_reads_the_environment_once_per_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = EnvironmentOnceSession()
    first = _merged(session, API)

    reads = []
    real = requests.utils.get_environ_proxies
    monkeypatch.setattr(
        requests.sessions, "get_environ_proxies", lambda *a, **k: reads.append(a) or real(*a, **k)
    )
    monkeypatch.setenv("HTTPS_PROXY", "http://another.example:8080")
    assert _merged(session, API + "?page=2") == first
    assert reads == []
    # A caller's own proxies still win over the environment's.
    own = session.merge_environment_settings(
        API, {"https": "http://mine.example:1"}, False, None, None
    )
    assert own["proxies"]["https"] == "http://mine.example:1"
