"""The registry of record types names each declaration by dotted path: loading it imports no
model and no service (so no import cycle runs through it), and the first use resolves them."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_loading_the_registry_imports_no_model_and_no_service():
    code = (
        "import sys, pushes.registry; "
        "print(sorted(m for m in sys.modules if m.startswith(('pushes', 'refs', 'django.db'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "['pushes', 'pushes.registry', 'pushes.spec']"


@pytest.mark.django_db
def test_every_declared_type_resolves_to_its_model_and_data_type():
    from pushes import registry

    for data_type in registry.PUSHABLE_TYPES:
        pushable = registry.for_data_type(data_type)
        assert pushable.spec.data_type == data_type
        assert registry.for_model(pushable.model) is pushable
