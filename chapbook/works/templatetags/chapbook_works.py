from __future__ import annotations

from django import template

from chapbook.works.models import Work

register = template.Library()

RATING_SYMBOLS = {
    "General Audiences": "G",
    "Teen And Up Audiences": "T",
    "Mature": "M",
    "Explicit": "E",
    "Not Rated": "NR",
}


@register.inclusion_tag("works/_symbols.html")
def required_symbols(work: Work) -> dict[str, object]:
    """The four boxes in a blurb's corner: rating, warnings, category, completion."""
    ratings = work.ratings
    warnings = [t.name for t in work.warnings]
    categories = [t.name for t in work.categories]
    if not warnings or warnings == ["No Archive Warnings Apply"]:
        warning_symbol, warning_label = "–", "No archive warnings apply"
    elif warnings == ["Creator Chose Not To Use Archive Warnings"]:
        warning_symbol, warning_label = "?", "Creator chose not to use archive warnings"
    else:
        warning_symbol, warning_label = "!", "Archive warnings: " + ", ".join(warnings)
    rating_name = ratings[0].name if ratings else "Not Rated"
    if len(categories) > 1:
        category_symbol = "Multi"
    else:
        category_symbol = categories[0] if categories else "–"
    return {
        "rating_symbol": RATING_SYMBOLS.get(rating_name, "NR"),
        "rating_label": f"Rating: {rating_name}",
        "warning_symbol": warning_symbol,
        "warning_label": warning_label,
        "category_symbol": category_symbol,
        "category_label": "Category: " + (", ".join(categories) if categories else "none given"),
        "complete_symbol": "✓" if work.complete else "…",
        "complete_label": "Complete work" if work.complete else "Work in progress",
    }
