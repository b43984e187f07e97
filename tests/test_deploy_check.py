"""`manage.py check --deploy` with production-like settings reports no error.

The one warning accepted (security.W021, HSTS preload) is listed in the README with the reason.
"""

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "SECRET_KEY": "k7Yq2-production-like-secret-key-with-enough-entropy-9fXw3LpZ0rT8vN",
    "RAILZ_CLIENT_ID": "client",
    "RAILZ_SECRET_KEY": "ID_secret",
    "RAILZ_WEBHOOK_SECRET": "whsec",
    "ALLOWED_HOSTS": "railzpush.example.com",
    "DJANGO_SETTINGS_MODULE": "railzpush.settings",
}


def deploy_check(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env={**PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deploy_check_with_only_the_accepted_warning():
    result = deploy_check()
    assert result.returncode == 0, result.stderr
    assert re.findall(r"\((\S+\.[EW]\d+)\)", result.stderr) == ["security.W021"]


def test_an_emulator_switched_on_in_production_is_reported():
    result = deploy_check(RAILZ_EMULATOR="1")
    assert "(railzpush.W001)" in result.stderr
