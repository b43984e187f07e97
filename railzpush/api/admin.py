"""API tokens are created and revoked here; the raw token is shown once, on creation."""

from django.contrib import admin, messages
from django.utils.html import format_html

from railzpush.api.models import TOKEN_PREFIX, ApiToken
from railzpush.api.services import api_token_create, api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "token_start", "created_at", "last_used_at", "state")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username", "user__email")
    raw_id_fields = ("user",)
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name")
        return ("user", "name", "token_start", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A token keeps the user it was issued to: issue a new one instead.
        return ("user", "token_start", "created_at", "last_used_at", "revoked_at")

    @admin.display(description="token")
    def token_start(self, obj):
        return f"{TOKEN_PREFIX}_{obj.prefix}_…"

    @admin.display(description="state")
    def state(self, obj):
        return "revoked" if obj.is_revoked else "active"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = api_token_create(user=obj.user, name=obj.name)
        obj.pk, obj.prefix, obj.secret_hash = token.pk, token.prefix, token.secret_hash
        obj.created_at = token.created_at
        obj._state.adding = False
        messages.warning(
            request,
            format_html(
                "The new API token is <code>{}</code>. Copy it now: it is stored hashed and "
                "will not be shown again.",
                raw,
            ),
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        revoked = sum(api_token_revoke(token=token) for token in queryset)
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)
