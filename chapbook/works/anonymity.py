"""Anonymous works on the pages that list works because of who made them.

`works_visible_to` decides whether a reader may see a work at all; an anonymous work
passes it (its byline says "Anonymous"). But a page that lists works *by someone* — a
user's profile, a pseud's page and feed — or that names its owner — a series — would
give the creator away just by listing the work there, whatever its byline says. Those
pages narrow the selector's answer with `without_others_anonymous`.

(The user's and pseud's filtered listings need nothing from here: the filter index
files an anonymous work under no pseud at all.)
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from chapbook.works.models import Creatorship, Series, Work
from chapbook.works.selectors import AnyUser, series_parts_visible_to, works_visible_to


def without_others_anonymous(works: QuerySet[Work], user: AnyUser) -> QuerySet[Work]:
    """`works` less the anonymous ones `user` is not a creator of.

    A creator still finds their own anonymous works on their own pages: it is their own
    secret to keep.
    """
    if user is None or not user.is_authenticated:
        return works.filter(anonymous=False)
    own = Creatorship.objects.filter(pseud__user_id=user.pk, accepted=True).values("work_id")
    return works.filter(Q(anonymous=False) | Q(pk__in=own))


def series_parts_shown_to(user: AnyUser, series: Series) -> QuerySet[Work]:
    """The parts of `series` a reader is shown: a series names its owner, so others'
    anonymous works are not among them (their work pages do not name the series either)."""
    return without_others_anonymous(series_parts_visible_to(user, series), user)


def series_shown_to(user: AnyUser) -> QuerySet[Series]:
    """Series with at least one part the reader is shown (see `series_parts_shown_to`)."""
    shown = without_others_anonymous(works_visible_to(user), user).values("pk")
    return Series.objects.filter(parts__work__in=shown).distinct()
