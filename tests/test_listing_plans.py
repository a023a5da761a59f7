"""Every query a listing page sends is answered from an index, never by scanning a table.

A listing reads the filter index in memory; what it still asks the database is pinned
here: the freshness check, the tag-name lookup, the facets' names and the page's rows.
On PostgreSQL a tiny test table is cheaper to scan, so sequential scans are switched off
to ask whether an index *can* answer, which is what matters at a million works.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chapbook.listings.query import Filters, find_works, page_rows, tags_by_name
from chapbook.people.models import User
from tests.conftest import build_work, default_tags

BIG_TABLES = ("works_work", "works_worktag", "tags_tag", "listings_removedwork")


def plan_of(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def scans_a_table(plan: str) -> list[str]:
    if connection.vendor == "sqlite":
        # "SCAN works_work" is a full scan; "SCAN ... USING INDEX" and "SEARCH" are not.
        return [
            line
            for line in plan.splitlines()
            if line.startswith("SCAN")
            and "USING" not in line
            and any(table in line for table in BIG_TABLES)
        ]
    return [
        line
        for line in plan.splitlines()
        if "Seq Scan" in line and any(t in line for t in BIG_TABLES)
    ]


@pytest.fixture
def listing_queries(author: User) -> Iterator[list[dict[str, Any]]]:
    for number in range(3):
        build_work(
            author,
            title=f"Work {number}",
            tags=default_tags(freeforms=["Fluff"]),
            draft=False,
        )
    fluff = tags_by_name(["Fluff"])[0]["fluff"]
    with CaptureQueriesContext(connection) as captured:
        tags_by_name(["Fluff", "General Audiences"])
        result = find_works(
            Filters(include=(fluff.pk,)), user=AnonymousUser(), facets=True
        )
        page_rows(AnonymousUser(), result.ids)
    yield captured.captured_queries


def test_every_query_of_a_listing_is_answered_from_an_index(
    listing_queries: list[dict[str, Any]],
) -> None:
    # The freshness check, the tag names, building the in-process index (first request
    # only), the facets' names and the page's rows.
    assert listing_queries
    for query in listing_queries:
        sql = query["sql"]
        if (
            "GROUP BY" in sql
            or "ORDER BY id" in sql
            or "ORDER BY c.work_id" in sql
            or "tags_tag_parents" in sql
        ):
            continue  # building the index reads everything once, on purpose
        if " WHERE " not in sql:
            continue  # the tag graph, read whole once per wrangling change
        assert not scans_a_table(plan_of(sql, ())), sql


def test_a_warm_listing_sends_four_queries_each_through_an_index(author: User) -> None:
    build_work(
        author, title="Warm", tags=default_tags(freeforms=["Fluff"]), draft=False
    )
    fluff = tags_by_name(["Fluff"])[0]["fluff"]
    find_works(Filters(include=(fluff.pk,)), user=AnonymousUser(), facets=True)
    with CaptureQueriesContext(connection) as captured:
        tags_by_name(["Fluff"])
        result = find_works(
            Filters(include=(fluff.pk,)), user=AnonymousUser(), facets=True
        )
        page_rows(AnonymousUser(), result.ids)
    assert len(captured.captured_queries) == 4
    for query in captured.captured_queries:
        assert not scans_a_table(plan_of(query["sql"], ())), query["sql"]
