"""The live search: the directory, matched by email prefix, name words and Zoom id.

Ranked: an exact email or Zoom id first; then prefix matches (of the email or the id,
then every typed word starting a word of the names); then the rest (the typed text
anywhere in the names, from three characters). Within a rank, by name.

On PostgreSQL the email and id prefixes use btree pattern indexes and the word and
substring matches a pg_trgm GIN index; SQLite runs the same queries without them.
Django's ``contains``/``startswith`` lookups escape ``%`` and ``_``, so they match
literally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connections, transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OrderBy,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Collate

from zoomadmin.directory.models import DirectoryUser
from zoomadmin.directory.text import fold, query_words

MAX_RESULTS = 25
SUBSTRING_MIN = 3
ID_PREFIX_MIN = 8
_ID_CHARS = re.compile(r"[A-Za-z0-9_-]+")

RANK_EXACT, RANK_EMAIL_PREFIX, RANK_WORDS, RANK_SUBSTRING = 0, 1, 2, 3


@dataclass(frozen=True)
class Results:
    query: str
    users: list[DirectoryUser]  # the best MAX_RESULTS, each with its ``rank``
    total: int  # every match

    @property
    def others(self) -> int:
        return max(0, self.total - len(self.users))


def matches(query: str) -> QuerySet[DirectoryUser]:
    """Every directory user (not gone) that ``query`` finds, ranked, as a lazy queryset."""
    text = query.strip()
    lowered = text.lower()
    exact = Q(email_key=lowered)
    prefix = Q(email_key__startswith=lowered)
    if _ID_CHARS.fullmatch(text):
        exact |= Q(zoom_id=text)
        if len(text) >= ID_PREFIX_MIN:
            prefix |= Q(zoom_id__startswith=text)
    words = Q()
    for word in query_words(text):
        # " pri": a word of the search text that starts with "pri".
        words &= Q(search_text__contains=" " + word)
    found = exact | prefix
    if words:
        found |= words
    folded = fold(text)
    if len(folded) >= SUBSTRING_MIN:
        found |= Q(search_text__contains=folded)
    rank = Case(
        When(exact, then=Value(RANK_EXACT)),
        When(prefix, then=Value(RANK_EMAIL_PREFIX)),
        *([When(words, then=Value(RANK_WORDS))] if words else []),
        default=Value(RANK_SUBSTRING),
        output_field=IntegerField(),
    )
    users = DirectoryUser.objects.filter(found, gone_at__isnull=True)
    return users.annotate(rank=rank).order_by(
        "rank", _bytewise(users.db, "sort_name"), _bytewise(users.db, "email_key"), "pk"
    )


def _bytewise(alias: str, field: str) -> OrderBy:
    """Order by code point, as SQLite does: PostgreSQL's collation might put "o'brien"
    and "obrien" in another order, and the two databases must give the same answers.
    (The "C" collation is also the fastest to sort by.)"""
    if connections[alias].vendor == "postgresql":
        return Collate(F(field), "C").asc()
    return F(field).asc()


def search(query: str, *, limit: int = MAX_RESULTS) -> Results:
    """The best ``limit`` matches and how many there are. One query, no Zoom call.

    The count rides along as a window over the matches, which the ranking sorts anyway.
    On PostgreSQL the query runs with sequential scans discouraged: the planner prices a
    LIKE on every row of 100,000 far below its cost (a scan takes ~25 ms, the indexes
    answer in 1-5 ms), and every condition here has an index.
    """
    found = matches(query).annotate(total=Window(Count("pk")))[:limit]
    users: list[DirectoryUser]
    if connections[found.db].vendor == "postgresql":
        with transaction.atomic(using=found.db), connections[found.db].cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            users = list(found)
    else:
        users = list(found)
    total = int(getattr(users[0], "total", 0)) if users else 0
    return Results(query=query, users=users, total=total)


def rank_of(user: DirectoryUser) -> int:
    """The rank ``matches`` gave this user (``RANK_EXACT`` ... ``RANK_SUBSTRING``)."""
    return int(getattr(user, "rank", RANK_SUBSTRING))
