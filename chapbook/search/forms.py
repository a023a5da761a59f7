"""The search page's form: the listings' filter form plus the reader's query."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString

from chapbook.listings.forms import ListingForm
from chapbook.listings.query import SORT_LABELS, Filters
from chapbook.search.services import with_sort

SEARCH_SORT_LABELS = {"best": "Best match", **SORT_LABELS}


class SortKeepingQuery(forms.Select):
    """The sort menu, carrying the query along as a hidden input.

    The filter sidebar is the listings' own template and knows nothing of a search; its
    form has to send the query back, or sorting and filtering would forget what was searched.
    """

    def __init__(self, query: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query = query

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        select = super().render(name, value, attrs, renderer)
        return format_html('{}<input type="hidden" name="q" value="{}">', select, self.query)


class SearchForm(ListingForm):
    """Every listing filter and sort, plus the query `q`; with a query, "best match" is a sort
    and the default.

    The query is read as it is, not as a field: nothing a reader types there is a mistake
    (a long query is cut by the parser, which says so; a NUL is punctuation).
    """

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        self.text = " ".join(str(data.get("q") or "").split())
        if not self.text and data.get("sort") == "best":
            # A link that kept sort=best after its query was cleared: read as the default sort.
            data = data.copy()
            data.pop("sort")
        super().__init__(data, *args, **kwargs)
        sort = self.fields["sort"]
        assert isinstance(sort, forms.ChoiceField)
        if self.text:
            sort.choices = list(SEARCH_SORT_LABELS.items())
            sort.widget = SortKeepingQuery(self.text, choices=sort.choices)

    @property
    def chosen_sort(self) -> str:
        """The sort asked for, or the default: best match for a query, else date updated."""
        chosen = self.cleaned_data.get("sort") if self.is_valid() else ""
        return chosen or ("best" if self.text else "updated")

    def filters(self, **kwargs: Any) -> Filters:
        return with_sort(super().filters(**kwargs), self.chosen_sort)
