"""The composer of every declared record type, registered from the registry."""

from pushes.admin.base import record_admin
from pushes.registry import PUSHABLE_TYPES

ADMINS = {data_type: record_admin(data_type) for data_type in PUSHABLE_TYPES}
