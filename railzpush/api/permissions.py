"""Who may do what: the admin's model permissions (view, add, change, delete) on the resource's
model, as the admin grants them; pushing also needs `pushes.push_records`."""

from rest_framework.permissions import BasePermission, DjangoModelPermissions

PUSH_PERMISSION = "pushes.push_records"

# A viewset's action -> the model permission it needs. Any other action (`validate`, `push`,
# `sync`, `retry`...) reads the record and hands it to a service: it needs the view permission,
# and whatever its own permission classes add (CanPushRecords for the push verbs).
ACTION_PERMISSIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}
METHOD_PERMISSIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class ModelPermissions(DjangoModelPermissions):
    """DRF's DjangoModelPermissions with the view permission for reads, decided by the
    viewset's action rather than the HTTP method; like the admin, change implies view."""

    DENIED = "You do not have the permission to {} {}."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if getattr(view, "_ignore_model_permissions", False):
            return True  # the router's API root lists resources, it reads none
        queryset = getattr(view, "queryset", None)
        model = (queryset if queryset is not None else self._queryset(view)).model
        action = getattr(view, "action", None)
        if action is None:  # a plain APIView
            needed = METHOD_PERMISSIONS.get(request.method, "view")
        else:
            needed = ACTION_PERMISSIONS.get(action, "view")
        opts = model._meta
        codenames = [needed] if needed != "view" else ["view", "change"]
        if any(request.user.has_perm(f"{opts.app_label}.{c}_{opts.model_name}") for c in codenames):
            return True
        self.message = self.DENIED.format(needed, opts.verbose_name_plural)
        return False


class CanPushRecords(BasePermission):
    message = "Pushing records needs the 'push records' permission."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm(PUSH_PERMISSION))
