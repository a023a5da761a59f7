"""The works API: what it shows, to whom, and how works are posted, changed and deleted."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Callable

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chapbook.people.models import ApiToken, Pseud, User
from chapbook.tags.models import Tag
from chapbook.works.models import Creatorship, Work
from chapbook.works.services import answer_co_creator_invitation
from tests.conftest import default_tags

MakeWork = Callable[..., Work]

SUMMARY_FIELDS = {
    "id", "url", "title", "creators", "fandoms", "ratings", "warnings", "categories", "relationships",
    "characters", "freeforms", "summary", "notes", "end_notes", "language", "word_count", "chapter_count",
    "expected_chapters", "complete", "restricted", "draft", "published", "updated", "source", "prompt", "stats",
    "comment_permission", "moderate_comments", "anonymous", "gifts", "collections", "fills",
}


class ApiCaller:
    """Calls the API as `user` through a fresh token, as a guest when `user` is None, or
    with the `authorization` header given."""

    # One test client for every call: building one loads the middleware, and WhiteNoise
    # scans every static file when it loads, which would dominate the suite's runtime.
    client = Client()

    def __init__(self, user: User | None = None, *, authorization: str | None = None) -> None:
        if user is not None:
            authorization = f"Bearer {ApiToken.issue(user)[1]}"
        self.headers = {"Authorization": authorization} if authorization is not None else {}

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(url, params, headers=self.headers)

    def post(self, url: str, body: Any) -> Any:
        return self.client.post(url, json.dumps(body), content_type="application/json", headers=self.headers)

    def patch(self, url: str, body: Any) -> Any:
        return self.client.patch(url, json.dumps(body), content_type="application/json", headers=self.headers)

    def delete(self, url: str) -> Any:
        return self.client.delete(url, headers=self.headers)


api_as = ApiCaller


def new_work_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Low Tide",
        "fandoms": ["Original Work"],
        "ratings": ["General Audiences"],
        "warnings": ["No Archive Warnings Apply"],
        "chapters": [{"text": "<p>The boats lay on their sides in the mud until evening.</p>"}],
    }
    body.update(overrides)
    return body


def accept_invitation(work: Work, user: User) -> None:
    creatorship = Creatorship.objects.get(work=work, pseud__user=user)
    answer_co_creator_invitation(creatorship, by=user, accept=True)


# Reading


def test_work_detail_has_exactly_the_documented_fields(author: User, make_work: MakeWork) -> None:
    work = make_work(author, chapters=["<p>One two three.</p>", "<p>Four five.</p>"], expected_chapters=3)

    data = api_as().get(f"/api/v1/works/{work.pk}").json()

    assert set(data) == SUMMARY_FIELDS | {"chapters", "downloads"}
    assert data["id"] == work.pk
    assert data["url"] == settings.BASE_URL + work.get_absolute_url()
    assert data["fandoms"] == ["Original Work"]
    assert data["ratings"] == ["General Audiences"]
    assert data["warnings"] == ["No Archive Warnings Apply"]
    assert data["language"] == "en"
    assert (data["word_count"], data["chapter_count"], data["expected_chapters"]) == (5, 2, 3)
    assert data["complete"] is False
    assert data["published"] and data["updated"]
    assert data["chapters"] == [
        {"position": 1, "title": "", "notes": "", "end_notes": "", "html": "<p>One two three.</p>", "word_count": 3},
        {"position": 2, "title": "", "notes": "", "end_notes": "", "html": "<p>Four five.</p>", "word_count": 2},
    ]


def test_work_detail_credits_accepted_creators_by_pseud_and_username(
    author: User, co_author: User, reader: User, make_work: MakeWork
) -> None:
    pen_name = Pseud.objects.create(user=author, name="Gull")
    work = make_work(author, pseuds=[pen_name], co_creators=[co_author.default_pseud, reader.default_pseud])
    accept_invitation(work, co_author)  # Bob never answers, so he is not credited.

    data = api_as().get(f"/api/v1/works/{work.pk}").json()

    assert data["creators"] == [{"pseud": "Gull", "user": "alice"}, {"pseud": "carol", "user": "carol"}]


def test_work_without_source_or_prompt_shows_them_as_null(author: User, make_work: MakeWork) -> None:
    work = make_work(author)

    data = api_as().get(f"/api/v1/works/{work.pk}").json()

    assert data["source"] is None
    assert data["prompt"] is None
    assert data["expected_chapters"] is None


def test_work_shows_its_source_and_prompt(author: User, make_work: MakeWork) -> None:
    work = make_work(
        author,
        source_site="Dreamwidth",
        source_url="https://example.dreamwidth.org/1.html",
        prompt_text="Something about lighthouses.",
        prompt_relationship="Ann/Bea",
    )

    data = api_as().get(f"/api/v1/works/{work.pk}").json()

    assert data["source"] == {"site": "Dreamwidth", "url": "https://example.dreamwidth.org/1.html"}
    assert data["prompt"] == {"text": "Something about lighthouses.", "relationship": "Ann/Bea"}


def test_work_stats_come_from_its_feedback_counters(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    Work.objects.filter(pk=work.pk).update(kudos_count=7, comments_count=3, bookmarks_count=2, hits_count=120)

    data = api_as().get(f"/api/v1/works/{work.pk}").json()

    assert data["stats"] == {"kudos": 7, "comments": 3, "bookmarks": 2, "hits": 120, "subscriptions": 0}


def test_unknown_work_is_a_json_404(db: None) -> None:
    for url in ["/api/v1/works/999", "/api/v1/works/0", "/api/v1/works/abc", "/api/v1/works/99999999999999999999"]:
        response = api_as().get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not found"}


def test_unknown_api_path_is_a_json_404(db: None) -> None:
    for url in ["/api/v1/works/", "/api/v1/tags/", "/api/v1/nothing", "/api/v2/works", "/api/"]:
        response = api_as().get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not found"}


def test_listing_shows_summaries_without_chapters(author: User, make_work: MakeWork) -> None:
    work = make_work(author, tags=default_tags(freeforms=["Fluff"]))

    data = api_as().get("/api/v1/works").json()

    assert data["count"] == 1
    [item] = data["items"]
    assert set(item) == SUMMARY_FIELDS
    assert item["id"] == work.pk
    assert item["freeforms"] == ["Fluff"]
    assert item["creators"] == [{"pseud": "alice", "user": "alice"}]


def test_listing_shows_most_recently_updated_first(author: User, make_work: MakeWork) -> None:
    now = timezone.now()
    old, new, middle = (make_work(author, title=title) for title in ["Old", "New", "Middle"])
    for work, age in [(old, 3), (new, 1), (middle, 2)]:
        Work.objects.filter(pk=work.pk).update(updated_at=now - timedelta(days=age))

    data = api_as().get("/api/v1/works").json()

    assert [item["title"] for item in data["items"]] == ["New", "Middle", "Old"]


def test_listing_filters_by_exact_tag_name_in_any_case(author: User, make_work: MakeWork) -> None:
    harbour = make_work(author, tags=default_tags(relationships=["Ann/Bea"]))
    make_work(author, tags=default_tags(relationships=["Ann/Cat"]))

    found = api_as().get("/api/v1/works", {"tag": "ann/bea"}).json()
    prefix = api_as().get("/api/v1/works", {"tag": "Ann"}).json()
    unknown = api_as().get("/api/v1/works", {"tag": "No Such Tag"}).json()

    assert found["count"] == 1
    assert [item["id"] for item in found["items"]] == [harbour.pk]
    assert prefix == {"count": 0, "items": []}
    assert unknown == {"count": 0, "items": []}


def test_listing_pages_through_works(author: User, make_work: MakeWork) -> None:
    for number in range(5):
        make_work(author, title=f"Work {number}")
    client = api_as()

    pages = [client.get("/api/v1/works", {"page": page, "page_size": 2}).json() for page in (1, 2, 3)]

    assert [page["count"] for page in pages] == [5, 5, 5]
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert len(set(ids)) == 5


def test_listing_page_size_defaults_to_twenty(author: User, make_work: MakeWork) -> None:
    for number in range(21):
        make_work(author, title=f"Work {number}")

    data = api_as().get("/api/v1/works").json()

    assert (data["count"], len(data["items"])) == (21, 20)


@pytest.mark.parametrize("page", ["3", "1000", str(10**30)])
def test_listing_page_past_the_end_is_empty(author: User, make_work: MakeWork, page: str) -> None:
    make_work(author)

    response = api_as().get("/api/v1/works", {"page": page, "page_size": "1"})

    assert response.status_code == 200
    assert response.json() == {"count": 1, "items": []}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": ""}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "1.5"}, "page_size"),
    ],
)
def test_listing_rejects_bad_page_values_with_400(db: None, params: dict[str, str], field: str) -> None:
    response = api_as().get("/api/v1/works", params)

    assert response.status_code == 400
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def _listing_queries(client: ApiCaller) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/works")
    assert response.status_code == 200
    return len(queries)


def test_listing_costs_the_same_queries_for_two_works_as_for_ten(
    author: User, co_author: User, make_work: MakeWork
) -> None:
    def add_works(count: int) -> None:
        for number in range(count):
            work = make_work(
                author,
                title=f"Work {number}",
                co_creators=[co_author.default_pseud],
                tags=default_tags(characters=[f"Character {number}"], freeforms=["Fluff", f"Tag {number}"]),
            )
            accept_invitation(work, co_author)

    guest, alice = api_as(), api_as(author)
    add_works(2)
    # The first authenticated call records the token's last use, and the first call after
    # a change brings the process's filter index up to date.
    _listing_queries(alice)
    few = (_listing_queries(guest), _listing_queries(alice))
    add_works(8)
    _listing_queries(guest)
    many = (_listing_queries(guest), _listing_queries(alice))

    assert few == many
    # The index's freshness check and the page's version rows (summaries are cached per
    # version of each work); the token costs one more.
    assert many == (2, 3)


# Who sees what

VISIBLE_TO = {
    "posted": {"guest", "reader", "author", "invited co-author", "co-author", "staff"},
    "draft": {"author", "co-author"},
    "restricted": {"reader", "author", "invited co-author", "co-author", "staff"},
    # Hidden by a moderator: its creators and staff still see it.
    "hidden": {"author", "co-author", "staff"},
}
PERSONAS = ["guest", "reader", "author", "invited co-author", "co-author", "staff"]


@pytest.mark.parametrize("kind", list(VISIBLE_TO))
@pytest.mark.parametrize("persona", PERSONAS)
def test_visibility_of_works_through_the_api(
    request: pytest.FixtureRequest, author: User, co_author: User, make_work: MakeWork, kind: str, persona: str
) -> None:
    work = make_work(
        author, draft=kind == "draft", restricted=kind == "restricted", co_creators=[co_author.default_pseud]
    )
    if kind == "hidden":
        Work.objects.filter(pk=work.pk).update(hidden=True)
    if persona == "co-author":
        accept_invitation(work, co_author)
    user = {
        "guest": None,
        "reader": request.getfixturevalue("reader"),
        "author": author,
        "invited co-author": co_author,
        "co-author": co_author,
        "staff": request.getfixturevalue("staff"),
    }[persona]
    client = api_as(user)
    visible = persona in VISIBLE_TO[kind]

    detail = client.get(f"/api/v1/works/{work.pk}")
    listing = client.get("/api/v1/works").json()
    tag = client.get("/api/v1/tags/Original Work").json()

    assert detail.status_code == (200 if visible else 404)
    if not visible:
        assert detail.json() == {"detail": "Not found"}
    # Listings are for posted works, as on AO3: a creator finds their drafts on their
    # drafts page, and staff find hidden works in moderation, not among everyone's works.
    listed = visible and kind in ("posted", "restricted")
    assert listing["count"] == (1 if listed else 0)
    assert [item["id"] for item in listing["items"]] == ([work.pk] if listed else [])
    assert tag["works_count"] == (1 if visible else 0)


# Posting


def test_posting_a_work_returns_it_with_201(author: User) -> None:
    body = new_work_body(
        summary="A <em>short</em> one.",
        categories=["Gen"],
        relationships=["Ann & Bea"],
        characters=["Ann"],
        freeforms=["Seaside"],
        expected_chapters=1,
        restricted=True,
        source={"site": "Tumblr", "url": "https://example.tumblr.com/post/1"},
        prompt={"text": "Tides.", "relationship": "Ann & Bea"},
    )

    response = api_as(author).post("/api/v1/works", body)

    assert response.status_code == 201
    data = response.json()
    work = Work.objects.get()
    assert data["id"] == work.pk
    assert data["title"] == "Low Tide"
    assert data["creators"] == [{"pseud": "alice", "user": "alice"}]
    assert data["summary"] == "A <em>short</em> one."
    assert (data["categories"], data["relationships"], data["characters"]) == (["Gen"], ["Ann & Bea"], ["Ann"])
    assert data["complete"] is True
    assert (data["restricted"], data["draft"]) == (True, False)
    assert data["source"] == body["source"]
    assert data["prompt"] == body["prompt"]
    assert data["chapters"][0]["html"] == "<p>The boats lay on their sides in the mud until evening.</p>"


def test_posting_converts_markdown_and_plain_text_chapters(author: User) -> None:
    body = new_work_body(
        chapters=[
            {"text": "Some *very* calm water.", "format": "markdown", "title": "Calm"},
            {"text": "Line one\nline two\n\n<b>not bold</b>", "format": "text"},
        ]
    )

    data = api_as(author).post("/api/v1/works", body).json()

    first, second = data["chapters"]
    assert "<em>very</em>" in first["html"]
    assert first["title"] == "Calm"
    assert second["html"].startswith("<p>Line one<br>")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in second["html"]
    assert data["chapter_count"] == 2


def test_posting_removes_scripts(author: User) -> None:
    body = new_work_body(chapters=[{"text": "<p>Safe words.</p><script>alert(1)</script>"}])

    data = api_as(author).post("/api/v1/works", body).json()

    assert "<script" not in data["chapters"][0]["html"]
    assert "alert" not in data["chapters"][0]["html"]
    assert "Safe words." in data["chapters"][0]["html"]


def test_posting_under_one_of_your_pseuds(author: User) -> None:
    Pseud.objects.create(user=author, name="Gull")

    data = api_as(author).post("/api/v1/works", new_work_body(pseuds=["gull"])).json()

    assert data["creators"] == [{"pseud": "Gull", "user": "alice"}]


def test_posted_draft_is_visible_to_its_author_only(author: User, reader: User) -> None:
    data = api_as(author).post("/api/v1/works", new_work_body(draft=True)).json()

    assert data["draft"] is True
    assert data["published"] is None
    assert api_as(reader).get(f"/api/v1/works/{data['id']}").status_code == 404


# Changing


def test_patch_changes_title_and_replaces_only_the_tag_lists_sent(author: User, make_work: MakeWork) -> None:
    work = make_work(author, tags=default_tags(relationships=["Ann/Bea"], freeforms=["Fluff"]))

    body = {"title": "High Tide", "relationships": ["Ann/Cat"]}

    response = api_as(author).patch(f"/api/v1/works/{work.pk}", body)

    assert response.status_code == 200
    data = response.json()
    assert data["title"] == "High Tide"
    assert data["relationships"] == ["Ann/Cat"]
    assert data["freeforms"] == ["Fluff"]
    assert data["fandoms"] == ["Original Work"]
    assert Work.objects.get(pk=work.pk).title == "High Tide"


def test_patch_leaves_out_fields_that_are_not_sent(author: User, make_work: MakeWork) -> None:
    work = make_work(author, summary="<p>Kept.</p>", expected_chapters=4, source_site="LiveJournal")

    data = api_as(author).patch(f"/api/v1/works/{work.pk}", {"restricted": True}).json()

    assert data["restricted"] is True
    assert data["summary"] == "<p>Kept.</p>"
    assert data["expected_chapters"] == 4
    assert data["source"] == {"site": "LiveJournal", "url": ""}


def test_patch_with_null_clears_expected_chapters_source_and_prompt(author: User, make_work: MakeWork) -> None:
    work = make_work(author, expected_chapters=4, source_site="LiveJournal", prompt_text="Tides.")

    data = api_as(author).patch(
        f"/api/v1/works/{work.pk}", {"expected_chapters": None, "source": None, "prompt": None}
    ).json()

    assert (data["expected_chapters"], data["source"], data["prompt"]) == (None, None, None)


def test_patch_publishes_a_draft(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, draft=True)

    data = api_as(author).patch(f"/api/v1/works/{work.pk}", {"draft": False}).json()

    assert data["draft"] is False
    assert data["published"] is not None
    assert api_as(reader).get(f"/api/v1/works/{work.pk}").status_code == 200


def test_patch_by_someone_who_can_see_the_work_but_did_not_write_it_is_403(
    author: User, reader: User, co_author: User, make_work: MakeWork
) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])

    for user in (reader, co_author):  # Carol has not accepted her invitation yet.
        response = api_as(user).patch(f"/api/v1/works/{work.pk}", {"title": "Mine Now"})
        assert response.status_code == 403
        assert "detail" in response.json()
    assert Work.objects.get(pk=work.pk).title == "A Quiet Harbour"


def test_patch_by_an_accepted_co_author_works(author: User, co_author: User, make_work: MakeWork) -> None:
    work = make_work(author, co_creators=[co_author.default_pseud])
    accept_invitation(work, co_author)

    response = api_as(co_author).patch(f"/api/v1/works/{work.pk}", {"title": "Ours"})

    assert response.status_code == 200
    assert response.json()["title"] == "Ours"


def test_patch_of_a_draft_the_caller_cannot_see_is_404(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author, draft=True)

    response = api_as(reader).patch(f"/api/v1/works/{work.pk}", {"title": "Mine Now"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


def test_adding_a_chapter_appends_it(author: User, make_work: MakeWork) -> None:
    work = make_work(author, expected_chapters=2)

    body = {"text": "The *second* tide.", "format": "markdown"}

    response = api_as(author).post(f"/api/v1/works/{work.pk}/chapters", body)

    assert response.status_code == 201
    data = response.json()
    assert [chapter["position"] for chapter in data["chapters"]] == [1, 2]
    assert "<em>second</em>" in data["chapters"][1]["html"]
    assert data["complete"] is True


def test_adding_a_chapter_to_someone_elses_work_is_403(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = api_as(reader).post(f"/api/v1/works/{work.pk}/chapters", {"text": "Hijacked."})

    assert response.status_code == 403
    assert work.chapters.count() == 1


# Deleting


def test_delete_by_the_author_is_204_and_the_work_is_gone(author: User, make_work: MakeWork) -> None:
    work = make_work(author)
    client = api_as(author)

    response = client.delete(f"/api/v1/works/{work.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/v1/works/{work.pk}").status_code == 404
    assert not Work.objects.filter(pk=work.pk).exists()


def test_delete_by_a_reader_is_403_and_keeps_the_work(author: User, reader: User, make_work: MakeWork) -> None:
    work = make_work(author)

    response = api_as(reader).delete(f"/api/v1/works/{work.pk}")

    assert response.status_code == 403
    assert Work.objects.filter(pk=work.pk).exists()


def test_delete_of_a_draft_the_caller_cannot_see_is_404(author: User, staff: User, make_work: MakeWork) -> None:
    work = make_work(author, draft=True)

    assert api_as(staff).delete(f"/api/v1/works/{work.pk}").status_code == 404
    assert Work.objects.filter(pk=work.pk).exists()


# Tags


def test_tag_shows_its_type_and_visible_work_count(author: User, make_work: MakeWork) -> None:
    make_work(author, tags=default_tags(relationships=["Alice/Bob"]))
    make_work(author, tags=default_tags(relationships=["Alice/Bob"]), restricted=True)

    response = api_as().get("/api/v1/tags/Alice/Bob")

    assert response.status_code == 200
    tag = Tag.objects.get(name="Alice/Bob")
    assert response.json() == {
        "name": "Alice/Bob",
        "type": "relationship",
        "canonical": False,
        "works_count": 1,
        "url": settings.BASE_URL + tag.get_absolute_url(),
    }
    assert api_as(author).get("/api/v1/tags/alice/bob").json()["works_count"] == 2


def test_fixed_tags_are_canonical(db: None) -> None:
    data = api_as().get("/api/v1/tags/General Audiences").json()

    assert (data["type"], data["canonical"], data["works_count"]) == ("rating", True, 0)


def test_unknown_tag_is_a_json_404(db: None) -> None:
    response = api_as().get("/api/v1/tags/Nobody/Nothing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


# Schema and docs


def test_openapi_schema_lists_every_route(db: None) -> None:
    response = api_as().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/works",
        "/api/v1/works/{work_id}",
        "/api/v1/works/{work_id}/chapters",
        "/api/v1/tags/{name}",
        "/api/v1/search",
        "/api/v1/works/{work_id}/kudos",
        "/api/v1/works/{work_id}/comments",
        "/api/v1/bookmarks",
        "/api/v1/bookmarks/{bookmark_id}",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscription_id}",
        "/api/v1/inbox",
        "/api/v1/inbox/read",
        "/api/v1/collections",
        "/api/v1/collections/{name}",
        "/api/v1/collections/{name}/prompts",
        "/api/v1/prompts/{prompt_id}/claims",
        "/api/v1/claims/{claim_id}",
    }
    assert set(paths["/api/v1/works"]) == {"get", "post"}
    assert set(paths["/api/v1/works/{work_id}"]) == {"get", "patch", "delete"}
    # Reads take the token when there is one; writes require it.
    assert paths["/api/v1/works"]["get"]["security"] == [{"TokenAuth": []}, {}]
    assert paths["/api/v1/works"]["post"]["security"] == [{"TokenAuth": []}]
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_docs_page_is_served(db: None) -> None:
    response = api_as().get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
