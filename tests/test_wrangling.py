"""Tag wrangling: canonical tags, synonyms, parent tags and fandoms, in bulk, by wranglers only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from chapbook.people.models import User
from chapbook.tags import services
from chapbook.tags.models import Tag, TagType
from chapbook.tags.services import (
    add_parents,
    assign_fandoms,
    make_canonical,
    make_synonym,
    make_unwrangled,
    remove_fandoms,
    remove_parents,
)
from chapbook.works.models import Work
from tests.conftest import default_tags, login, make_user, queries_for

CHARACTER, FANDOM, FREEFORM, RELATIONSHIP = TagType.CHARACTER, TagType.FANDOM, TagType.FREEFORM, TagType.RELATIONSHIP


@pytest.fixture
def wrangler(db: None) -> User:
    """Wendy wrangles tags, through the "Tag wranglers" group that a migration creates."""
    user = make_user("wendy")
    user.groups.add(Group.objects.get(name="Tag wranglers"))
    return user


def tag(name: str, tag_type: str = CHARACTER, *, canonical: bool = False) -> Tag:
    return Tag.objects.create(name=name, type=tag_type, canonical=canonical)


def canonical(name: str, tag_type: str = CHARACTER) -> Tag:
    return tag(name, tag_type, canonical=True)


def fresh(*tags: Tag) -> list[Tag]:
    for t in tags:
        t.refresh_from_db()
    return list(tags)


def names(tags: Any) -> set[str]:
    return {t.name for t in tags}


def messages_of(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(error.value.messages)


# --------------------------------------------------------------------- who may wrangle


def test_it_refuses_a_reader_who_is_not_a_wrangler(reader: User) -> None:
    ben = tag("Ben Solo")

    with pytest.raises(PermissionDenied):
        make_canonical([ben], by=reader)

    assert not fresh(ben)[0].canonical


def test_a_superuser_wrangles_without_being_in_the_group(staff: User) -> None:
    ben = tag("Ben Solo")

    make_canonical([ben], by=staff)

    assert fresh(ben)[0].canonical


def test_the_wranglers_group_holds_the_permission(wrangler: User) -> None:
    assert wrangler.has_perm("tags.wrangle_tag")


# --------------------------------------------------------------------- canonical and unwrangled


def test_it_makes_tags_canonical_in_bulk(wrangler: User) -> None:
    ben, rey = tag("Ben Solo"), tag("Rey")

    changed = make_canonical([ben, rey], by=wrangler)

    assert names(changed) == {"Ben Solo", "Rey"}
    assert all(t.canonical for t in fresh(ben, rey))


def test_it_moves_wrangled_at_on_every_tag_it_changes_and_no_other(wrangler: User) -> None:
    ben, rey, finn = tag("Ben Solo"), canonical("Rey"), tag("Finn")

    make_canonical([ben, rey], by=wrangler)

    ben, rey, finn = fresh(ben, rey, finn)
    assert ben.wrangled_at is not None
    assert rey.wrangled_at is None  # already canonical: nothing changed
    assert finn.wrangled_at is None


def test_it_asks_the_filter_index_to_rebuild_once_per_change(wrangler: User, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[None] = []
    monkeypatch.setattr(services, "tags_wrangled", lambda: calls.append(None))
    ben, rey = tag("Ben Solo"), tag("Rey")

    make_canonical([ben, rey], by=wrangler)
    make_canonical([ben, rey], by=wrangler)

    assert len(calls) == 1  # the second call changed nothing


def test_a_synonym_made_canonical_stops_being_a_synonym(wrangler: User) -> None:
    ben = canonical("Ben Solo")
    kylo = tag("Kylo Ren")
    make_synonym([kylo], of=ben, by=wrangler)

    make_canonical([kylo], by=wrangler)

    kylo = fresh(kylo)[0]
    assert kylo.canonical and kylo.synonym_of is None


def test_it_refuses_to_wrangle_the_archives_fixed_tags(wrangler: User) -> None:
    teen = Tag.fixed("Teen And Up Audiences", TagType.RATING)
    assert teen is not None

    with pytest.raises(ValidationError) as error:
        make_unwrangled([teen], by=wrangler)

    assert "cannot be wrangled" in messages_of(error)
    assert fresh(teen)[0].canonical


def test_it_refuses_to_unwrangle_a_canonical_tag_that_still_has_synonyms(wrangler: User) -> None:
    ben = canonical("Ben Solo")
    make_synonym([tag("Kylo Ren")], of=ben, by=wrangler)

    with pytest.raises(ValidationError) as error:
        make_unwrangled([ben], by=wrangler)

    assert "“Ben Solo” still has synonyms (“Kylo Ren”)" in messages_of(error)
    assert fresh(ben)[0].canonical


def test_it_refuses_to_unwrangle_a_fandom_that_still_has_tags_in_it(wrangler: User) -> None:
    star_wars = canonical("Star Wars", FANDOM)
    assign_fandoms([tag("Rey")], fandoms=[star_wars], by=wrangler)

    with pytest.raises(ValidationError) as error:
        make_unwrangled([star_wars], by=wrangler)

    assert "still has tags in it (“Rey”)" in messages_of(error)


def test_it_unwrangles_a_tag_together_with_its_synonyms_in_one_call(wrangler: User) -> None:
    ben, kylo = canonical("Ben Solo"), tag("Kylo Ren")
    make_synonym([kylo], of=ben, by=wrangler)

    make_unwrangled([ben, kylo], by=wrangler)

    ben, kylo = fresh(ben, kylo)
    assert not ben.canonical and ben.synonym_of is None
    assert not kylo.canonical and kylo.synonym_of is None


def test_unwrangling_drops_parent_tags_but_keeps_fandoms(wrangler: User) -> None:
    star_wars = canonical("Star Wars", FANDOM)
    ben, kylo = canonical("Ben Solo"), canonical("Kylo Ren")
    add_parents([kylo], parents=[ben], by=wrangler)
    assign_fandoms([kylo], fandoms=[star_wars], by=wrangler)

    make_unwrangled([kylo], by=wrangler)

    assert names(kylo.parents.all()) == {"Star Wars"}
    assert fresh(ben)[0].wrangled_at is not None  # it lost a sub-tag


# --------------------------------------------------------------------- synonyms


def test_it_makes_tags_synonyms_and_takes_away_their_canonical(wrangler: User) -> None:
    ben = canonical("Ben Solo")
    kylo, ben_s = canonical("Kylo Ren"), tag("ben solo (star wars)")

    changed = make_synonym([kylo, ben_s], of=ben, by=wrangler)

    assert names(changed) == {"Kylo Ren", "ben solo (star wars)"}
    for synonym in fresh(kylo, ben_s):
        assert synonym.synonym_of == ben and not synonym.canonical
        assert synonym.wrangled_at is not None
    assert names(ben.synonyms.all()) == {"Kylo Ren", "ben solo (star wars)"}


def test_it_refuses_a_synonym_of_a_tag_that_is_not_canonical(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        make_synonym([tag("Kylo")], of=tag("Kylo Ren"), by=wrangler)

    assert "“Kylo Ren” is not canonical" in messages_of(error)


def test_it_refuses_a_synonym_of_another_type(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        make_synonym([tag("Reylo", FREEFORM)], of=canonical("Ben Solo/Rey", RELATIONSHIP), by=wrangler)

    assert "synonyms must be of the same type" in messages_of(error)


def test_it_refuses_a_tag_as_its_own_synonym(wrangler: User) -> None:
    ben = canonical("Ben Solo")

    with pytest.raises(ValidationError) as error:
        make_synonym([ben], of=ben, by=wrangler)

    assert "cannot be a synonym of itself" in messages_of(error)
    assert fresh(ben)[0].canonical


def test_merging_a_canonical_tag_hands_its_synonyms_sub_tags_parents_and_fandoms_to_the_target(wrangler: User) -> None:
    """As on AO3: merging a duplicate canonical tag loses nothing."""
    star_wars = canonical("Star Wars", FANDOM)
    skywalkers = canonical("Skywalker Family")
    ben, solo = canonical("Ben Solo"), canonical("Ben Solo (Star Wars)")
    kylo, young_ben = canonical("Kylo Ren"), tag("young ben")
    add_parents([solo], parents=[skywalkers], by=wrangler)
    add_parents([kylo], parents=[solo], by=wrangler)
    assign_fandoms([solo], fandoms=[star_wars], by=wrangler)
    make_synonym([young_ben], of=solo, by=wrangler)

    make_synonym([solo], of=ben, by=wrangler)

    assert names(ben.synonyms.all()) == {"Ben Solo (Star Wars)", "young ben"}
    assert names(ben.children.all()) == {"Kylo Ren"}
    assert names(ben.parents.all()) == {"Skywalker Family", "Star Wars"}
    # The synonym keeps its fandom, so it stays out of the unwrangled bin, and nothing else.
    assert names(solo.parents.all()) == {"Star Wars"}
    assert not solo.children.exists() and not solo.synonyms.exists()
    for moved in fresh(kylo, young_ben, skywalkers):
        assert moved.wrangled_at is not None


def test_merging_a_fandom_moves_its_tags_and_child_fandoms(wrangler: User) -> None:
    star_wars, sw = canonical("Star Wars", FANDOM), canonical("SW", FANDOM)
    sequels = canonical("Star Wars Sequel Trilogy", FANDOM)
    rey = tag("Rey")
    add_parents([sequels], parents=[sw], by=wrangler)
    assign_fandoms([rey], fandoms=[sw], by=wrangler)

    make_synonym([sw], of=star_wars, by=wrangler)

    assert names(star_wars.children.all()) == {"Rey", "Star Wars Sequel Trilogy"}
    assert not sw.children.exists()


def test_merging_a_sub_tag_into_its_own_parent_just_drops_the_link(wrangler: User) -> None:
    ben, kylo = canonical("Ben Solo"), canonical("Kylo Ren")
    add_parents([kylo], parents=[ben], by=wrangler)

    make_synonym([kylo], of=ben, by=wrangler)

    assert not ben.parents.exists() and not ben.children.exists()
    assert fresh(kylo)[0].synonym_of == ben


def test_it_refuses_to_merge_tags_linked_through_another_tag(wrangler: User) -> None:
    """Skywalkers > Anakin > Luke: merging Luke into Skywalkers would make Anakin its own parent."""
    skywalkers, anakin, luke = canonical("Skywalkers"), canonical("Anakin"), canonical("Luke")
    add_parents([anakin], parents=[skywalkers], by=wrangler)
    add_parents([luke], parents=[anakin], by=wrangler)

    with pytest.raises(ValidationError) as error:
        make_synonym([luke], of=skywalkers, by=wrangler)

    assert "would make a cycle" in messages_of(error)
    assert fresh(luke)[0].canonical


def test_wrangling_never_changes_the_tags_on_a_work(
    wrangler: User, author: User, make_work: Callable[..., Work]
) -> None:
    work = make_work(author, tags=default_tags(characters=["kylo"]))
    ben = canonical("Ben Solo")

    make_synonym([Tag.objects.get(name="kylo")], of=ben, by=wrangler)

    assert names(work.tags.filter(type=CHARACTER)) == {"kylo"}


def test_a_filter_on_a_canonical_tag_finds_its_synonyms_and_sub_tags_works_once_committed(
    wrangler: User, author: User, make_work: Callable[..., Work], django_capture_on_commit_callbacks: Any
) -> None:
    from chapbook.listings.query import Filters, find_works

    kylo_work = make_work(author, title="Mask", tags=default_tags(characters=["kylo"]))
    young_work = make_work(author, title="Padawan", tags=default_tags(characters=["Young Ben Solo"]))
    make_work(author, title="Elsewhere", tags=default_tags(characters=["Rey"]))
    ben = canonical("Ben Solo")
    young_ben = Tag.objects.get(name="Young Ben Solo")

    with django_capture_on_commit_callbacks(execute=True):
        make_canonical([young_ben], by=wrangler)
        make_synonym([Tag.objects.get(name="kylo")], of=ben, by=wrangler)
        add_parents([young_ben], parents=[ben], by=wrangler)

    assert set(find_works(Filters(include=(ben.pk,)), user=None).ids) == {kylo_work.pk, young_work.pk}


# --------------------------------------------------------------------- parent tags


def test_it_adds_parents_in_bulk(wrangler: User) -> None:
    skywalkers, jedi = canonical("Skywalkers"), canonical("Jedi")
    luke, leia = canonical("Luke"), canonical("Leia")

    changed = add_parents([luke, leia], parents=[skywalkers, jedi], by=wrangler)

    assert names(changed) == {"Luke", "Leia"}
    assert names(luke.parents.all()) == names(leia.parents.all()) == {"Skywalkers", "Jedi"}
    assert all(t.wrangled_at is not None for t in fresh(skywalkers, jedi, luke, leia))


def test_adding_a_parent_twice_changes_nothing_the_second_time(wrangler: User) -> None:
    ben, kylo = canonical("Ben Solo"), canonical("Kylo Ren")
    add_parents([kylo], parents=[ben], by=wrangler)

    assert add_parents([kylo], parents=[ben], by=wrangler) == []


def test_it_refuses_a_parent_that_would_make_a_cycle(wrangler: User) -> None:
    """Skywalkers > Anakin > Luke: Luke cannot become a parent of Skywalkers, however far apart."""
    skywalkers, anakin, luke = canonical("Skywalkers"), canonical("Anakin"), canonical("Luke")
    add_parents([anakin], parents=[skywalkers], by=wrangler)
    add_parents([luke], parents=[anakin], by=wrangler)

    with pytest.raises(ValidationError) as error:
        add_parents([skywalkers], parents=[luke], by=wrangler)

    assert "“Luke” is already a sub-tag of “Skywalkers”" in messages_of(error)
    assert not skywalkers.parents.exists()


def test_it_refuses_a_cycle_made_within_one_bulk_call(wrangler: User) -> None:
    luke, leia = canonical("Luke"), canonical("Leia")

    with pytest.raises(ValidationError) as error:
        add_parents([luke, leia], parents=[luke], by=wrangler)

    assert "cannot be a parent tag of itself" in messages_of(error)
    assert not luke.parents.exists() and not leia.parents.exists()


def test_it_refuses_a_parent_that_is_not_canonical(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        add_parents([canonical("Kylo Ren")], parents=[tag("ben")], by=wrangler)

    assert "“ben” is not canonical" in messages_of(error)


def test_it_refuses_parents_for_a_tag_that_is_not_canonical(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        add_parents([tag("kylo")], parents=[canonical("Ben Solo")], by=wrangler)

    assert "only canonical tags have parent tags" in messages_of(error)


def test_it_refuses_a_parent_of_another_type_and_points_to_fandoms(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        add_parents([canonical("Rey")], parents=[canonical("Star Wars", FANDOM)], by=wrangler)

    assert "assign fandom" in messages_of(error)


def test_a_fandom_can_have_a_parent_fandom(wrangler: User) -> None:
    star_wars, sequels = canonical("Star Wars", FANDOM), canonical("Star Wars Sequel Trilogy", FANDOM)

    add_parents([sequels], parents=[star_wars], by=wrangler)

    assert names(star_wars.children.all()) == {"Star Wars Sequel Trilogy"}


def test_it_removes_parents_and_leaves_other_tags_alone(wrangler: User) -> None:
    skywalkers, jedi = canonical("Skywalkers"), canonical("Jedi")
    luke, han = canonical("Luke"), canonical("Han")
    add_parents([luke], parents=[skywalkers, jedi], by=wrangler)

    changed = remove_parents([luke, han], parents=[jedi], by=wrangler)

    assert names(changed) == {"Luke"}
    assert names(luke.parents.all()) == {"Skywalkers"}


def test_a_refused_bulk_call_changes_nothing(wrangler: User) -> None:
    ben = canonical("Ben Solo")
    kylo, reylo = canonical("Kylo Ren"), canonical("Reylo", FREEFORM)

    with pytest.raises(ValidationError):
        add_parents([kylo, reylo], parents=[ben], by=wrangler)

    assert not kylo.parents.exists() and fresh(kylo)[0].wrangled_at is None


# --------------------------------------------------------------------- fandoms


def test_it_assigns_fandoms_to_characters_relationships_and_freeforms_wrangled_or_not(wrangler: User) -> None:
    star_wars, sequels = canonical("Star Wars", FANDOM), canonical("Star Wars Sequel Trilogy", FANDOM)
    rey, reylo, angst = canonical("Rey"), tag("Ben Solo/Rey", RELATIONSHIP), tag("Angst", FREEFORM)

    changed = assign_fandoms([rey, reylo, angst], fandoms=[star_wars, sequels], by=wrangler)

    assert names(changed) == {"Rey", "Ben Solo/Rey", "Angst"}
    assert names(star_wars.children.all()) == {"Rey", "Ben Solo/Rey", "Angst"}
    assert names(reylo.parents.all()) == {"Star Wars", "Star Wars Sequel Trilogy"}


def test_it_refuses_a_fandom_that_is_not_canonical(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        assign_fandoms([tag("Rey")], fandoms=[tag("star wars", FANDOM)], by=wrangler)

    assert "only canonical fandoms" in messages_of(error)


def test_it_refuses_a_fandom_that_is_not_a_fandom(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        assign_fandoms([tag("Rey")], fandoms=[canonical("Ben Solo")], by=wrangler)

    assert "“Ben Solo”: not a fandom" in messages_of(error)


def test_it_refuses_fandoms_for_a_fandom_tag(wrangler: User) -> None:
    with pytest.raises(ValidationError) as error:
        assign_fandoms([canonical("Sequels", FANDOM)], fandoms=[canonical("Star Wars", FANDOM)], by=wrangler)

    assert "only characters, relationships and additional tags belong to fandoms" in messages_of(error)


def test_it_removes_fandoms(wrangler: User) -> None:
    star_wars, rey = canonical("Star Wars", FANDOM), tag("Rey")
    assign_fandoms([rey], fandoms=[star_wars], by=wrangler)

    assert names(remove_fandoms([rey], fandoms=[star_wars], by=wrangler)) == {"Rey"}
    assert not rey.parents.exists()


# --------------------------------------------------------------------- the wrangling pages


def test_a_reader_is_refused_the_wrangling_pages(reader: User) -> None:
    rey = canonical("Rey")
    client = login(reader)

    assert client.get("/tags/wrangle/").status_code == 403
    assert client.get("/tags/Rey/wrangle").status_code == 403
    assert client.post("/tags/Rey/wrangle", {"action": "unwrangle"}).status_code == 403
    assert fresh(rey)[0].canonical


def test_a_guest_is_sent_to_log_in(db: None) -> None:
    response = Client().get("/tags/wrangle/")

    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_header_links_to_wrangling_only_for_wranglers(wrangler: User, reader: User) -> None:
    assert 'href="/tags/wrangle/"' in login(wrangler).get("/works/").content.decode()
    assert 'href="/tags/wrangle/"' not in login(reader).get("/works/").content.decode()


def test_the_search_page_lists_unwrangled_tags_until_asked_otherwise(wrangler: User) -> None:
    tag("kylo"), canonical("Rey")

    page = login(wrangler).get("/tags/wrangle/").content.decode()

    assert "kylo" in page and ">Rey<" not in page
    assert "General Audiences" not in page  # fixed tags are never listed


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"q": "solo"}, {"Ben Solo", "Han Solo", "Ben Solo/Rey"}),
        ({"q": "solo", "type": "relationship"}, {"Ben Solo/Rey"}),
        ({"fandom": "star wars"}, {"Rey", "Ben Solo/Rey"}),
        ({"status": "canonical", "type": "character"}, {"Ben Solo", "Rey"}),
        ({"status": "synonym"}, {"Han Solo"}),
        ({"status": "unwrangled"}, {"Ben Solo/Rey"}),
    ],
)
def test_the_search_page_finds_tags_by_name_type_fandom_and_status(
    wrangler: User, query: dict[str, str], expected: set[str]
) -> None:
    star_wars, ben, rey = canonical("Star Wars", FANDOM), canonical("Ben Solo"), canonical("Rey")
    reylo = tag("Ben Solo/Rey", RELATIONSHIP)
    make_synonym([tag("Han Solo")], of=ben, by=wrangler)
    assign_fandoms([rey, reylo], fandoms=[star_wars], by=wrangler)

    page = login(wrangler).get("/tags/wrangle/", {"type": "", "status": "", **query}).content.decode()

    listed = {t.name for t in Tag.objects.exclude(name__in=["Star Wars"]) if f">{t.name}</a></label>" in page}
    assert listed == expected


def test_the_search_page_says_when_a_fandom_does_not_exist(wrangler: User) -> None:
    page = login(wrangler).get("/tags/wrangle/", {"fandom": "Nowhere"}).content.decode()

    assert "No fandom is called “Nowhere”." in page


def test_the_search_page_costs_the_same_queries_for_two_or_ten_tags(wrangler: User) -> None:
    star_wars = canonical("Star Wars", FANDOM)
    client = login(wrangler)
    for number in range(2):
        assign_fandoms([tag(f"Tag {number}")], fandoms=[star_wars], by=wrangler)
    two = queries_for(client, "/tags/wrangle/")
    for number in range(2, 10):
        assign_fandoms([tag(f"Tag {number}")], fandoms=[star_wars], by=wrangler)

    assert queries_for(client, "/tags/wrangle/") == two


def test_the_bulk_form_makes_the_ticked_tags_synonyms(wrangler: User) -> None:
    ben, kylo, ben_s, rey = canonical("Ben Solo"), tag("kylo"), tag("ben s"), tag("rey")

    response = login(wrangler).post(
        "/tags/wrangle/?status=unwrangled",
        {"tags": [kylo.pk, ben_s.pk], "action": "synonym", "names": "ben solo"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/tags/wrangle/?status=unwrangled"
    assert "2 tags wrangled." in response.content.decode()
    assert names(ben.synonyms.all()) == {"kylo", "ben s"}
    assert fresh(rey)[0].synonym_of is None


def test_the_bulk_form_shows_why_the_services_refused(wrangler: User) -> None:
    kylo = tag("kylo")
    tag("ben")

    response = login(wrangler).post("/tags/wrangle/", {"tags": [kylo.pk], "action": "synonym", "names": "ben"})

    assert response.status_code == 200
    assert "“ben” is not canonical" in response.content.decode()


def test_the_bulk_form_needs_ticked_tags_and_a_known_name(wrangler: User) -> None:
    kylo = tag("kylo")
    client = login(wrangler)

    nothing = client.post("/tags/wrangle/", {"action": "canonical"}).content.decode()
    unknown = client.post("/tags/wrangle/", {"tags": [kylo.pk], "action": "add_parent", "names": "Nobody"}).content.decode()

    assert "Tick at least one tag." in nothing
    assert "No tag is called “Nobody”." in unknown


def test_the_tag_wrangling_page_adds_a_parent_by_name_at_an_escaped_url(wrangler: User) -> None:
    reylo, ships = canonical("Ben Solo/Rey", RELATIONSHIP), canonical("Star Wars Ships", RELATIONSHIP)
    client = login(wrangler)

    response = client.post("/tags/Ben Solo*s*Rey/wrangle", {"action": "add_parent", "names": "Star Wars Ships"})

    assert response.status_code == 302 and response["Location"] == "/tags/Ben%20Solo*s*Rey/wrangle"
    assert names(reylo.parents.all()) == {"Star Wars Ships"}
    page = client.get("/tags/Ben Solo*s*Rey/wrangle").content.decode()
    assert "Star Wars Ships" in page and ships.name in page


def test_the_tag_wrangling_page_adds_synonyms_and_sub_tags_to_its_tag(wrangler: User) -> None:
    ben, kylo = canonical("Ben Solo"), canonical("Kylo Ren")
    tag("ben"), tag("benjamin")
    client = login(wrangler)

    client.post("/tags/Ben Solo/wrangle", {"action": "add_synonym", "names": "ben, benjamin"})
    client.post("/tags/Ben Solo/wrangle", {"action": "add_child", "names": "Kylo Ren"})

    assert names(ben.synonyms.all()) == {"ben", "benjamin"}
    assert names(ben.children.all()) == {"Kylo Ren"}
    assert fresh(kylo)[0].wrangled_at is not None


def test_the_tag_wrangling_page_shows_a_refusal_above_its_forms(wrangler: User) -> None:
    canonical("Ben Solo")

    response = login(wrangler).post("/tags/Ben Solo/wrangle", {"action": "synonym", "names": "Ben Solo"})

    assert response.status_code == 200
    assert "cannot be a synonym of itself" in response.content.decode()


# --------------------------------------------------------------------- the tag page


def test_the_tag_page_shows_synonyms_parents_sub_tags_and_fandoms(
    wrangler: User, author: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, tags=default_tags(characters=["kylo"]))
    star_wars, skywalkers = canonical("Star Wars", FANDOM), canonical("Skywalker Family")
    ben, young_ben = canonical("Ben Solo"), canonical("Young Ben Solo")
    make_synonym([Tag.objects.get(name="kylo")], of=ben, by=wrangler)
    add_parents([ben], parents=[skywalkers], by=wrangler)
    add_parents([young_ben], parents=[ben], by=wrangler)
    assign_fandoms([ben], fandoms=[star_wars], by=wrangler)

    page = Client().get("/tags/Ben Solo/").content.decode()

    assert "Character tag · canonical" in page
    assert '<dt>Synonyms:</dt><dd><ul><li><a href="/tags/kylo/">kylo</a>' in page
    assert '<dt>Parent tags:</dt><dd><ul><li><a href="/tags/Skywalker%20Family/">' in page
    assert '<dt>Sub-tags:</dt><dd><ul><li><a href="/tags/Young%20Ben%20Solo/">' in page
    assert '<dt>Fandoms:</dt><dd><ul><li><a href="/tags/Star%20Wars/">' in page
    assert 'href="/tags/Ben%20Solo/works"' in page


def test_a_synonyms_page_sends_readers_to_its_canonical_tag(
    wrangler: User, author: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, tags=default_tags(characters=["kylo"]))
    make_synonym([Tag.objects.get(name="kylo")], of=canonical("Ben Solo"), by=wrangler)

    page = Client().get("/tags/kylo/").content.decode()

    assert 'This tag is a synonym of <a href="/tags/Ben%20Solo/"><strong>Ben Solo</strong></a>' in page
    assert 'href="/tags/Ben%20Solo/works"' in page


def test_a_fandom_page_shows_its_parent_and_child_fandoms(wrangler: User) -> None:
    star_wars, sequels = canonical("Star Wars", FANDOM), canonical("Star Wars Sequel Trilogy", FANDOM)
    add_parents([sequels], parents=[star_wars], by=wrangler)

    parent_page = Client().get("/tags/Star Wars/").content.decode()
    child_page = Client().get("/tags/Star Wars Sequel Trilogy/").content.decode()

    assert "<dt>Child fandoms:</dt>" in parent_page and "Star Wars Sequel Trilogy" in parent_page
    assert "<dt>Parent fandoms:</dt>" in child_page


def test_the_tag_page_does_not_name_a_synonym_only_a_draft_carries(
    wrangler: User, author: User, make_work: Callable[..., Work]
) -> None:
    make_work(author, tags=default_tags(characters=["secret kylo"]), draft=True)
    make_synonym([Tag.objects.get(name="secret kylo")], of=canonical("Ben Solo"), by=wrangler)

    assert "secret kylo" not in Client().get("/tags/Ben Solo/").content.decode()
    assert "secret kylo" in login(wrangler).get("/tags/Ben Solo/").content.decode()


def test_the_tag_page_links_wranglers_to_the_wrangling_page(wrangler: User, reader: User) -> None:
    canonical("Rey")

    assert 'href="/tags/Rey/wrangle"' in login(wrangler).get("/tags/Rey/").content.decode()
    assert 'href="/tags/Rey/wrangle"' not in login(reader).get("/tags/Rey/").content.decode()


# --------------------------------------------------------------------- the admin


def test_the_admin_refuses_a_parent_that_would_make_a_cycle(staff: User, wrangler: User) -> None:
    ben, kylo = canonical("Ben Solo"), canonical("Kylo Ren")
    add_parents([kylo], parents=[ben], by=wrangler)

    response = login(staff).post(
        f"/admin/tags/tag/{ben.pk}/change/",
        {"name": "Ben Solo", "type": "character", "canonical": "on", "parents": [kylo.pk]},
    )

    assert response.status_code == 200
    assert "would make a cycle" in response.content.decode()
    assert not ben.parents.exists()


def test_an_admin_edit_moves_wrangled_at(staff: User) -> None:
    ben, kylo = canonical("Ben Solo"), tag("kylo")

    response = login(staff).post(
        f"/admin/tags/tag/{kylo.pk}/change/", {"name": "kylo", "type": "character", "synonym_of": ben.pk}
    )

    assert response.status_code == 302
    kylo = fresh(kylo)[0]
    assert kylo.synonym_of == ben and kylo.wrangled_at is not None
