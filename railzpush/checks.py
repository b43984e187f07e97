from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def emulator_in_production(app_configs, **kwargs):
    if settings.RAILZ_EMULATOR:
        return [
            Warning(
                "The offline Railz emulator is on: pushes go to the emulator, not to Railz.",
                hint="Set RAILZ_CLIENT_ID and RAILZ_SECRET_KEY and unset RAILZ_EMULATOR.",
                id="railzpush.W001",
            )
        ]
    return []
