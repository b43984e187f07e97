"""Who may do what: staff read and compose; pushing also needs `pushes.push_records`."""

from rest_framework.permissions import BasePermission

PUSH_PERMISSION = "pushes.push_records"


class CanPushRecords(BasePermission):
    message = "Pushing records needs the 'push records' permission."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm(PUSH_PERMISSION))
