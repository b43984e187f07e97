"""Settings come from the environment, and a value that cannot be read stops start-up."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "SECRET_KEY": "x" * 50,
    "RAILZ_EMULATOR": "1",
}


SETUP = "import django; django.setup(); from django.conf import settings; "


def load_settings(code="print('ok')", **env):
    code = SETUP + code
    full_env = {**BASE_ENV, "DJANGO_SETTINGS_MODULE": "railzpush.settings", **env}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


def test_defaults_load():
    assert load_settings().stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"SECRET_KEY": None}, "SECRET_KEY must be set when DEBUG is off"),
        ({"Q_WORKERS": "two"}, "Q_WORKERS must be a whole number"),
        ({"Q_WORKERS": "0"}, "Q_WORKERS must be at least 1"),
        ({"Q_TIMEOUT": "300", "Q_RETRY": "200"}, "Q_TIMEOUT must be lower than Q_RETRY"),
        ({"RAILZ_PROVIDER_LIMITS": "[60]"}, "RAILZ_PROVIDER_LIMITS must map names"),
        ({"RAILZ_READ_TIMEOUT": "soon"}, "RAILZ_READ_TIMEOUT must be a number"),
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL cannot be read"),
        ({"DB_CONN_MAX_AGE": "-5"}, "DB_CONN_MAX_AGE must be at least 0"),
        ({"Q_SAVE_LIMIT": "-2"}, "Q_SAVE_LIMIT must be at least -1"),
        ({"Q_SUCCESS_KEEP_HOURS": "0"}, "Q_SUCCESS_KEEP_HOURS must be at least 1"),
        (
            {"PUSH_SETTLE_NOT_RECEIVED_SECONDS": "-1"},
            "PUSH_SETTLE_NOT_RECEIVED_SECONDS must be at least 0",
        ),
        ({"PUSH_AUTO_REQUEUE_NOT_RECEIVED": "sometimes"}, "PUSH_AUTO_REQUEUE_NOT_RECEIVED must be"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_emulator_is_never_on_silently_in_production():
    result = load_settings(RAILZ_EMULATOR=None)
    assert result.returncode != 0
    assert "set RAILZ_EMULATOR=1 to run against the offline emulator on purpose" in result.stderr


def test_emulator_is_on_by_default_in_development_without_credentials():
    result = load_settings(
        "print(settings.RAILZ_EMULATOR, settings.RAILZ_API_URL)", RAILZ_EMULATOR=None, DEBUG="1"
    )
    assert result.stdout.split() == ["True", "http://127.0.0.1:8000/emulator/api"]


def test_credentials_point_at_the_real_railz():
    result = load_settings(
        "print(settings.RAILZ_EMULATOR, settings.RAILZ_API_URL, settings.RAILZ_AUTH_URL)",
        RAILZ_EMULATOR=None,
        RAILZ_CLIENT_ID="id",
        RAILZ_SECRET_KEY="ID_secret",
    )
    assert result.stdout.split() == [
        "False",
        "https://api.railz.ai",
        "https://auth.railz.ai/getAccess",
    ]


def test_settling_pushes_never_received_defaults_to_five_minutes_and_requeues():
    code = (
        "print(settings.PUSH_SETTLE_NOT_RECEIVED_SECONDS, settings.PUSH_AUTO_REQUEUE_NOT_RECEIVED)"
    )
    assert load_settings(code).stdout.split() == ["300", "True"]
    turned = load_settings(
        code, PUSH_SETTLE_NOT_RECEIVED_SECONDS="60", PUSH_AUTO_REQUEUE_NOT_RECEIVED="0"
    )
    assert turned.stdout.split() == ["60", "False"]
