"""Filter backends shared by every API view."""

from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter


class SafeSearchFilter(SearchFilter):
    """`?search=`; a NUL character (which PostgreSQL cannot compare) is a 400, not a 500."""

    def get_search_terms(self, request):
        terms = super().get_search_terms(request)
        if any("\x00" in term for term in terms):
            raise ValidationError(
                {"search": ["Null characters are not allowed."]}, code="null_characters_not_allowed"
            )
        return terms
