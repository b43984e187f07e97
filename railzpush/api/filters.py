"""Filter backends shared by every API view."""

from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter


class NamedSearchFilter(SearchFilter):
    """`?search=`, whose refusals (a NUL character...) name the parameter they are about."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None
