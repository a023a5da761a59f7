"""`chapbook bench search` on a tiny archive with text: every query, the index size and the
indexing speed are printed (the figures themselves are for a real run, not for a test)."""

from __future__ import annotations

import pytest
from django.db import connection

from chapbook.demo.generate import generate
from chapbook.demo.prose import MEMORABLE_PHRASES
from chapbook.search import bench

pytestmark = pytest.mark.django_db

CASES = [
    "rare phrase", "common word", "common-word phrase", "phrase + biggest fandom", "creator", "title:", "OR",
    "character name",
]  # fmt: skip


def test_it_prints_every_query_the_index_size_and_the_indexing_speed() -> None:
    generate(works=120, seed=2, text=True)
    lines: list[str] = []
    bench.run(lines.append, repeat=2, port=0, http=False)
    output = "\n".join(lines)
    assert "Archive: 120 listed works" in output
    assert "words/s (goal ≥ 1,000,000" in output
    assert "Index size on disk:" in output and "MiB" in output
    if connection.vendor == "sqlite":
        # The old tables, put aside by the rebuild's swap, are freed and timed apart.
        assert "Then the old index's tables freed, as the background task does:" in output
    table = output.split("Query layer:")[1]
    for name in CASES:
        assert any(line.startswith(name + " ") for line in table.splitlines()), name
    # The rare phrase is one the generator seeded, and it is found.
    rare = next(line for line in table.splitlines() if line.startswith("rare phrase"))
    assert any(f'"{phrase}"' in rare for phrase in MEMORABLE_PHRASES)
    assert int(rare.split('"')[2].split()[0]) >= 1
    assert "HTTP" not in output


def test_without_reindexing_it_says_when_the_index_is_behind() -> None:
    generate(works=60, seed=2, text=True)
    lines: list[str] = []
    bench.run(lines.append, repeat=1, port=0, http=False, reindex_first=False)
    assert "The search index holds 0 of 60 works: run `chapbook reindex --search-only`." in lines
    assert not any(line.startswith("Indexing:") for line in lines)
