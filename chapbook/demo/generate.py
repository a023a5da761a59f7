"""A synthetic archive shaped like AO3's, written in bulk: what `chapbook generate` runs.

The archive is drawn in two steps. `plan_tags` invents the tags: fandoms whose sizes follow
a Zipf-Mandelbrot law (a handful of fandoms hold a large share), a few franchise fandoms
above some of them, each fandom's own characters and relationships, and one large shared
pool of additional tags; some tags are synonyms of others and the rare ones are left
unwrangled, as on AO3. `draw_block` then draws works in blocks of `BLOCK`, each block from
its own random stream, so a seed always gives the same archive whatever the batch size.

With `text`, each block's chapters also get prose from `chapbook.demo.prose`, drawn from
a stream of the block's own, in the shorter lengths of `Shape.with_prose`.

The rows are those `works.services.post_work` writes for a posted (backdated) work, so the
pages, the API and the filter index read them like any other; they are written with
executemany (SQLite) or COPY (PostgreSQL), a batch of works per transaction, with ids
assigned here after each table's current maximum.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from chapbook.demo import prose
from chapbook.people.models import Pseud, User
from chapbook.tags.models import FIXED_TAGS, Tag, TagType
from chapbook.works.models import LANGUAGES, Chapter, Creatorship, Work, WorkTag

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Works drawn from one random stream. Fixed, so that --batch never changes the archive.
BLOCK = 1000
# Works a transaction with --text, at most.
TEXT_BATCH = 2000
YEARS = 15
CHAPTER_HTML = "<p>This chapter was generated: a placeholder for text that was never written.</p>"


@dataclass(frozen=True)
class Shape:
    """What the archive looks like. The defaults give, per 1,000,000 works: about 5,000
    fandoms (the biggest ~6.5% of works), 6,000 creators and 75,000 tags; 17 tags per
    work on average, 11 most often."""

    works_per_fandom: int = 200
    top_fandom_share: float = 0.065
    works_per_franchise: int = 20_000
    crossover_rate: float = 0.045
    # Characters and relationships per fandom grow with the square root of its size.
    characters_per_sqrt_work: float = 0.5
    relationships_per_sqrt_work: float = 0.4
    freeforms_per_work: float = 0.02
    creators_per_sqrt_work: float = 6.0
    co_created_rate: float = 0.025
    # Relationship, character and additional tags of a work: negative binomial with
    # mean ~12 and mode ~6; with the fixed tags and fandoms that is ~17, mode 11.
    free_tags_r: float = 2.15
    free_tags_mean: float = 12.5
    relationship_share: float = 0.14
    character_share: float = 0.33
    synonym_rate: float = 0.12
    synonym_use: float = 0.2
    unwrangled_tail: float = 0.1
    english: float = 0.88
    restricted_rate: float = 0.05
    oneshot_rate: float = 0.62
    complete_rate: float = 0.55
    growth: float = 1.6  # the archive grows: e^1.6 times as many works a year now as at the start
    # Chapters of a multi-chapter work: log-normal around 5, at most max_chapters. Words per
    # chapter: log-normal, a one-shot's around oneshot_words, other chapters' around
    # chapter_words.
    max_chapters: int = 300
    oneshot_words: float = 1800
    oneshot_sigma: float = 1.0
    chapter_words: float = 2200
    chapter_sigma: float = 0.7
    max_chapter_words: int = 100_000

    def with_prose(self) -> Shape:
        """The shape for works with written-out text (`--text`): 1 to 10 chapters and about
        4,000 words a work (median; the mean is about 5,500), so that an archive of 100,000
        works is half a billion words rather than a billion."""
        return replace(
            self, max_chapters=10, oneshot_words=3000, oneshot_sigma=0.8, chapter_words=1100, chapter_sigma=0.6,
            max_chapter_words=30_000,
        )


SHAPE = Shape()

# Probabilities are AO3's rough proportions.
RATING_P = {
    "Not Rated": 0.07, "General Audiences": 0.31, "Teen And Up Audiences": 0.30, "Mature": 0.13, "Explicit": 0.19,
}
WARNING_P = {
    "Creator Chose Not To Use Archive Warnings": 0.30,
    "Graphic Depictions Of Violence": 0.07,
    "Major Character Death": 0.03,
    "No Archive Warnings Apply": 0.57,
    "Rape/Non-Con": 0.015,
    "Underage Sex": 0.015,
}
CATEGORY_P = {"F/F": 0.09, "F/M": 0.25, "Gen": 0.24, "M/M": 0.32, "Multi": 0.06, "Other": 0.04}
CATEGORY_COUNT_P = [0.08, 0.70, 0.17, 0.05]

ADJECTIVES = [
    "Silver", "Quiet", "Broken", "Hollow", "Crimson", "Distant", "Golden", "Hidden", "Iron", "Last", "Lost",
    "Midnight", "Northern", "Pale", "Red", "Salt", "Scarlet", "Secret", "Shattered", "Silent", "Starless",
    "Sunken", "Tin", "Velvet", "Winter", "Wild", "Amber", "Ashen", "Bitter", "Black", "Blue", "Bright",
    "Burning", "Cold", "Copper", "Crooked", "Dark", "Drowned", "Dusk", "Early", "Ember", "Empty", "Endless",
    "Evening", "Fading", "Fallen", "False", "First", "Frozen", "Gentle", "Glass", "Grey", "Hallowed",
    "Haunted", "Heavy", "High", "Honest", "Idle", "Ivory", "Kind", "Lantern", "Little", "Long", "Lonely",
    "Low", "Lucky", "Mended", "Mirror", "Misty", "Morning", "Narrow", "New", "Nightly", "Old", "Open",
    "Painted", "Paper", "Patient", "Quick", "Rain", "Restless", "Rising", "Rusted", "Sacred", "Second",
    "Shallow", "Sharp", "Shining", "Small", "Soft", "Stolen", "Stone", "Strange", "Summer", "Sweet", "Tall",
    "Tender", "Thin", "Tidal", "Twin", "Violet", "Wandering", "Wicked", "Woven", "Yellow", "Young",
]
NOUNS = [
    "Harbour", "Lantern", "Orchard", "River", "Tide", "Crown", "Garden", "Letter", "Window", "Road",
    "Bridge", "Mirror", "Tower", "Candle", "Compass", "Meridian", "Station", "Archive", "Academy",
    "Kingdom", "Empire", "Circus", "Lighthouse", "Forest", "Island", "Signal", "Engine", "Atlas", "Comet",
    "Harvest", "Ledger", "Voyage", "Choir", "Citadel", "Cathedral", "Foundry", "Observatory", "Garrison",
    "Market", "Parish", "Quarry", "Reef", "Saga", "Sanctum", "Sea", "Shore", "Sky", "Star", "Storm", "Sun",
    "Thorn", "Throne", "Valley", "Veil", "Wake", "Well", "Wind", "Wing", "Wolf", "Crow", "Fox", "Hound",
    "Raven", "Stag", "Hare", "Owl", "Moth", "Bell", "Blade", "Bone", "Book", "Chain", "Clock", "Coin",
    "Door", "Dream", "Feather", "Fire", "Flame", "Frost", "Gate", "Ghost", "Glove", "Heart", "Hearth",
    "Hill", "Horn", "Hour", "Key", "Knot", "Lake", "Leaf", "Light", "Line", "Map", "Mask", "Moon", "Needle",
    "Oath", "Pearl", "Pilgrim", "Queen", "Rose", "Rope", "Sail", "Salt", "Seed", "Shadow", "Ship", "Song",
    "Spire", "Spring", "Stair", "Stone", "Sword", "Thread", "Valley", "Vow", "Wall", "Wheel", "Winter",
    "Wire", "Wood",
]
MEDIA = [
    "TV", "Movies", "Novels", "Video Game", "Anime", "Manga", "Comics", "Podcast", "Web Series",
    "Cartoon", "Audio Drama", "Band", "Webcomic", "Visual Novel", "Stage Musical", "Light Novels",
]
FIRST_NAMES = [
    "Aria", "Ben", "Cass", "Dara", "Eli", "Fen", "Gwen", "Hal", "Ines", "Jonah", "Kit", "Lena", "Milo",
    "Nadia", "Oren", "Pia", "Quinn", "Rhea", "Sam", "Tess", "Uma", "Vic", "Wren", "Xan", "Yara", "Zeke",
    "Ada", "Bram", "Cleo", "Dev", "Esme", "Finn", "Greta", "Hugo", "Iris", "Jude", "Kara", "Leo", "Maren",
    "Nico", "Opal", "Percy", "Rosa", "Silas", "Thea", "Ulric", "Vera", "Wes", "Yuki", "Zara", "Alma",
    "Basil", "Cyrus", "Delia", "Edith", "Felix", "Gideon", "Hazel", "Ivo", "Juno", "Kasimir", "Lorna",
    "Magnus", "Nell", "Otto", "Phoebe", "Rafe", "Sable", "Tobias", "Una", "Vesper", "Willa", "Aurelio",
    "Beatrix", "Caspian", "Dorian", "Elowen", "Faye", "Galen", "Hester", "Imogen", "Jasper", "Kestrel",
    "Linnea", "Mercer", "Noor", "Odile", "Pascal", "Remy", "Saoirse", "Tamsin", "Valen", "Wolfgang",
    "Yusuf", "Zofia", "Anouk", "Bastian", "Corin", "Dmitri", "Eira", "Florian", "Ginevra", "Ilse",
    "Joaquin", "Katya", "Lucan", "Mireille", "Niamh", "Orla", "Petra", "Rowan", "Soren", "Talia", "Viggo",
]
SURNAMES = [
    "Thornfield", "Ashcombe", "Blackwood", "Carrow", "Daventry", "Elling", "Farrow", "Greaves", "Halloway",
    "Ingram", "Jessop", "Kellan", "Lark", "Marlowe", "Northey", "Oakes", "Pemberton", "Quill", "Rook",
    "Sterling", "Tarrant", "Underhill", "Vance", "Whitlock", "Yardley", "Zeller", "Abbot", "Bellamy",
    "Corwin", "Dunmore", "Everly", "Finch", "Garrow", "Hale", "Ivers", "Jarrow", "Kestle", "Lowell",
    "Merriweather", "Nightingale", "Orme", "Penrose", "Quarry", "Ravensworth", "Sayer", "Tolliver", "Umber",
    "Voss", "Wexley", "Avery", "Brand", "Calder", "Drummond", "Ellery", "Fairfax", "Gale", "Holt",
    "Kingsley", "Lockwood", "Mercer", "Nash", "Osric", "Pryce", "Redgrave", "Shaw", "Thorne", "Vale",
    "Wilde", "Aldous", "Brightwater", "Coldwell", "Dawlish", "Eastwood", "Fennimore", "Grey", "Harrow",
    "Ironside", "Kent", "Lyle", "Morrow", "Noble", "Oakley", "Pike", "Quint", "Reyes", "Stroud", "Tennant",
    "Wolfe", "Ambrose", "Castellan", "Devereaux", "Estrada", "Fontaine", "Galloway", "Hawthorne", "Kaur",
    "Larkspur", "Moreau", "Nakamura", "Okafor", "Petrova", "Rahman", "Santos", "Takahashi", "Volkov",
    "Winslow", "Zhou",
]
# The head of AO3's additional tags, roughly in order of use; the tail is generated.
FREEFORM_HEAD = [
    "Fluff", "Angst", "Hurt/Comfort", "Romance", "Alternate Universe", "Humor", "Smut",
    "Friendship", "Established Relationship", "Family", "Slow Burn", "Canon Compliant",
    "Alternate Universe - Canon Divergence", "Angst with a Happy Ending", "Fluff and Angst",
    "Post-Canon", "Drabble", "Crack", "Hurt No Comfort", "Implied Relationship", "Character Study",
    "Introspection", "Found Family", "Enemies to Lovers", "Friends to Lovers", "Pining", "Mutual Pining",
    "Domestic Fluff", "First Kiss", "Happy Ending", "Sad Ending", "Whump", "Light Angst",
    "Emotional Hurt/Comfort", "Alternate Universe - Modern Setting", "Alternate Universe - High School",
    "Alternate Universe - College/University", "Alternate Universe - Coffee Shops & Cafés",
    "Alternate Universe - Soulmates", "Time Travel", "Fix-It", "Missing Scene", "Fluff without Plot",
    "Porn Without Plot", "Unresolved Sexual Tension", "Jealousy", "Misunderstandings",
    "Protective Character", "Nightmares", "Cuddling & Snuggling", "Christmas", "Halloween", "Songfic",
    "Poetry", "Horror", "Mystery", "Adventure", "Magic", "Action/Adventure", "Drama", "Tragedy",
    "Sibling Bonding", "Parent-Child Relationship", "Grief/Mourning", "Blood and Injury",
    "Canon-Typical Violence", "Swearing", "Coming Out", "Trans Character", "Bisexual Character",
    "Asexual Character", "Mental Health Issues", "Panic Attacks", "Anxiety", "Recovery", "Healing",
    "Love Confessions", "Getting Together", "Idiots in Love", "Secret Relationship",
    "Fake/Pretend Relationship", "Bed Sharing", "Road Trips", "Letters", "Texting", "Kid Fic",
    "Cooking", "Baking", "Rain", "Snow", "Beach", "Sick Fic", "Amnesia", "Body Swap", "Vampires",
    "Werewolves", "Ghosts", "Dragons", "Fairy Tale Elements", "Mythology", "Alternate Universe - Space",
    "Alternate Universe - Royalty", "Alternate Universe - Fantasy", "Alternate Universe - Human",
    "Not Beta Read", "Tags May Change", "Open Ending", "Unreliable Narrator", "Second Person",
    "Epistolary", "POV Outsider", "Time Loop", "Fluff and Crack", "Banter", "Hand Holding",
]
FREEFORM_TEMPLATES = [
    "Alternate Universe - {N}", "{A} {N}", "{N} Feels", "{A} Feelings", "The {N} Thing",
    "{N} and {M}", "{A} {N} Trope", "Inspired by {A} {N}", "{N} Mention", "Canon {N}",
]
FANDOM_TEMPLATES = ["The {A} {N}", "{A} {N}", "{N} of the {A} {M}", "Tales of the {N}", "{A} {N} Chronicles", "{N} & {M}"]
TITLE_TEMPLATES = [
    "The {A} {N}", "{N} of {M}", "A {A} {N}", "{A} {N}s", "Under the {A} {N}", "What the {N} Keeps",
    "{N} and {M}", "After the {N}", "{A} as {M}", "Where the {N} Ends", "The {N}'s {M}", "{A}",
]
SUMMARY_TEMPLATES = [
    "<p>A story about a {a} {n} and the {m} that follows.</p>",
    "<p>Nobody expected the {n} to be {a}.</p>",
    "<p>Five times the {n} was {a}, and one time it wasn't.</p>",
    "<p>In which there is a {n}, a {m} and far too little sleep.</p>",
]
SPECIFIC_WARNINGS = ["Graphic Depictions Of Violence", "Major Character Death", "Rape/Non-Con", "Underage Sex"]


# ---------------------------------------------------------------------------
# Distributions


def zipf_weights(count: int, exponent: float = 1.0, offset: float = 0.0) -> FloatArray:
    """Zipf-Mandelbrot weights 1/(rank + offset)^exponent for ranks 1..count, summing to 1."""
    weights = 1.0 / np.power(np.arange(1, count + 1, dtype=np.float64) + offset, exponent)
    return weights / weights.sum()


def zipf_with_top_share(count: int, top_share: float, exponent: float = 1.0) -> FloatArray:
    """Zipf-Mandelbrot weights whose first weight is `top_share`, or as close as can be.

    The offset flattens the head; with few ranks even no offset gives the top a larger
    share than asked, and that is kept (a small archive is dominated by a few fandoms).
    """
    if zipf_weights(count, exponent)[0] <= top_share:
        return zipf_weights(count, exponent)
    low, high = 0.0, 1.0
    while zipf_weights(count, exponent, high)[0] > top_share and high < 1e7:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        if zipf_weights(count, exponent, middle)[0] > top_share:
            low = middle
        else:
            high = middle
    return zipf_weights(count, exponent, high)


@dataclass
class Pool:
    """Tags to draw from, grouped (one group per fandom, or a single group): the plan
    indices in `items`, and `cumulative` holding group + cumulative weight, so that one
    `searchsorted` draws for many groups at once."""

    items: IntArray
    cumulative: FloatArray

    @classmethod
    def build(cls, groups: Sequence[Sequence[int]], exponent: float, offset: float = 0.0) -> Pool:
        items: list[int] = []
        cumulative: list[FloatArray] = []
        for number, group in enumerate(groups):
            if not group:
                continue
            items.extend(group)
            cum = np.cumsum(zipf_weights(len(group), exponent, offset))
            cum[-1] = 1.0
            cumulative.append(number + cum)
        return cls(
            np.asarray(items, dtype=np.int64),
            np.concatenate(cumulative) if cumulative else np.zeros(0, dtype=np.float64),
        )

    def draw(self, rng: np.random.Generator, groups: IntArray) -> IntArray:
        """One item for each entry of `groups` (every group drawn from must be non-empty)."""
        if len(groups) == 0:
            return np.zeros(0, dtype=np.int64)
        positions = np.searchsorted(self.cumulative, groups + rng.random(len(groups)), side="right")
        return self.items[np.minimum(positions, len(self.items) - 1)]


def first_distinct(owner: IntArray, values: IntArray, limit: IntArray) -> tuple[IntArray, IntArray]:
    """Keep, for each owner, the first `limit[owner]` distinct values in draw order.

    `owner` must be sorted (one work's draws together). Draws with replacement followed by
    this give distinct tags per work without a Python loop over works.
    """
    if len(owner) == 0:
        return owner, values
    key = owner * (int(values.max()) + 1) + values
    _, first = np.unique(key, return_index=True)
    first.sort()
    kept_owner = owner[first]
    starts = np.flatnonzero(np.r_[True, kept_owner[1:] != kept_owner[:-1]])
    rank = np.arange(len(kept_owner)) - np.repeat(starts, np.diff(np.r_[starts, len(kept_owner)]))
    keep = rank < limit[kept_owner]
    return kept_owner[keep], values[first][keep]


def growing_times(quantiles: FloatArray, span: float, growth: float) -> FloatArray:
    """Seconds into a span of `span` seconds, denser towards its end (the archive grows),
    for quantiles in [0, 1)."""
    return span * np.log1p(quantiles * math.expm1(growth)) / growth


# ---------------------------------------------------------------------------
# Tags


@dataclass
class TagPlan:
    """Every tag the archive will use, by plan index.

    `existing[i]` is the id of a tag the archive already has with that name and type
    (the fixed tags, and generated tags when appending); the others get new rows.
    """

    names: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    canonical: list[bool] = field(default_factory=list)
    synonym_of: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    parents: list[tuple[int, int]] = field(default_factory=list)  # (child, parent)
    ratings: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    warnings: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    categories: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fandoms: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fandom_weights: FloatArray = field(default_factory=lambda: np.zeros(0))
    franchise_of: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    characters: Pool = field(default_factory=lambda: Pool.build([], 1.0))
    relationships: Pool = field(default_factory=lambda: Pool.build([], 1.0))
    freeforms: Pool = field(default_factory=lambda: Pool.build([], 1.0))
    # Per plan index: the two characters of a relationship (-1 elsewhere), and a synonym
    # creators sometimes write instead of the canonical tag (-1 if none).
    members: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    alternative: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _index: dict[str, int] = field(default_factory=dict)
    _taken: dict[str, tuple[int, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def add(self, name: str, tag_type: str, *, canonical: bool = True, synonym_of: int = -1) -> int | None:
        """Add a tag; None if its name is taken (in the plan, or in the archive by another type)."""
        key = name.lower()
        if key in self._index:
            return None
        existing = -1
        if key in self._taken:
            existing_id, existing_type = self._taken[key]
            if existing_type != tag_type:
                return None
            existing = existing_id
        self._index[key] = len(self.names)
        self.names.append(name)
        self.types.append(tag_type)
        self.canonical.append(canonical)
        self.synonym_of.append(synonym_of)
        self.existing.append(existing)
        return len(self.names) - 1

    def add_unique(self, name: str, tag_type: str, qualifier: str, **kwargs: Any) -> int:
        """Add a tag, disambiguating a taken name the way AO3 does: "Name (Fandom)"."""
        for n in range(1000):
            candidate = name if n == 0 else f"{name} ({qualifier})" if n == 1 else f"{name} ({qualifier} {n})"
            index = self.add(candidate[:150], tag_type, **kwargs)
            if index is not None:
                return index
        raise RuntimeError(f"no free name for {name!r}")


def scale(works: int, shape: Shape = SHAPE) -> dict[str, int]:
    """How many fandoms, franchises, additional tags and creators an archive of `works` has."""
    fandoms = min(max(round(works / shape.works_per_fandom), 8), 100_000)
    return {
        "fandoms": fandoms,
        "franchises": min(max(works // shape.works_per_franchise, 1), fandoms // 4),
        # The generated names run out near 90,000; a bigger pool would only be a longer tail.
        "freeforms": min(len(FREEFORM_HEAD) + round(works * shape.freeforms_per_work), 60_000),
        "creators": min(max(round(shape.creators_per_sqrt_work * math.sqrt(works)), 20), 100_000),
    }


def _words(rng: np.random.Generator, template: str) -> str:
    adjective, noun, other = rng.integers(len(ADJECTIVES)), rng.integers(len(NOUNS)), rng.integers(len(NOUNS))
    return template.format(A=ADJECTIVES[adjective], N=NOUNS[noun], M=NOUNS[other])


def plan_tags(
    rng: np.random.Generator, works: int, taken: dict[str, tuple[int, str]] | None = None, shape: Shape = SHAPE
) -> TagPlan:
    """Invent the archive's tags. `taken` maps lower-cased names already in the archive to
    (id, type): a name taken by the same type is reused, by another type avoided."""
    plan = TagPlan(_taken=dict(taken or {}))
    sizes = scale(works, shape)
    for tag_type, names in FIXED_TAGS.items():
        indices = [plan.add(name, tag_type) for name in names]
        setattr(plan, {"rating": "ratings", "warning": "warnings", "category": "categories"}[tag_type],
                np.asarray(indices, dtype=np.int64))

    # Fandoms, the biggest first; franchises are parents of a few of the bigger ones.
    count = sizes["fandoms"]
    weights = zipf_with_top_share(count, shape.top_fandom_share)
    expected = works * weights * (1 + 1.2 * shape.crossover_rate)
    fandom_names: list[str | None] = [None] * count
    franchise_of = np.full(count, -1, dtype=np.int64)
    franchises: list[int] = []
    candidates = rng.permutation(min(count, 12 * sizes["franchises"]))
    taken_media = 0
    for number in range(sizes["franchises"]):
        base = _words(rng, "The {A} {N}" if number % 2 else "{A} {N}")
        parent = plan.add_unique(base, TagType.FANDOM, "Franchise")
        franchises.append(parent)
        children = int(rng.integers(2, 5))
        for medium in rng.permutation(len(MEDIA))[:children]:
            if taken_media >= len(candidates):
                break
            child = int(candidates[taken_media])
            taken_media += 1
            fandom_names[child] = f"{plan.names[parent]} ({MEDIA[medium]})"
            franchise_of[child] = number
    fandoms = []
    for rank in range(count):
        name = fandom_names[rank]
        if name is None:
            template = FANDOM_TEMPLATES[int(rng.integers(len(FANDOM_TEMPLATES)))]
            name = _words(rng, template)
            if rng.random() < 0.5:
                name = f"{name} ({MEDIA[int(rng.integers(len(MEDIA)))]})"
        index = plan.add_unique(name, TagType.FANDOM, "Fandom")
        fandoms.append(index)
        if franchise_of[rank] >= 0:
            plan.parents.append((index, franchises[franchise_of[rank]]))
    plan.fandoms = np.asarray(fandoms, dtype=np.int64)
    plan.fandom_weights = weights
    plan.franchise_of = franchise_of

    # Each fandom's characters and the relationships between them.
    character_groups: list[list[int]] = []
    relationship_groups: list[list[int]] = []
    members: dict[int, tuple[int, int]] = {}
    for rank, fandom in enumerate(fandoms):
        root = math.sqrt(expected[rank])
        n_characters = 2 + round(shape.characters_per_sqrt_work * root)
        n_relationships = 1 + round(shape.relationships_per_sqrt_work * root)
        qualifier = plan.names[fandom]
        people: list[int] = []
        seen: set[tuple[int, int]] = set()
        while len(people) < n_characters:
            first, last = int(rng.integers(len(FIRST_NAMES))), int(rng.integers(len(SURNAMES)))
            if (first, last) in seen:
                continue
            seen.add((first, last))
            name = f"{FIRST_NAMES[first]} {SURNAMES[last]}" if rng.random() < 0.85 else FIRST_NAMES[first]
            people.append(plan.add_unique(name, TagType.CHARACTER, qualifier))
        popularity = np.cumsum(zipf_weights(len(people), 1.0, 0.5))
        pairs: set[tuple[int, int, str]] = set()
        couples: list[int] = []
        attempts = 0
        while len(couples) < n_relationships and attempts < 50 * n_relationships:
            attempts += 1
            a, b = np.searchsorted(popularity, rng.random(2) * popularity[-1], side="right")
            a, b = min(int(a), len(people) - 1), min(int(b), len(people) - 1)
            kind = "/" if rng.random() < 0.75 else " & "
            if a == b or (min(a, b), max(a, b), kind) in pairs:
                continue
            pairs.add((min(a, b), max(a, b), kind))
            first_name, second_name = plan.names[people[min(a, b)]], plan.names[people[max(a, b)]]
            index = plan.add_unique(f"{first_name}{kind}{second_name}", TagType.RELATIONSHIP, qualifier)
            members[index] = (people[min(a, b)], people[max(a, b)])
            couples.append(index)
        for group in (people, couples):
            # The rarest tags of a fandom are not wrangled yet: not canonical, no fandom.
            wrangled = len(group) - int(len(group) * shape.unwrangled_tail)
            for position, index in enumerate(group):
                if position < wrangled:
                    plan.parents.append((index, fandom))
                else:
                    plan.canonical[index] = False
        character_groups.append(people)
        relationship_groups.append(couples)
    plan.characters = Pool.build(character_groups, 1.0, 0.5)
    plan.relationships = Pool.build(relationship_groups, 1.1, 0.5)

    # One shared pool of additional tags: a real head, a generated tail left unwrangled.
    freeforms = [added for name in FREEFORM_HEAD if (added := plan.add(name, TagType.FREEFORM)) is not None]
    wanted = sizes["freeforms"]
    attempts = 0
    while len(freeforms) < wanted and attempts < 5 * wanted:
        attempts += 1
        template = FREEFORM_TEMPLATES[int(rng.integers(len(FREEFORM_TEMPLATES)))]
        added = plan.add(_words(rng, template), TagType.FREEFORM, canonical=False)
        if added is not None:
            freeforms.append(added)
    for index in freeforms[: max(len(FREEFORM_HEAD), len(freeforms) // 5)]:
        plan.canonical[index] = True
    plan.freeforms = Pool.build([freeforms], 1.0, 2.0)

    # Synonyms of some popular canonical tags, which creators sometimes write instead.
    alternative: dict[int, int] = {}
    for group in [fandoms[: max(1, count // 10)], freeforms[: len(freeforms) // 3]] + [
        g[: max(1, len(g) // 3)] for g in character_groups + relationship_groups
    ]:
        for index in group:
            if not plan.canonical[index] or rng.random() >= shape.synonym_rate:
                continue
            synonym = plan.add(_synonym_name(plan, index, members), plan.types[index], canonical=False, synonym_of=index)
            if synonym is not None:
                alternative[index] = synonym
    plan.alternative = np.full(len(plan), -1, dtype=np.int64)
    plan.members = np.full((len(plan), 2), -1, dtype=np.int64)
    for index, synonym in alternative.items():
        plan.alternative[index] = synonym
    for index, pair in members.items():
        plan.members[index] = pair
        if index in alternative:
            plan.members[alternative[index]] = pair
    return plan


def _synonym_name(plan: TagPlan, index: int, members: dict[int, tuple[int, int]]) -> str:
    name, tag_type = plan.names[index], plan.types[index]
    if tag_type == TagType.FANDOM:
        initials = "".join(word[0] for word in name.split() if word[:1].isalpha() and word[0].isupper())
        return f"{initials} ({name.split(' (')[-1]}" if " (" in name else initials
    if tag_type == TagType.RELATIONSHIP:
        # AO3 keeps one order canonical and makes the reversed one its synonym.
        kind = "/" if "/" in name else " & "
        a, b = members[index]
        return f"{plan.names[b]}{kind}{plan.names[a]}"
    if tag_type == TagType.CHARACTER:
        parts = name.split(" (")[0].split()
        return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else f"{name} (mentioned)"
    return f"{name.lower()}!"


# ---------------------------------------------------------------------------
# Works


@dataclass
class WorkBlock:
    """One block of drawn works; times are seconds after the archive's start."""

    count: int
    title: list[str]
    summary: list[str]
    language: list[str]
    restricted: BoolArray
    published: FloatArray
    updated: FloatArray
    chapter_count: IntArray
    expected: IntArray  # -1 for unknown ("?")
    complete: BoolArray
    word_count: IntArray
    chapter_words: IntArray
    chapter_times: FloatArray
    kudos: IntArray
    hits: IntArray
    comments: IntArray
    bookmarks: IntArray
    creators: IntArray  # (work, creator number) pairs, in credit order
    tag_work: IntArray
    tag_plan: IntArray
    # Each chapter's HTML with --text (`draw_prose`); empty for the placeholder.
    chapter_html: list[str] = field(default_factory=list)

    @property
    def chapter_positions(self) -> IntArray:
        starts = np.repeat(np.cumsum(self.chapter_count) - self.chapter_count, self.chapter_count)
        return np.arange(len(self.chapter_words)) - starts + 1


def block_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.default_rng([seed, 1, block])


def creator_weights(rng: np.random.Generator, creators: int) -> FloatArray:
    """Productivity is heavy-tailed: a few creators post hundreds of times the median."""
    weights = rng.lognormal(0.0, 1.3, creators)
    return weights / weights.sum()


def _choice(rng: np.random.Generator, probabilities: Sequence[float], size: int) -> IntArray:
    p = np.asarray(probabilities, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _tags_by_weight(rng: np.random.Generator, weights: Sequence[float], counts: IntArray) -> tuple[IntArray, IntArray]:
    """Draw counts[w] distinct items for each work w, weighted (Gumbel top-k)."""
    keys = np.log(np.asarray(weights))[None, :] + rng.gumbel(size=(len(counts), len(weights)))
    order = np.argsort(-keys, axis=1)
    works, ranks = np.nonzero(np.arange(len(weights))[None, :] < counts[:, None])
    return works.astype(np.int64), order[works, ranks].astype(np.int64)


def draw_block(
    rng: np.random.Generator,
    plan: TagPlan,
    *,
    first: int,
    count: int,
    total: int,
    creators: FloatArray,
    span: float,
    shape: Shape = SHAPE,
) -> WorkBlock:
    """Draw works first..first+count-1 of `total` from `rng`: everything about them but ids.

    Each work gets its own slice of the date range, so dates rise with ids as on a real
    archive, whichever block they were drawn in.
    """
    published = growing_times((first + np.arange(count) + rng.random(count)) / total, span, shape.growth)
    oneshot = rng.random(count) < shape.oneshot_rate
    chapters = np.where(
        oneshot, 1, np.clip(np.rint(rng.lognormal(math.log(5), 0.8, count)), 2, shape.max_chapters)
    ).astype(np.int64)
    finished = np.where(oneshot, rng.random(count) < 0.97, rng.random(count) < shape.complete_rate)
    unknown = ~finished & (rng.random(count) < 0.5)
    expected = np.where(finished, chapters, np.where(unknown, -1, chapters + 1 + rng.geometric(0.25, count)))
    complete = (expected >= 0) & (chapters >= expected)
    # A chapter every week or so, more or less; a work is never updated in the future.
    spread = np.where(chapters > 1, (chapters - 1) * rng.lognormal(math.log(10 * 86400), 1.0, count), 0.0)
    updated = np.minimum(published + spread, span)
    total = int(chapters.sum())
    owner = np.repeat(np.arange(count), chapters)
    words = np.where(
        oneshot[owner],
        rng.lognormal(math.log(shape.oneshot_words), shape.oneshot_sigma, total),
        rng.lognormal(math.log(shape.chapter_words), shape.chapter_sigma, total),
    )
    chapter_words = np.clip(np.rint(words), 50, shape.max_chapter_words).astype(np.int64)
    word_count = np.bincount(owner, weights=chapter_words, minlength=count).astype(np.int64)
    position = np.arange(total) - np.repeat(np.cumsum(chapters) - chapters, chapters)
    fraction = np.where(chapters[owner] > 1, position / np.maximum(chapters[owner] - 1, 1), 0.0)
    chapter_times = published[owner] + fraction * (updated - published)[owner]

    # Feedback: hits log-normal and growing with age, the rest fractions of them.
    age = 1.0 - published / span
    hits = np.rint(rng.lognormal(math.log(700), 1.4, count) * (0.2 + age) ** 0.5 * np.sqrt(chapters)).astype(np.int64)
    kudos = rng.binomial(hits, rng.beta(2, 18, count))
    comments = rng.poisson(kudos * 0.12 * np.sqrt(chapters))
    bookmarks = rng.binomial(kudos, rng.beta(2, 10, count))

    language_p = [shape.english] + list((1 - shape.english) * zipf_weights(len(LANGUAGES) - 1, 1.2))
    language = [LANGUAGES[i][0] for i in _choice(rng, language_p, count)]
    restricted = rng.random(count) < shape.restricted_rate

    adjectives = rng.integers(len(ADJECTIVES), size=count)
    nouns = rng.integers(len(NOUNS), size=(2, count))
    templates = rng.integers(len(TITLE_TEMPLATES), size=count)
    summaries = rng.integers(len(SUMMARY_TEMPLATES), size=count)
    title = [
        TITLE_TEMPLATES[t].format(A=ADJECTIVES[a], N=NOUNS[n], M=NOUNS[m])
        for t, a, n, m in zip(templates.tolist(), adjectives.tolist(), nouns[0].tolist(), nouns[1].tolist())
    ]
    summary = [
        SUMMARY_TEMPLATES[s].format(a=ADJECTIVES[a].lower(), n=NOUNS[n].lower(), m=NOUNS[m].lower())
        for s, a, n, m in zip(summaries.tolist(), adjectives.tolist(), nouns[1].tolist(), nouns[0].tolist())
    ]

    # Creators: one, or two for a co-created work.
    main = rng.choice(len(creators), size=count, p=creators)
    second = rng.choice(len(creators), size=count, p=creators)
    pair = (rng.random(count) < shape.co_created_rate) & (second != main)
    creator_pairs = np.concatenate([
        np.stack([np.arange(count), main], axis=1),
        np.stack([np.flatnonzero(pair), second[pair]], axis=1),
    ])
    creator_pairs = creator_pairs[np.argsort(creator_pairs[:, 0], kind="stable")]

    tag_work, tag_plan = _draw_tags(rng, plan, count, shape)
    return WorkBlock(
        count=count, title=title, summary=summary, language=language, restricted=restricted,
        published=published, updated=updated, chapter_count=chapters, expected=expected, complete=complete,
        word_count=word_count, chapter_words=chapter_words, chapter_times=chapter_times, kudos=kudos, hits=hits,
        comments=comments, bookmarks=bookmarks, creators=creator_pairs, tag_work=tag_work, tag_plan=tag_plan,
    )


def _substitute(rng: np.random.Generator, plan: TagPlan, tags: IntArray, rate: float) -> IntArray:
    """Some creators write a synonym instead of the canonical tag."""
    alternative = plan.alternative[tags]
    use = (alternative >= 0) & (rng.random(len(tags)) < rate)
    return np.where(use, alternative, tags)


def _draw_tags(rng: np.random.Generator, plan: TagPlan, count: int, shape: Shape) -> tuple[IntArray, IntArray]:
    works = np.arange(count)
    parts: list[tuple[IntArray, IntArray]] = []
    parts.append((works, plan.ratings[_choice(rng, list(RATING_P.values()), count)]))

    # Warnings: one main choice, plus sometimes a specific one or two more.
    warning_names = list(FIXED_TAGS[TagType.WARNING])
    main = _choice(rng, [WARNING_P[name] for name in warning_names], count)
    chosen = np.zeros((count, len(warning_names)), dtype=bool)
    chosen[works, main] = True
    not_none = main != warning_names.index("No Archive Warnings Apply")
    for name in SPECIFIC_WARNINGS:
        chosen[:, warning_names.index(name)] |= not_none & (rng.random(count) < 0.05)
    warned_work, warned = np.nonzero(chosen)
    parts.append((warned_work.astype(np.int64), plan.warnings[warned]))

    # Fandoms: one, or two or three unrelated ones for a crossover.
    n_fandoms = len(plan.fandoms)
    primary = rng.choice(n_fandoms, size=count, p=plan.fandom_weights)
    crossover = rng.random(count) < shape.crossover_rate
    extra = np.where(crossover, np.where(rng.random(count) < 0.8, 1, 2), 0)
    fandom_work = np.concatenate([works, np.repeat(works, extra)])
    fandom_rank = np.concatenate([primary, rng.choice(n_fandoms, size=int(extra.sum()), p=plan.fandom_weights)])
    if n_fandoms > 1:
        same = plan.franchise_of[fandom_rank] >= 0
        related = (fandom_rank[count:] == primary[fandom_work[count:]]) | (
            same[count:] & (plan.franchise_of[fandom_rank[count:]] == plan.franchise_of[primary[fandom_work[count:]]])
        )
        # Redrawn uniformly: a crossover with a small fandom is as likely as the reverse.
        fandom_rank[count:] = np.where(related, rng.integers(n_fandoms, size=len(related)), fandom_rank[count:])
    order = np.argsort(fandom_work, kind="stable")
    fandom_work, fandom_rank = first_distinct(fandom_work[order], fandom_rank[order], np.full(count, 3))
    fandoms_of = np.bincount(fandom_work, minlength=count)
    parts.append((fandom_work, _substitute(rng, plan, plan.fandoms[fandom_rank], 0.05)))

    # Relationships, characters and additional tags share one heavy-tailed count.
    p = shape.free_tags_r / (shape.free_tags_r + shape.free_tags_mean)
    free = np.minimum(rng.negative_binomial(shape.free_tags_r, p, count), 75)
    n_relationships = rng.binomial(free, shape.relationship_share)
    n_characters = rng.binomial(free - n_relationships, shape.character_share / (1 - shape.relationship_share))
    n_freeforms = free - n_relationships - n_characters

    def fandom_per_draw(draw_work: IntArray) -> IntArray:
        # A crossover's tags come from any of its fandoms, the first most often.
        starts = np.cumsum(fandoms_of) - fandoms_of
        pick = np.where(rng.random(len(draw_work)) < 0.6, 0, rng.integers(0, 3, size=len(draw_work)))
        pick = np.minimum(pick, fandoms_of[draw_work] - 1)
        return fandom_rank[starts[draw_work] + pick]

    # Drawn with replacement, a third more than needed, then the first distinct ones kept.
    rel_work = np.repeat(works, np.ceil(n_relationships * 1.3).astype(np.int64))
    relationships = plan.relationships.draw(rng, fandom_per_draw(rel_work))
    rel_work, relationships = first_distinct(rel_work, relationships, n_relationships)
    # A relationship's characters are tagged too, before any others.
    member_work = np.repeat(rel_work, 2)
    member = plan.members[relationships].reshape(-1)
    char_draw_work = np.repeat(works, np.ceil(n_characters * 1.3).astype(np.int64))
    drawn = plan.characters.draw(rng, fandom_per_draw(char_draw_work))
    char_work = np.concatenate([member_work, char_draw_work])
    characters = np.concatenate([member, drawn])
    order = np.argsort(char_work, kind="stable")
    members_of = np.bincount(member_work, minlength=count)
    char_work, characters = first_distinct(char_work[order], characters[order], np.maximum(n_characters, members_of))
    parts.append((rel_work, _substitute(rng, plan, relationships, shape.synonym_use)))
    parts.append((char_work, _substitute(rng, plan, characters, shape.synonym_use)))

    ff_work = np.repeat(works, np.ceil(n_freeforms * 1.2).astype(np.int64))
    freeforms = plan.freeforms.draw(rng, np.zeros(len(ff_work), dtype=np.int64))
    ff_work, freeforms = first_distinct(ff_work, _substitute(rng, plan, freeforms, shape.synonym_use), n_freeforms)
    parts.append((ff_work, freeforms))

    # Categories follow the relationships: none of them mostly means Gen.
    category_names = list(FIXED_TAGS[TagType.CATEGORY])
    n_categories = _choice(rng, CATEGORY_COUNT_P, count)
    n_categories = np.minimum(n_categories, 1 + np.bincount(rel_work, minlength=count))
    weights = [CATEGORY_P[name] for name in category_names]
    cat_work, cat_index = _tags_by_weight(rng, weights, n_categories)
    gen = np.bincount(rel_work, minlength=count) == 0
    cat_index = np.where(gen[cat_work] & (rng.random(len(cat_work)) < 0.8), category_names.index("Gen"), cat_index)
    cat_work, cat_index = first_distinct(cat_work, cat_index, np.full(count, 3))
    parts.append((cat_work, plan.categories[cat_index]))

    tag_work = np.concatenate([w for w, _ in parts])
    tag_plan = np.concatenate([t for _, t in parts])
    return tag_work, tag_plan


def text_rng(seed: int, block: int) -> np.random.Generator:
    """The stream a block's chapter text is drawn from, apart from the block's own: the
    text takes nothing from the draws of dates, tags and counts."""
    return np.random.default_rng([seed, 3, block])


def block_cast(rng: np.random.Generator, plan: TagPlan, block: WorkBlock) -> prose.Cast:
    """Each work's characters as they appear in its text: its character tags (a synonym as
    the character it names), relationships' characters first, by first name and surname;
    a work without any gets two original characters."""
    is_character = np.asarray(plan.types, dtype=object)[block.tag_plan] == TagType.CHARACTER
    works, tags = block.tag_work[is_character], block.tag_plan[is_character]
    synonym_of = np.asarray(plan.synonym_of, dtype=np.int64)[tags]
    tags = np.where(synonym_of >= 0, synonym_of, tags)
    order = np.argsort(works, kind="stable")
    works, tags = works[order], tags[order]
    bounds = np.searchsorted(works, np.arange(block.count + 1))
    names: list[tuple[str, str]] = []
    offsets = [0]
    spare = rng.integers(len(prose.ORIGINAL_CHARACTERS), size=(block.count, 2)).tolist()
    for work in range(block.count):
        own = dict.fromkeys(
            name for tag in tags[bounds[work] : bounds[work + 1]].tolist() if (name := prose.name_words(plan.names[tag]))
        )
        if not own:
            own = dict.fromkeys((prose.ORIGINAL_CHARACTERS[n], "") for n in spare[work])
        names.extend(own)
        offsets.append(len(names))
    return prose.Cast(names, np.asarray(offsets, dtype=np.int64))


def draw_prose(seed: int, number: int, block: WorkBlock, plan: TagPlan, plantings: tuple[IntArray, IntArray]) -> list[str]:
    """The HTML of every chapter of block `number`, each exactly as long as drawn.

    `plantings` are the run's (work ordinals, memorable phrase numbers) from `prose.plant`.
    """
    rng = text_rng(seed, number)
    cast = block_cast(rng, plan, block)
    ordinals, phrases = plantings
    first = number * BLOCK
    inside = (ordinals >= first) & (ordinals < first + block.count)
    planted = list(zip((ordinals[inside] - first).tolist(), phrases[inside].tolist()))
    chapter_work = np.repeat(np.arange(block.count), block.chapter_count)
    return prose.draw_texts(rng, block.chapter_words, chapter_work, cast, planted)


# ---------------------------------------------------------------------------
# Writing


def _columns(model: type[models.Model], names: Iterable[str]) -> list[str]:
    columns = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field) and field.column
        columns.append(field.column)
    return columns


def _parents_through() -> type[models.Model]:
    """Tag.parents' table: one row per (child, parent)."""
    through = Tag._meta.get_field("parents").remote_field.through
    assert through is not None
    return through


def _table(model: type[models.Model]) -> str:
    return model._meta.db_table


class Writer:
    """Bulk INSERTs through the Django connection: executemany, or COPY on PostgreSQL."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.rows: dict[str, int] = {}

    def insert(self, model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert `rows` of values for `fields`; every other field with a default gets it."""
        table = _table(model)
        self.rows[table] = self.rows.get(table, 0) + len(rows)
        if not rows:
            return
        names, values = _defaults(model, fields)
        if names:
            fields = [*fields, *names]
            rows = [(*row, *values) for row in rows]
        columns = ", ".join(connection.ops.quote_name(c) for c in _columns(model, fields))
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {connection.ops.quote_name(table)} ({columns}) VALUES ({placeholders})", rows)

    def datetimes(self, start: datetime, seconds: FloatArray) -> list[str]:
        """Times as the database stores them: naive UTC text on SQLite (as Django writes it,
        so that comparisons with Django's own values stay correct), with offset on PostgreSQL."""
        base = np.datetime64(start.replace(tzinfo=None), "us")
        stamps = np.datetime_as_string(base + np.rint(seconds * 1e6).astype("timedelta64[us]"), unit="us")
        suffix = "+00:00" if self.postgres else ""
        return [s.replace("T", " ") + suffix for s in stamps.tolist()]

    def moment(self, value: datetime) -> str:
        return self.datetimes(value, np.zeros(1))[0]


def _defaults(model: type[models.Model], fields: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
    """The model's fields missing from `fields` that have a default, and their defaults as
    the database takes them: a field added to a model later (with a default, as Django
    asks of a new NOT NULL field) needs nothing here. Django's defaults live in Python,
    not in the table, so a raw INSERT has to give them."""
    listed = set(fields)
    names, values = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key or model_field.name in listed or not model_field.has_default():
            continue
        names.append(model_field.name)
        values.append(model_field.get_db_prep_save(model_field.get_default(), connection))
    return names, tuple(values)


def next_id(model: type[models.Model]) -> int:
    """The first id after the table's highest: generated rows are numbered from here."""
    (pk,) = _columns(model, ["id"])
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({quote(pk)}) FROM {quote(_table(model))}")
        row = cursor.fetchone()
    return int(row[0] or 0) + 1 if row else 1


@dataclass
class Summary:
    works: int = 0
    chapters: int = 0
    worktags: int = 0
    tags: int = 0
    users: int = 0
    elapsed: float = 0.0
    words: int = 0
    prose_seconds: float = 0.0  # drawing the chapters' text, with --text


def format_duration(value: float) -> str:
    seconds = round(value)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def progress_line(done: int, total: int, elapsed: float, recent: float) -> str:
    """One line per batch: the average rate so far, and the last batch's."""
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / recent if recent > 0 else 0.0
    return (
        f"{done:>12,} / {total:,} works  {100 * done / total:5.1f}%  {rate:7,.0f} works/s "
        f"(last batch {recent:,.0f}/s)  ETA {format_duration(eta)}"
    )


def _write_tags(writer: Writer, plan: TagPlan, now: str) -> IntArray:
    """Insert the plan's new tags and their parents; returns the id of every plan index."""
    ids = np.asarray(plan.existing, dtype=np.int64)
    new = np.flatnonzero(ids < 0)
    ids[new] = next_id(Tag) + np.arange(len(new))
    rows: list[tuple[Any, ...]] = []
    for index in new.tolist():
        synonym_of = plan.synonym_of[index]
        wrangled = plan.canonical[index] or synonym_of >= 0
        rows.append((
            int(ids[index]), plan.names[index], plan.types[index], plan.canonical[index],
            int(ids[synonym_of]) if synonym_of >= 0 else None, now, now if wrangled else None,
        ))
    writer.insert(Tag, ["id", "name", "type", "canonical", "synonym_of", "created_at", "wrangled_at"], rows)
    through = _parents_through()
    is_new = np.zeros(len(ids), dtype=bool)
    is_new[new] = True
    pairs = [(int(ids[child]), int(ids[parent])) for child, parent in plan.parents if is_new[child]]
    start = next_id(through)
    rows = [(start + n, child, parent) for n, (child, parent) in enumerate(pairs)]
    # The through model's fields: from_tag is the child, to_tag the parent.
    writer.insert(through, ["id", "from_tag", "to_tag"], rows)
    return ids


def _write_creators(writer: Writer, rng: np.random.Generator, count: int, joined: str) -> tuple[IntArray, IntArray]:
    """Users with a default pseud each; returns their (pseud ids, user ids). Passwords are unusable:
    a generated creator can only sign in after a password reset."""
    user_start, pseud_start = next_id(User), next_id(Pseud)
    password = make_password(None)
    adjectives = rng.integers(len(ADJECTIVES), size=count).tolist()
    nouns = rng.integers(len(NOUNS), size=count).tolist()
    users, pseuds = [], []
    for n in range(count):
        # The id in the name keeps it unique; words from the lists have no digits or "_".
        username = f"{ADJECTIVES[adjectives[n]].lower()}_{NOUNS[nouns[n]].lower()}_{user_start + n}"
        users.append((user_start + n, password, None, False, username, "", "", f"{username}@example.invalid",
                      False, True, joined, "", ""))
        pseuds.append((pseud_start + n, username, "", True, joined, user_start + n))
    writer.insert(User, ["id", "password", "last_login", "is_superuser", "username", "first_name", "last_name",
                         "email", "is_staff", "is_active", "date_joined", "bio", "links"], users)
    writer.insert(Pseud, ["id", "name", "description", "is_default", "created_at", "user"], pseuds)
    return np.arange(pseud_start, pseud_start + count, dtype=np.int64), np.arange(user_start, user_start + count)


@dataclass
class Ids:
    work: int
    chapter: int
    creatorship: int
    worktag: int


Insert = tuple[type[models.Model], list[str], list[tuple[Any, ...]]]
WORK_FIELDS = [
    "id", "title", "summary", "notes", "end_notes", "language", "expected_chapters", "restricted", "draft",
    "hidden", "created_at", "published_at", "updated_at", "revised_at", "word_count", "chapter_count",
    "complete", "source_site", "source_url", "prompt_text", "prompt_relationship", "kudos_count",
    "comments_count", "bookmarks_count", "hits_count",
]
CHAPTER_FIELDS = ["id", "work", "position", "title", "notes", "end_notes", "html", "word_count", "created_at"]
CREATORSHIP_FIELDS = ["id", "work", "pseud", "accepted", "position", "invited_by"]
WORKTAG_FIELDS = ["id", "work", "tag"]


def work_rows(
    writer: Writer, block: WorkBlock, ids: Ids, tag_ids: IntArray, pseud_ids: IntArray, user_ids: IntArray,
    start: datetime,
) -> list[Insert]:
    """The rows of a block of works, numbered from `ids` (which it moves on)."""
    n = block.count
    work_ids = ids.work + np.arange(n)
    published = writer.datetimes(start, block.published)
    updated = writer.datetimes(start, block.updated)
    expected = [None if e < 0 else e for e in block.expected.tolist()]
    false = [False] * n
    empty = [""] * n
    # As post_work writes a backdated work: created = published, revised = updated.
    works = list(zip(
        work_ids.tolist(), block.title, block.summary, empty, empty, block.language, expected,
        block.restricted.tolist(), false, false, published, published, updated, updated,
        block.word_count.tolist(), block.chapter_count.tolist(), block.complete.tolist(), empty, empty, empty, empty,
        block.kudos.tolist(), block.comments.tolist(), block.bookmarks.tolist(), block.hits.tolist(),
    ))

    total = len(block.chapter_words)
    empty = [""] * total
    chapters = list(zip(
        (ids.chapter + np.arange(total)).tolist(), np.repeat(work_ids, block.chapter_count).tolist(),
        block.chapter_positions.tolist(), empty, empty, empty, block.chapter_html or [CHAPTER_HTML] * total,
        block.chapter_words.tolist(), writer.datetimes(start, block.chapter_times),
    ))

    credit_work = block.creators[:, 0]
    first_credit = np.searchsorted(credit_work, credit_work)
    # As post_work records it: the first creator posted the work and invited the others.
    creatorships = list(zip(
        (ids.creatorship + np.arange(len(credit_work))).tolist(), (ids.work + credit_work).tolist(),
        pseud_ids[block.creators[:, 1]].tolist(), [True] * len(credit_work),
        (np.arange(len(credit_work)) - first_credit).tolist(), user_ids[block.creators[first_credit, 1]].tolist(),
    ))

    # Ordered by tag, so that the tag-first indexes take each tag's new rows in one run.
    worktag_tag = tag_ids[block.tag_plan]
    order = np.lexsort((block.tag_work, worktag_tag))
    worktags = list(zip(
        (ids.worktag + np.arange(len(order))).tolist(), (ids.work + block.tag_work[order]).tolist(),
        worktag_tag[order].tolist(),
    ))

    ids.work += n
    ids.chapter += total
    ids.creatorship += len(credit_work)
    ids.worktag += len(order)
    return [
        (Work, WORK_FIELDS, works),
        (Chapter, CHAPTER_FIELDS, chapters),
        (Creatorship, CREATORSHIP_FIELDS, creatorships),
        (WorkTag, WORKTAG_FIELDS, worktags),
    ]


def concatenate(blocks: list[WorkBlock]) -> WorkBlock:
    """Several blocks as one, for writing a transaction's worth in one go."""
    if len(blocks) == 1:
        return blocks[0]
    offsets = np.cumsum([0] + [b.count for b in blocks[:-1]])
    values: dict[str, Any] = {"count": sum(b.count for b in blocks)}
    for name in WorkBlock.__dataclass_fields__:
        if name == "count":
            continue
        items = [getattr(b, name) for b in blocks]
        if name in ("creators",):
            values[name] = np.concatenate([c + np.array([o, 0]) for c, o in zip(items, offsets)])
        elif name == "tag_work":
            values[name] = np.concatenate([w + o for w, o in zip(items, offsets)])
        elif isinstance(items[0], list):
            values[name] = [x for item in items for x in item]
        else:
            values[name] = np.concatenate(items)
    return WorkBlock(**values)


def existing_tags() -> dict[str, tuple[int, str]]:
    return {name.lower(): (pk, tag_type) for pk, name, tag_type in Tag.objects.values_list("pk", "name", "type")}


def archive_end() -> datetime:
    """Today at midnight UTC: the newest work's date, the same all day for a given seed."""
    now = timezone.now().astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def generate(
    *,
    works: int,
    seed: int = 0,
    batch: int = 20_000,
    progress: Callable[[str], None] = lambda line: None,
    shape: Shape = SHAPE,
    defer_indexes: bool | None = None,
    text: bool = False,
) -> Summary:
    """Add `works` generated works (with their creators and tags) to the archive.

    `text`: chapters of made-up prose (`chapbook.demo.prose`) in the shape's `with_prose`
    lengths, instead of a one-sentence placeholder.

    `defer_indexes` (PostgreSQL only; by default when the archive has no works yet):
    drop the work tables' foreign keys and secondary indexes for the load and build
    them again after it, which is what makes millions of works take hours, not days.
    """
    started = time.monotonic()
    if text:
        shape = shape.with_prose()
    if defer_indexes is None:
        defer_indexes = not Work.objects.exists()
    defer_indexes = defer_indexes and connection.vendor == "postgresql"
    summary = Summary()
    writer = Writer()
    end = archive_end()
    start = end - timedelta(days=round(365.25 * YEARS))
    span = (end - start).total_seconds()
    now = writer.moment(timezone.now().astimezone(UTC))
    for tag_type, names in FIXED_TAGS.items():
        for name in names:
            Tag.fixed(name, tag_type)

    with _bulk_session():
        plan_rng = np.random.default_rng([seed, 0])
        plan = plan_tags(plan_rng, works, existing_tags(), shape)
        sizes = scale(works, shape)
        with transaction.atomic():
            tag_ids = _write_tags(writer, plan, now)
            joined = writer.moment(start - timedelta(days=30))
            pseud_ids, user_ids = _write_creators(writer, plan_rng, sizes["creators"], joined)
        weights = creator_weights(plan_rng, sizes["creators"])
        summary.tags = int((np.asarray(plan.existing) < 0).sum())
        summary.users = sizes["creators"]
        progress(f"{summary.tags:,} tags and {summary.users:,} creators written; now the works")

        ids = Ids(next_id(Work), next_id(Chapter), next_id(Creatorship), next_id(WorkTag))
        # Batches are whole blocks, so that the batch size never changes what is drawn.
        batch = max(BLOCK, batch // BLOCK * BLOCK)
        if text:
            # Some 40 MB of text a block: a batch and the one being prepared stay in memory.
            batch = min(batch, TEXT_BATCH)
        plantings = prose.plant(seed, works) if text else None

        def prepare(first: int) -> tuple[int, list[Insert]]:
            # Runs in a second thread while the previous batch is written: numpy and
            # SQLite both let go of the GIL, so the two cores share the work.
            size = min(batch, works - first)
            blocks = []
            for number in range(first // BLOCK, (first + size + BLOCK - 1) // BLOCK):
                drawn = draw_block(
                    block_rng(seed, number), plan, first=number * BLOCK, count=min(BLOCK, works - number * BLOCK),
                    total=works, creators=weights, span=span, shape=shape,
                )
                if plantings is not None:
                    clock = time.perf_counter()
                    drawn.chapter_html = draw_prose(seed, number, drawn, plan, plantings)
                    summary.prose_seconds += time.perf_counter() - clock
                blocks.append(drawn)
            block = concatenate(blocks)
            summary.words += int(block.word_count.sum())
            return block.count, work_rows(writer, block, ids, tag_ids, pseud_ids, user_ids, start)

        done = 0
        last = time.monotonic()
        with ThreadPoolExecutor(max_workers=1) as pool, _deferred_schema(defer_indexes, progress):
            pending: Future[tuple[int, list[Insert]]] | None = pool.submit(prepare, 0)
            while pending is not None:
                count, inserts = pending.result()
                following = done + count
                pending = pool.submit(prepare, following) if following < works else None
                with transaction.atomic():
                    for model, fields, rows in inserts:
                        writer.insert(model, fields, rows)
                done = following
                summary.works = done
                summary.chapters = writer.rows.get(_table(Chapter), 0)
                summary.worktags = writer.rows.get(_table(WorkTag), 0)
                now_ = time.monotonic()
                progress(progress_line(done, works, now_ - started, count / max(now_ - last, 1e-9)))
                last = now_
        _finish()
    summary.elapsed = time.monotonic() - started
    return summary


class _bulk_session:
    """Database settings for the duration of a bulk load, restored afterwards.

    On SQLite, synchronous=OFF skips the fsync at each commit: a crash mid-load can lose
    the last batches, never the archive's consistency, and the load is rerun anyway. A
    bigger page cache keeps the tag indexes' hot pages in memory.
    """

    def __enter__(self) -> None:
        self.saved: list[tuple[str, Any]] = []
        # SQLite refuses to change the safety level inside a transaction (a caller's, or a test's).
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                for pragma, value in (("synchronous", "OFF"), ("cache_size", "-1000000")):
                    cursor.execute(f"PRAGMA {pragma}")
                    self.saved.append((pragma, cursor.fetchone()[0]))
                    cursor.execute(f"PRAGMA {pragma}={value}")

    def __exit__(self, *exc: object) -> None:
        if self.saved:
            with connection.cursor() as cursor:
                for pragma, value in self.saved:
                    cursor.execute(f"PRAGMA {pragma}={value}")


WORK_TABLES = (Work, Chapter, Creatorship, WorkTag)


class _deferred_schema:
    """On PostgreSQL, the work tables without their foreign keys and secondary indexes.

    Checking two foreign keys and updating four indexes costs each work tag row about
    twenty times what COPY itself does; building them once at the end is PostgreSQL's
    own advice for populating a database. They are rebuilt from their definitions as
    read from the catalog, so whatever the migrations made comes back as it was, even
    when the load fails; only a killed process leaves them missing (the load then has
    to start again on an empty database anyway).
    """

    def __init__(self, enabled: bool, progress: Callable[[str], None]) -> None:
        self.enabled = enabled
        self.progress = progress
        self.restore: list[str] = []

    def __enter__(self) -> None:
        if not self.enabled:
            return
        quote = connection.ops.quote_name
        drop_constraints: list[str] = []
        drop_indexes: list[str] = []
        foreign_keys: list[str] = []
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                # ALTER TABLE refuses to run while deferred checks are pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for model in WORK_TABLES:
                table = quote(_table(model))
                cursor.execute(
                    "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                    [table],
                )
                for name, kind, definition in cursor.fetchall():
                    statement = f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
                    (foreign_keys if kind == "f" else self.restore).append(statement)
                    drop_constraints.append(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
                cursor.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS ("
                    "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) "
                    "ORDER BY 1",
                    [table],
                )
                for name, definition in cursor.fetchall():
                    self.restore.insert(0, definition)
                    drop_indexes.append(f"DROP INDEX {name}")
            # Foreign keys last: their checks then run against the rebuilt indexes.
            self.restore += foreign_keys
            for statement in sorted(drop_constraints, key=lambda s: "FOREIGN" not in s) + drop_indexes:
                cursor.execute(statement)
        self.progress(f"Foreign keys and indexes of the work tables dropped for the load ({len(self.restore)}).")

    def __exit__(self, *exc: object) -> None:
        if not self.enabled:
            return
        self.progress("Building the work tables' indexes and checking their foreign keys...")
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for statement in self.restore:
                cursor.execute(statement)
            cursor.execute("RESET maintenance_work_mem")
            if connection.in_atomic_block:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        self.progress(f"Indexes and foreign keys rebuilt in {format_duration(time.monotonic() - started)}.")


def _finish() -> None:
    """Let the database know the new rows: PostgreSQL's sequences, and the planner's statistics."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            through = _parents_through()
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Tag, through, User, Pseud, Work, Chapter, Creatorship, WorkTag]
            ):
                cursor.execute(sql)
            for model in (Tag, through, User, Pseud, Work, Chapter, Creatorship, WorkTag):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(_table(model))}")
        elif connection.vendor == "sqlite":
            # A sample per index is enough for the planner, and keeps ANALYZE to seconds.
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA analysis_limit=0")
