"""Filter backends shared by every API view."""

import django_filters
from django import forms
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter


class NamedSearchFilter(SearchFilter):
    """`?search=`, whose refusals (a NUL character...) name the parameter they are about."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None


class IdField(forms.CharField):
    """A row id: a whole number within the database's range (a bigger one would overflow in
    the database driver instead of simply matching nothing)."""

    MAX_ID = 2**63 - 1

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if not text.isdigit() or int(text) > self.MAX_ID:
            raise forms.ValidationError("Must be a whole number id.", code="invalid")
        return int(text)


class IdFilter(django_filters.Filter):
    """`?customer=17`; anything else is a 400 naming the parameter."""

    field_class = IdField
