"""Chapter prose for `chapbook generate --text`: made-up stories with the statistics of real ones.

What full-text search cares about is reproduced, not meaning: about 4,500 English word
forms in word classes, each class's words drawn by a Zipf law (so a few words are
everywhere and most are rare), each work with a few topic nouns of its own; sentences
of varied length built from clause templates ("SUBJ VPAST DET NOUN": "she opened the
door"), in paragraphs; dialogue in curly or straight quotes with said/asked tags;
contractions with ’ or '; a few accented words (café, naïve); the work's own characters
by name; stock phrases of common words that many works share ("for a long moment"); and
rare "memorable" phrases, each planted in a handful of works, so that a benchmark can
search for a line a reader remembers and know which works have it.

Every token written is exactly one word as AO3 counts them (`chapbook.lib.wordcount`):
punctuation and quotes are glued to words, apostrophes and hyphens only ever join, and
names are split into single words. A chapter of N token slots therefore has N words,
and the word counts stored with it are known before the text exists.

Text is drawn a block of works at a time with numpy: templates, word ids, sentence ends,
paragraphs and dialogue are arrays over the block's token slots; each slot's word,
punctuation and following space pick one string from a precomputed table, and one
`str.join` a chapter makes its HTML. That is what makes millions of words a second
possible in Python.

The word lists below were written for this module; the stems are inflected by rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

# --- Word lists ---------------------------------------------------------------------

# Closed classes, each roughly by frequency: the rank decides how often a word is drawn.
DETERMINERS = "the a her his their my your this that every some no each another our its one".split()
# These take a singular noun: "every door", never "every doors".
SINGULAR_DETERMINERS = "a every each another this that one".split()
SUBJECTS = "she he they I you we it".split()
OBJECTS = (
    "her him them me it us you herself himself something nothing everything someone anything "
    "themselves myself yourself nobody everyone"
).split()
PREPOSITIONS = (
    "of in to at on with from into through over under behind toward across against beside without "
    "around along between near past beyond beneath above below inside outside upon among for by"
).split()
CONJUNCTIONS = "and but or so because while when as though until before after if since once".split()
MODALS = "would could might should must will can".split()
NEGATIONS = "didn’t couldn’t wouldn’t don’t can’t won’t shouldn’t doesn’t".split()
SUBJECT_BE = "it’s I’m that’s there’s she’s he’s you’re they’re we’re what’s here’s".split()
BE = "was were is".split()
# Adverbs that sit before a verb: "she just stood".
PRE_VERB = "just still only even never always almost already also suddenly finally barely simply".split()
PRESENT_SUBJECTS = "I you we they".split()
THIRD_SUBJECTS = "she he it".split()
REACTIONS = "nodded smiled laughed sighed waited shrugged froze paused swallowed hesitated".split()

# The first of each open class, in this order, are its commonest; the rest are shuffled.
NOUN_HEAD = (
    "eyes door hand head face room time way moment voice night hands words breath smile window light "
    "things people heart mind world house table floor wall thing air side morning back"
).split()
VERB_HEAD = (
    "look say turn feel know think ask tell pull take see find reach smile nod open stand walk keep "
    "hold want need come leave try wait watch"
).split()
ADJECTIVE_HEAD = "little old long small cold dark quiet warm soft new good last bright heavy open".split()
ADVERB_HEAD = "slowly quietly softly carefully quickly gently again back away together".split()

NOUNS = """
door window room house table chair floor wall ceiling stair corner hallway kitchen bed pillow
blanket mirror lamp candle fire hearth roof garden gate fence path road street city town village
harbour river sea ocean shore beach wave tide boat ship sail rope anchor island bridge tower castle
palace throne crown sword shield armour horse saddle stable field meadow forest tree branch leaf
root flower rose grass hill mountain valley cliff cave stone rock sand dust mud rain snow wind storm
cloud sky sun moon star light shadow dark morning evening afternoon dawn dusk noon midnight hour
minute second week month year season spring summer autumn winter day night time moment life death
heart mind soul body hand finger thumb wrist arm shoulder neck throat chest back knee leg foot toe
face eye mouth lip tooth tongue nose ear cheek jaw chin forehead brow hair skin blood bone breath
voice word name letter book page story song music note silence sound noise whisper laugh cry
scream sigh smile frown glance look stare gaze kiss touch embrace promise secret lie truth question
answer reason idea thought memory dream nightmare wish hope fear anger joy grief sorrow guilt shame
pride love hate trust doubt friend enemy brother sister mother father son daughter uncle aunt
cousin husband wife family child baby boy girl man woman king queen prince princess knight soldier
guard captain general lord lady servant master student teacher doctor nurse priest witch wizard
ghost monster dragon wolf fox bird crow raven owl cat dog mouse rabbit deer bear snake horse fish
bee spider moth butterfly coat jacket shirt dress scarf glove boot shoe hat cloak sleeve collar
pocket button ring necklace bracelet key lock box bag basket bottle cup glass plate bowl spoon knife
fork kettle tea coffee bread cake soup apple orange pear lemon honey sugar salt wine beer water milk
meal dinner breakfast lunch supper food market shop store office school church temple library
museum theatre station train car bus bicycle ticket map compass clock watch bell phone computer
screen message paper pen pencil ink desk drawer shelf cupboard closet attic cellar garage yard
lawn pond lake stream well fountain statue painting picture photograph camera photo frame portrait
game card dice coin money gold silver iron steel copper glass wood paper cloth silk wool cotton
leather velvet lace thread needle button chain wire nail hammer tool ladder bucket broom mop brush
soap towel bath shower sink tap pipe stove oven fridge freezer counter cabinet couch sofa carpet rug
curtain blind shutter balcony porch terrace chimney fireplace corridor passage tunnel bridge dock
pier lighthouse cottage cabin tent camp fire smoke ash ember flame spark heat cold warmth chill
frost ice fog mist haze thunder lightning rainbow horizon edge border line circle shape pattern
colour shade surface side top bottom middle centre end beginning start finish part piece half
whole rest kind sort type number amount size weight height length distance direction place spot
area space world country kingdom empire land ground earth soil grave tomb ruin wreck battle war
fight peace army fleet camp plan trick trap game joke riddle puzzle problem trouble danger risk
chance luck fate fortune choice decision mistake fault accident plan job work task duty order
rule law crime price cost debt gift present surprise party dance festival holiday birthday wedding
funeral meeting visit journey trip adventure quest mission search hunt chase escape return arrival
departure goodbye welcome greeting apology thanks favour help advice warning threat challenge
argument quarrel conversation discussion silence pause step pace stride run walk jump fall climb
swim ride flight arm weapon arrow bow spear axe blade gun bullet wound scar bruise cut burn pain ache
fever cough illness cure medicine potion spell magic curse charm power strength energy force weakness
skill talent gift art craft trade coast cliff orchard vineyard farm barn mill bakery forge workshop
studio stage audience crowd people person stranger neighbour guest host owner partner lover rival
ally hero villain thief liar fool genius artist writer poet singer dancer painter sailor pilot
driver farmer baker butcher cook waiter clerk agent spy detective officer judge lawyer prisoner
witness victim survivor orphan widow lantern cathedral string purpose language hole diary jar
violin keeper list umbrella kettle bottle cap loaf teacup regret mistake envelope parcel postcard
notebook journal calendar schedule deadline interview exam lesson lecture class homework essay
report contract signature pattern puzzle feather pebble shell seed petal thorn vine moss fern ivy
oak pine willow birch maple cedar elm hedge bush orchard meadow marsh swamp desert dune canyon
glacier volcano prairie plain plateau ridge peak summit slope bank shoreline bay cove inlet
lagoon reef current whirlpool puddle drizzle shower breeze gust gale blizzard hail sleet dew
sunlight moonlight starlight candlelight firelight lamplight twilight daylight sunrise sunset
street alley avenue square plaza courtyard cloister chapel abbey monastery convent fortress
citadel barracks armoury prison dungeon cell vault treasury chamber hall ballroom parlour study
nursery pantry larder scullery laundry workshop warehouse factory shipyard harbourmaster
innkeeper tavern inn pub restaurant hotel lobby lift elevator staircase landing doorway threshold
doorstep windowsill thing railing banister bannister fence hedge gatepost mailbox postbox lamppost
signpost crossroads roundabout motorway highway lane track trail footpath bridleway towpath canal
lock barge ferry raft canoe kayak yacht steamer tugboat submarine airship balloon kite sled
sledge carriage coach cart wagon wheel axle engine motor fuel petrol battery cable plug switch
socket bulb wire radio television speaker headphone microphone keyboard mouse laptop tablet
charger cable receipt wallet purse handbag suitcase backpack rucksack umbrella raincoat sweater
jumper cardigan hoodie jeans trousers skirt stocking sock slipper sandal trainer apron uniform
badge medal ribbon bow brooch earring pendant locket tiara veil mask costume wig makeup lipstick
perfume cologne comb mirror razor toothbrush blanket quilt duvet mattress cushion hammock crib
cradle toy doll puppet teddy marble kite jigsaw chessboard pawn bishop rook checkmate deck hand
trick spell wand staff orb crystal gem jewel diamond ruby emerald sapphire pearl opal amethyst
""".split()

IRREGULAR_PLURALS = {
    "man": "men", "woman": "women", "child": "children", "foot": "feet", "tooth": "teeth", "mouse": "mice",
    "knife": "knives", "leaf": "leaves", "shelf": "shelves", "wolf": "wolves", "life": "lives", "wife": "wives",
    "half": "halves", "thief": "thieves", "scarf": "scarves", "hero": "heroes", "person": "people", "fish": "fish", "deer": "deer", "sheep": "sheep",
}  # fmt: skip
# Mass nouns and the like: no plural form.
UNCOUNTED = set(
    """rain snow mud sand dust silence music blood grass wool silk cotton leather velvet lace
    gold silver iron steel copper tea coffee bread milk water wine beer honey sugar salt smoke ash
    heat warmth frost ice fog mist haze thunder lightning fear anger joy grief sorrow guilt shame
    pride love hate trust peace advice magic strength energy weakness art luck fate fortune help
    people soil medicine cold chill food money homework makeup twilight daylight sunlight moonlight
    starlight candlelight firelight lamplight moss ivy dew hail sleet drizzle fuel petrol perfume cologne
    lipstick soap dawn dusk noon midnight""".split()
)

# base, or base/past/participle; a trailing + doubles the last consonant (stop -> stopped).
VERBS = """
walk talk look turn open close pull push reach touch hold/held/held stand/stood/stood sit+/sat/sat
wait watch listen smile laugh frown sigh nod+ shrug+ whisper murmur mutter call shout scream cry
answer ask reply explain admit+ agree argue promise decide try want need like love hate hope fear
wonder remember forget+/forgot/forgotten believe trust notice realise understand/understood/understood
know/knew/known think/thought/thought feel/felt/felt see/saw/seen hear/heard/heard seem appear
come/came/come go/went/gone leave/left/left arrive return enter follow lead/led/led move step+ stop+
start begin+/began/begun finish end stay keep/kept/kept let+/let/let put+/put/put set+/set/set
take/took/taken give/gave/given bring/brought/brought carry send/sent/sent find/found/found
lose/lost/lost hide/hid/hidden search hunt chase catch/caught/caught throw/threw/thrown drop+
pick lift raise lower fall/fell/fallen rise/rose/risen climb jump run+/ran/run race hurry rush
wander drift float fly/flew/flown swim+/swam/swum ride/rode/ridden drive/drove/driven sail row
walk wake/woke/woken sleep/slept/slept dream breathe blink stare glance gaze watch study read/read/read
write/wrote/written draw/drew/drawn paint sing/sang/sung play dance speak/spoke/spoken say/said/said
tell/told/told show/showed/shown teach/taught/taught learn eat/ate/eaten drink/drank/drunk cook bake
pour fill empty clean wash dry fold wrap+ tie untie button cover uncover break/broke/broken fix
mend build/built/built make/made/made shape cut+/cut/cut tear/tore/torn burn light/lit/lit
shine/shone/shone glow flicker fade dim darken brighten warm cool freeze/froze/frozen melt shiver
tremble shake/shook/shaken press squeeze grip+ grab+ hug+ kiss brush stroke tap+ knock slam+ shut+/shut/shut
lock unlock kneel/knelt/knelt lean bend/bent/bent twist curl stretch settle rest lie/lay/lain
lay/laid/laid hang/hung/hung swing/swung/swung spin+/spun/spun slide/slid/slid slip+ trip+
stumble crash hit+/hit/hit strike/struck/struck fight/fought/fought win+/won/won beat/beat/beaten
hurt/hurt/hurt bleed/bled/bled heal save protect guard defend attack kill die live survive escape
flee/fled/fled steal/stole/stolen borrow lend/lent/lent buy/bought/bought sell/sold/sold pay/paid/paid
spend/spent/spent own share offer accept refuse deny allow forbid/forbade/forbidden order obey serve
visit meet/met/met greet welcome invite join marry leave/left/left miss worry care bother matter
mean/meant/meant count measure weigh guess imagine pretend lie/lied/lied cheat join gather collect
scatter spill spread/spread/spread grow/grew/grown plant dig+/dug/dug bury water pick choose/chose/chosen
prefer+ plan+ prepare pack unpack travel journey cross pass/passed/passed approach circle follow
vanish disappear return seek/sought/sought wish pray bless curse forgive/forgave/forgiven apologise
thank blame warn threaten tease laugh joke grin+ blush flinch wince gasp choke cough swallow sniff
whistle hum+ creak rattle clatter echo ring/rang/rung buzz hiss roar growl howl bark purr crackle
add snap+ roll happen owe trade deliver knit+ sneeze regret+ wear/wore/worn kick punch slap+
scratch bite/bit/bitten chew lick sip+ gulp sob+ weep/wept/wept wail groan moan yawn tiptoe march stroll
limp crawl sprint dash dart leap/leapt/leapt bounce skip+ hop+ tumble tilt nudge shove yank tug+ drag+
haul hoist toss fling/flung/flung hurl cradle rock soothe comfort console reassure encourage convince
persuade insist demand beg+ plead complain mention suggest recommend describe report announce declare
confess reveal conceal expose discover explore examine inspect observe witness recognise identify remind
recall replace repair restore destroy ruin wreck damage crack shatter smash crush scrape polish scrub+
rinse sweep/swept/swept dust iron sew/sewed/sewn stitch knot+ weave/wove/woven braid comb shave bathe
fetch post mail text type print sign stamp seal file sort arrange organise tidy decorate celebrate
mourn grieve honour respect admire envy resent tolerate ignore avoid dodge duck hesitate pause linger
loiter hover orbit rotate revolve quiver shudder flutter flap+ soar glide swoop dive plunge drown emerge
surface wade paddle steer navigate anchor moor dock board land park reverse brake swerve collide rustle drip+ splash sink/sank/sunk soak dress undress change smell taste sense sound seem become/became/become
""".split()

ADJECTIVES = """
old young new small little big large great tall short long wide narrow deep shallow high low heavy
light dark bright pale dim soft hard rough smooth sharp dull warm cold cool hot wet dry clean dirty
empty full quiet loud silent still calm gentle kind cruel wild tame brave afraid scared nervous
anxious tired sleepy awake alive dead sick ill well strong weak quick slow fast late early sudden
one two three four five six seven eight nine ten eleven twelve twenty hundred thousand
certain sure strange odd familiar foreign distant close near far open closed broken whole entire
real true false honest secret hidden private public safe dangerous careful careless serious
funny happy sad angry glad sorry lonely alone proud ashamed guilty innocent clever stupid wise
foolish good bad better best worse worst fine nice lovely beautiful pretty ugly plain simple
easy difficult hard important possible impossible ready busy free rich poor cheap expensive
golden silver grey black white red blue green yellow brown purple pink crimson scarlet amber ivory
silken wooden stone iron glass paper velvet thin thick fat slim bare naked bloody bitter sweet sour
salty fresh stale ripe rotten sweet sacred holy ancient modern ordinary usual unusual rare common
normal perfect terrible awful horrible wonderful beautiful gorgeous fragile delicate fierce
furious desperate hungry thirsty restless patient curious eager shy bold gentle tender warm polite
rude stubborn loyal faithful jealous bitter weary hollow heavy solemn grim bleak steady shaky
unsteady crooked straight curved round square flat steep dusty muddy snowy rainy windy foggy misty
stormy sunny cloudy icy frozen burning glowing shining shimmering gleaming faint vague clear
obvious quiet hushed whispered frantic breathless trembling wrong right left final main
total serious major minor huge tiny enormous vast endless narrow crowded deserted abandoned
forgotten remembered lost found lucky unlucky clumsy graceful elegant shabby tidy messy neat
sturdy flimsy solid hollow dense sparse lush barren fertile rotten fragrant musty stale smoky
salty spicy bland crisp tender juicy greasy sticky slippery fluffy fuzzy prickly silky woolly
leathery rusty dented chipped cracked faded polished shiny glossy matte striped spotted checked
plaid tattered ragged threadbare elaborate ornate plain humble grand modest lavish stark cosy
snug spacious cramped airy stuffy chilly freezing boiling scorching humid muggy breezy gusty
thunderous deafening muffled shrill hoarse husky gravelly lilting melodic tuneless rhythmic
fervent earnest sincere genuine fake hollow bitter resentful grateful thankful hopeful hopeless
helpless useless careful reckless fearless timid meek docile feral savage vicious gentle mild
""".split()

ADVERBS = """
slowly quickly quietly softly gently carefully suddenly finally almost nearly barely hardly simply
only really truly surely certainly probably possibly clearly silently loudly sharply firmly tightly
lightly warmly coldly sadly happily angrily fondly bitterly wearily eagerly nervously anxiously
calmly steadily briefly rarely often sometimes usually seldom forever together apart aside forward
backward upward downward inward outward home abroad outside inside upstairs downstairs somewhere
meanwhile otherwise afterwards twice thrice backwards upwards sideways eventually immediately instantly gradually slightly deeply badly
properly exactly entirely completely utterly absolutely perfectly merely mostly partly quite rather
""".split()

# Spelled as English writes them; folding accents is the search engine's job (`cafe` finds café).
ACCENTED = """
café naïve fiancée fiancé résumé cliché façade soirée protégé crème brûlée entrée éclair piñata
jalapeño señor doppelgänger rosé sauté touché née château décor élan naïveté exposé
""".split()

HYPHENATED = """
half-smile half-asleep self-conscious well-meaning good-natured long-forgotten sun-warmed
rain-soaked ice-cold bone-tired red-faced wide-eyed twenty-two forty-five half-finished
""".split()

PRONOUNS = ["she", "he", "they"]
SAID = ["said", "whispered", "replied", "murmured", "called", "admitted", "snapped", "muttered", "added", "answered"]
SAID_P = [0.55, 0.08, 0.08, 0.06, 0.04, 0.04, 0.04, 0.04, 0.04, 0.03]
ORIGINAL_CHARACTERS = [
    "Mara", "Tobin", "Liesel", "Corwin", "Anya", "Felix", "Juniper", "Bastien", "Odette", "Rafferty",
    "Isolde", "Caspar", "Wren", "Emrys", "Saffi", "Declan",
]

# Phrases of common words that many works share, most common first.
STOCK_PHRASES = [
    "for a long moment", "she took a deep breath", "he shook his head", "out of the corner of her eye",
    "for the first time", "she rolled her eyes", "he let out a breath", "in the middle of the night",
    "she didn’t know what to say", "at the same time", "for the rest of the day", "before she could stop herself",
    "for what felt like hours", "the corner of his mouth twitched", "all of a sudden", "in the back of his mind",
    "as soon as she could", "he took a deep breath", "it wasn’t like that", "at the end of the day",
    "she shook her head", "he rolled his eyes", "the back of her neck prickled", "as if nothing had happened",
]

# Lines a reader might remember, each planted in a handful of works (see `plant`).
MEMORABLE_PHRASES = [
    "the lighthouse keeper owed her a song",
    "seven umbrellas and not one of them was yellow",
    "the moon had forgotten its own name",
    "a kettle that sang in three languages",
    "he folded the sky into his pocket",
    "the orchard remembered every promise",
    "we buried the clock beneath the pear tree",
    "the river refused to carry any more letters",
    "paper boats do not sink on purpose",
    "she counted the stars twice and lost one",
    "the ghost in the library borrowed my scarf",
    "a crown made of bottle caps and string",
    "the winter train never stopped at our station",
    "his laugh sounded like a door left open",
    "the map was drawn by someone who had never been there",
    "nobody warned us about the singing bridge",
    "the last candle in the cathedral was still warm",
    "every lantern on the pier went out at once",
    "we traded our shadows for a loaf of bread",
    "the sea kept a list of everyone it had taken",
    "a violin with only one string left",
    "the garden grew backwards every autumn",
    "the cartographer drew a door on the wall",
    "the snow fell upward for exactly one minute",
    "she kept the thunder in a jam jar",
    "the wolves wrote letters to the moon",
    "our house had one more room at night",
    "the clock tower sneezed at midnight",
    "he taught the crows to count to eleven",
    "the bakery sold bread shaped like regrets",
    "the harbour bells rang for no ship at all",
    "a teacup full of lightning",
    "the stairs led down to the summer",
    "the mirror forgot to show her face",
    "the bridge was knitted from grey wool",
    "he wore the rain like a borrowed coat",
    "the stars were only holes in the curtain",
    "every key in the house opened the same door",
    "the owl delivered the wrong letter on purpose",
    "the fox kept a diary of our mistakes",
]


# --- Inflection -------------------------------------------------------------------------

_VOWELS = set("aeiou")


def plural(noun: str) -> str:
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in _VOWELS:
        return noun[:-1] + "ies"
    return noun + "s"


def verb_forms(entry: str) -> list[str]:
    """base, third person, past, participle and -ing of a VERBS entry."""
    parts = entry.split("/")
    double = parts[0].endswith("+")
    base = parts[0].rstrip("+")
    stem = base + base[-1] if double else base
    if base.endswith("ie"):
        ing = base[:-2] + "ying"
    elif base.endswith("e") and not base.endswith(("ee", "ye", "oe")) and len(base) > 2:
        ing = base[:-1] + "ing"
    else:
        ing = stem + "ing"
    if base.endswith(("s", "x", "z", "ch", "sh", "o")):
        third = base + "es"
    elif base.endswith("y") and base[-2] not in _VOWELS:
        third = base[:-1] + "ies"
    else:
        third = base + "s"
    if len(parts) > 1:
        past, participle = parts[1], parts[2]
    elif base.endswith("e"):
        past = participle = base + "d"
    elif base.endswith("y") and base[-2] not in _VOWELS:
        past = participle = base[:-1] + "ied"
    else:
        past = participle = stem + "ed"
    return [base, third, past, participle, ing]


# --- The vocabulary ---------------------------------------------------------------------

# Punctuation glued to a token: before it (PREFIXES) and after it (SUFFIXES).
PREFIXES = ("", "cap", "“cap")
SUFFIXES = ("", ".", ",", "?", "!", "…", ";", ",”", "?”", "!”", ".”", "…”")
P_NONE, P_CAP, P_QUOTE = range(3)
S_NONE, S_STOP, S_COMMA, S_QUESTION, S_BANG, S_ELLIPSIS, S_SEMICOLON = range(7)
S_CLOSE_COMMA, S_CLOSE_QUESTION, S_CLOSE_BANG, S_CLOSE_STOP, S_CLOSE_ELLIPSIS = range(7, 12)
VARIANTS = len(PREFIXES) * len(SUFFIXES)
# Draws per class are looked up in a table this long; a word rarer than 1 in 65,536 of
# its class is drawn at that rate.
TABLE_SIZE = 1 << 16
# Words drawn at a time (see `draw_texts`).
GROUP_WORDS = 1_000_000
# Some works use straight quotes and apostrophes, the rest curly ones.
STRAIGHTEN = str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'"})

# Word classes a template slot draws from. NAME-like slots are filled from the work's
# characters afterwards; SURNAME falls back to an adverb for a character without one
# ("Wren quietly opened the door").
CLASSES = (
    "DET", "SUBJ", "OBJ", "PREP", "CONJ", "MODAL", "NEG", "SUBJBE", "BE", "PREVERB", "ADV", "NOUN", "ADJ",
    "VPAST", "VBASE", "VING", "VPART", "VTHIRD", "SUBJP", "SUBJ3", "SPEAKER", "SAID", "REACT", "FIRST", "SURNAME",
)  # fmt: skip
CLASS = {name: n for n, name in enumerate(CLASSES)}

# Clauses and phrases, with how often each is drawn; a sentence is one to several of
# them. Lower-case words are written as they are. "SPEAKER SAID" is the dialogue tag.
TEMPLATES = {
    "SUBJ VPAST DET NOUN": 10, "SUBJ VPAST PREP DET NOUN": 8, "SUBJ VPAST DET ADJ NOUN": 5,
    "SUBJ NEG VBASE DET NOUN": 3, "SUBJ NEG VBASE": 2, "SUBJ MODAL VBASE OBJ": 3, "SUBJ VPAST OBJ": 5,
    "SUBJ VPAST ADV": 4, "PREP DET NOUN": 8, "PREP DET ADJ NOUN": 4, "CONJ SUBJ VPAST": 6,
    "CONJ SUBJ VPAST DET NOUN": 5, "DET NOUN VPAST": 5, "DET ADJ NOUN VPAST PREP DET NOUN": 3,
    "SUBJBE ADJ": 3, "SUBJBE VING PREP DET NOUN": 2, "DET NOUN BE ADJ": 4, "SUBJ had VPART DET NOUN": 3,
    "VING PREP DET NOUN": 2, "ADV SUBJ VPAST": 2, "DET NOUN PREP DET NOUN": 4, "SUBJ PREVERB VPAST": 3,
    "FIRST SURNAME VPAST DET NOUN": 1.5, "SUBJ VPAST DET NOUN and VPAST OBJ": 2, "SUBJP VBASE DET NOUN": 2,
    "SUBJ3 VTHIRD PREP DET NOUN": 1.5, "SUBJ VPAST VING": 1, "DET NOUN of DET ADJ NOUN": 1.5,
    "SPEAKER SAID": 9,
}  # fmt: skip
TAG = "SPEAKER SAID"
# Stock phrases together are drawn this often, as if one template.
STOCK_WEIGHT = 2.5


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]


def variants(word: str, style: int) -> list[str]:
    """The word with every prefix and suffix, without and with a space after it, in
    token-table order; style 1 is straight quotes."""
    out = []
    for prefix in PREFIXES:
        head = word if prefix == "" else _capitalised(word) if prefix == "cap" else "“" + _capitalised(word)
        for suffix in SUFFIXES:
            token = head + suffix
            if style:
                token = token.translate(STRAIGHTEN)
            out += [token, token + " "]
    return out


def zipf_weights(count: int, exponent: float, offset: float) -> npt.NDArray[np.float64]:
    weights = 1.0 / np.power(np.arange(1, count + 1, dtype=np.float64) + offset, exponent)
    return weights / weights.sum()


def _ranked(head: Sequence[str], words: Sequence[str], seed: int) -> list[str]:
    """The head words in order, then the others in a fixed shuffle."""
    head = list(dict.fromkeys(head))
    rest = [w for w in dict.fromkeys(words) if w not in set(head)]
    order = np.random.default_rng(seed).permutation(len(rest))
    return head + [rest[i] for i in order]


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]
    classes: dict[str, list[str]]
    # Every class's words, and for drawing them, TABLE_SIZE word ids per class spread
    # like the class's weights (an inverse CDF: one lookup a draw).
    class_table: npt.NDArray[np.int32]
    class_ids: IntArray
    # Templates: slot codes (a class number, or NCLASSES + word id), starts and lengths,
    # then the stock phrases and memorable phrases as templates of fixed words.
    codes: IntArray
    template_start: IntArray
    template_length: IntArray
    template_cum: npt.NDArray[np.float64]  # over the drawn templates (not the memorable ones)
    class_bounds: IntArray  # class n's words are class_ids[class_bounds[n]:class_bounds[n + 1]]
    tag: int  # the template number of "SPEAKER SAID"
    memorable: int  # the template number of the first memorable phrase
    asked: int
    singular: IntArray  # by word id: the noun's singular (itself for any other word)
    singular_only: npt.NDArray[np.bool_]  # by word id: a determiner taking a singular noun
    vowel: npt.NDArray[np.bool_]  # by word id: "an", not "a", before it
    a: int
    an: int
    was: int
    were: int
    tokens: ObjectArray  # (style, word, prefix, suffix, space after) flattened

    def members(self, name: str) -> IntArray:
        n = CLASS[name]
        return self.class_ids[self.class_bounds[n] : self.class_bounds[n + 1]]


def _verb_forms_by_kind() -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"VBASE": [], "VTHIRD": [], "VPAST": [], "VPART": [], "VING": []}
    for entry in VERBS:
        base, third, past, participle, ing = verb_forms(entry)
        for kind, form in zip(kinds, (base, third, past, participle, ing)):
            kinds[kind].append(form)
    return kinds


@cache
def vocabulary() -> Vocabulary:
    """The word classes, the templates and the token table: built once per process (~0.3 s)."""
    nouns: list[str] = []
    for noun in NOUNS:
        nouns.append(noun)
        if noun not in UNCOUNTED:
            nouns.append(plural(noun))
    nouns += [w for w in ACCENTED if w not in ("naïve", "touché", "née")]
    forms = _verb_forms_by_kind()
    entries = {entry.split("/")[0].rstrip("+"): entry for entry in VERBS}
    head = {kind: [verb_forms(entries[v])[n] for v in VERB_HEAD] for n, kind in enumerate(forms)}
    classes: dict[str, list[str]] = {
        "DET": DETERMINERS, "SUBJ": SUBJECTS, "OBJ": OBJECTS, "PREP": PREPOSITIONS, "CONJ": CONJUNCTIONS,
        "MODAL": MODALS, "NEG": NEGATIONS, "SUBJBE": SUBJECT_BE, "BE": BE, "PREVERB": PRE_VERB,
        "ADV": _ranked(ADVERB_HEAD, ADVERBS, 1),
        "NOUN": _ranked(NOUN_HEAD, nouns, 2),
        "ADJ": _ranked(ADJECTIVE_HEAD, ADJECTIVES + HYPHENATED + ["naïve", "touché", "née"], 3),
        **{kind: _ranked(head[kind], forms[kind], 4 + n) for n, kind in enumerate(forms)},
        "SUBJP": PRESENT_SUBJECTS, "SUBJ3": THIRD_SUBJECTS, "SPEAKER": PRONOUNS, "SAID": SAID, "REACT": REACTIONS,
        "FIRST": PRONOUNS, "SURNAME": _ranked(ADVERB_HEAD, ADVERBS, 1),
    }  # fmt: skip
    classes = {name: classes[name] for name in CLASSES}
    words = list(dict.fromkeys(w for name in CLASSES for w in classes[name]))
    phrases = [p.split() for p in STOCK_PHRASES + MEMORABLE_PHRASES] + [
        [w for w in t.split() if w.islower()] for t in TEMPLATES
    ]
    words += list(dict.fromkeys(w for phrase in phrases + [["an"]] for w in phrase if w not in set(words)))
    index = {word: n for n, word in enumerate(words)}
    singular = np.arange(len(words), dtype=np.int64)
    for noun in NOUNS:
        if noun not in UNCOUNTED and plural(noun) != noun:
            singular[index[plural(noun)]] = index[noun]
    singular_only = np.zeros(len(words), dtype=bool)
    singular_only[[index[w] for w in SINGULAR_DETERMINERS]] = True

    tables, ids = [], []
    quantiles = (np.arange(TABLE_SIZE) + 0.5) / TABLE_SIZE
    for name in CLASSES:
        members = np.array([index[w] for w in classes[name]], dtype=np.int64)
        if name == "SAID":
            weights = np.asarray(SAID_P) / sum(SAID_P)
        else:
            weights = zipf_weights(len(members), 1.0, 0.5 if len(members) < 100 else 2.5)
        at = np.minimum(np.searchsorted(np.cumsum(weights), quantiles, side="right"), len(members) - 1)
        tables.append(members[at].astype(np.int32))
        ids.append(members)

    code_lists: list[list[int]] = []
    for template in TEMPLATES:
        code_lists.append([CLASS[w] if w in CLASS else len(CLASSES) + index[w] for w in template.split()])
    for phrase in STOCK_PHRASES + MEMORABLE_PHRASES:
        code_lists.append([len(CLASSES) + index[w] for w in phrase.split()])
    lengths = np.array([len(c) for c in code_lists], dtype=np.int64)
    weights = np.array(
        list(TEMPLATES.values()) + list(STOCK_WEIGHT * zipf_weights(len(STOCK_PHRASES), 0.8, 1.0)), dtype=np.float64
    )
    template_cum = np.cumsum(weights / weights.sum())
    template_cum[-1] = 1.0
    tokens = np.array([t for style in (0, 1) for word in words for t in variants(word, style)], dtype=object)
    return Vocabulary(
        words=words,
        classes=classes,
        class_table=np.concatenate(tables),
        class_ids=np.concatenate(ids),
        class_bounds=np.cumsum([0] + [len(i) for i in ids]),
        codes=np.array([c for codes in code_lists for c in codes], dtype=np.int64),
        template_start=np.cumsum(lengths) - lengths,
        template_length=lengths,
        template_cum=template_cum,
        tag=list(TEMPLATES).index(TAG),
        memorable=len(TEMPLATES) + len(STOCK_PHRASES),
        asked=index["asked"],
        singular=singular,
        singular_only=singular_only,
        vowel=np.array([w[:1].lower() in "aeiou" for w in words], dtype=bool),
        a=index["a"],
        an=index["an"],
        was=index["was"],
        were=index["were"],
        tokens=tokens,
    )


# --- Planting the memorable phrases -------------------------------------------------------


def plant(seed: int, works: int) -> tuple[IntArray, IntArray]:
    """Which works (ordinals 0..works-1 of a run) get which memorable phrase.

    Phrase k goes into 2 + k % 6 works, so the rarest are in two works and the others in
    up to seven; a small run uses fewer phrases (about one per 50 works), so that most
    works have none. Returns (ordinals, phrase numbers), sorted by ordinal.
    """
    rng = np.random.default_rng([seed, 4, works])
    used = min(len(MEMORABLE_PHRASES), max(1, works // 50))
    ordinals: list[IntArray] = []
    phrases: list[IntArray] = []
    for k in range(used):
        count = min(2 + k % 6, works)
        ordinals.append(rng.choice(works, size=count, replace=False).astype(np.int64))
        phrases.append(np.full(count, k, dtype=np.int64))
    ordinal, phrase = np.concatenate(ordinals), np.concatenate(phrases)
    order = np.lexsort((phrase, ordinal))
    return ordinal[order], phrase[order]


def ordinary_phrases() -> list[int]:
    """The memorable phrases made only of words that ordinary text uses too: searching
    for one of them has to match the phrase, not look up a word only it has."""
    vocab = vocabulary()
    drawn = {w for members in vocab.classes.values() for w in members}
    drawn |= {w for template in TEMPLATES for w in template.split() if w.islower()}
    return [k for k, phrase in enumerate(MEMORABLE_PHRASES) if set(phrase.split()) <= drawn]


# --- Drawing text ---------------------------------------------------------------------------


@dataclass
class Cast:
    """The names a block's works use: `names[i]` is the (first name, surname or "") of the
    i-th character, and work w's characters are names[offsets[w]:offsets[w + 1]], most
    important first. Every work has at least one."""

    names: list[tuple[str, str]]
    offsets: IntArray


def name_words(name: str) -> tuple[str, str] | None:
    """A character tag's name as (first name, surname or ""), single words only:
    "Aria Thornfield (The Silver Harbour)" -> ("Aria", "Thornfield")."""
    words = [w for w in name.split(" (")[0].split() if w.isalpha()]
    if not words:
        return None
    return words[0], words[-1] if len(words) > 1 else ""


def draw_texts(
    rng: np.random.Generator,
    chapter_words: IntArray,
    chapter_work: IntArray,
    cast: Cast,
    plantings: Sequence[tuple[int, int]] = (),
) -> list[str]:
    """The HTML of each chapter: chapter_words[i] words exactly, for work chapter_work[i]
    (block-local numbers, ascending, from 0). `plantings` are (work, memorable phrase
    number) pairs.

    Works are drawn in groups of about GROUP_WORDS words, which bounds the memory the
    arrays over every slot take (some 150 MB).
    """
    chapter_words = np.asarray(chapter_words, dtype=np.int64)
    chapter_work = np.asarray(chapter_work, dtype=np.int64)
    works = len(cast.offsets) - 1
    per_work = np.bincount(chapter_work, weights=chapter_words, minlength=works)
    group = (np.cumsum(per_work) - per_work) // GROUP_WORDS  # each work's group, by the words before it
    cuts = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
    texts: list[str] = []
    for first, last in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        chapters = (chapter_work >= first) & (chapter_work < last)
        offsets = cast.offsets[first : last + 1]
        part = Cast(cast.names[offsets[0] : offsets[-1]], offsets - offsets[0])
        planted = [(work - first, phrase) for work, phrase in plantings if first <= work < last]
        texts += _draw_group(rng, chapter_words[chapters], chapter_work[chapters] - first, part, planted)
    return texts


def _draw_group(
    rng: np.random.Generator,
    chapter_words: IntArray,
    chapter_work: IntArray,
    cast: Cast,
    plantings: Sequence[tuple[int, int]],
) -> list[str]:
    """The chapters of some works, as one stream of token slots cut at the chapters'
    lengths. The stream is a sequence of templates; a sentence ends after a template now
    and then, and at the end of every chapter."""
    vocab = vocabulary()
    works = len(cast.offsets) - 1
    total = int(chapter_words.sum())
    chapter_start = np.cumsum(chapter_words) - chapter_words
    slot_work = np.repeat(chapter_work, chapter_words)

    # Templates, with room to spare for the memorable phrases.
    mean = float(np.diff(np.r_[0.0, vocab.template_cum]) @ vocab.template_length[: len(vocab.template_cum)])
    slack = 64 + 8 * len(plantings)
    count = int(total / mean * 1.02) + slack
    while True:
        template = np.minimum(
            np.searchsorted(vocab.template_cum, rng.random(count), side="right"), len(vocab.template_cum) - 1
        )
        if int(vocab.template_length[template].sum()) >= total + slack:
            break
        count = int(count * 1.1) + 64
    is_tag = template == vocab.tag
    # A sentence ends after a template a third of the time, always after a dialogue tag
    # and never just before one.
    end_after = (rng.random(count) < 0.35) | is_tag
    end_after[:-1] &= ~is_tag[1:]
    if plantings:
        _plant(rng, vocab, template, end_after, plantings, chapter_start, chapter_words, chapter_work)
    lengths = vocab.template_length[template]
    template_start = np.cumsum(lengths) - lengths
    template = template[template_start < total]
    lengths, template_start, end_after = lengths[: len(template)], template_start[: len(template)], end_after[: len(template)]
    is_tag = template == vocab.tag
    # Slot i holds the code at its template's start in vocab.codes, plus its offset in it.
    slots = np.arange(total) + np.repeat(vocab.template_start[template] - template_start, lengths)[:total]
    codes = vocab.codes[slots]

    # Sentences: ends after some templates, and at the end of every chapter.
    template_end = template_start + lengths - 1
    is_end = np.zeros(total, dtype=bool)
    is_end[template_end[end_after & (template_end < total)]] = True
    is_end[chapter_start + chapter_words - 1] = True
    ends = np.flatnonzero(is_end)
    starts = np.r_[0, ends[:-1] + 1].astype(np.int64)
    sentence_work = slot_work[starts]

    # Dialogue: a sentence ending in a tag is quoted ("…,” she said.) in proportion to how
    # much dialogue the work has; otherwise the tag is a sentence of its own ("She nodded.").
    dialogue_rate = 0.25 + 0.7 * rng.beta(2.0, 2.0, works)
    tag_at = template_start[is_tag]
    tag_at = tag_at[tag_at + 1 < total]
    sentence_of_tag = np.searchsorted(starts, tag_at, side="right") - 1
    quoted = (
        (ends[sentence_of_tag] == tag_at + 1)
        & (starts[sentence_of_tag] < tag_at)
        & (rng.random(len(tag_at)) < dialogue_rate[slot_work[tag_at]])
    )
    reaction = tag_at[~quoted]
    codes[reaction] = CLASS["SUBJ"]
    codes[reaction + 1] = CLASS["REACT"]
    is_end[reaction[starts[sentence_of_tag[~quoted]] < reaction] - 1] = True
    ends = np.flatnonzero(is_end)
    starts = np.r_[0, ends[:-1] + 1].astype(np.int64)
    sentence_work = slot_work[starts]
    tag_at = tag_at[quoted]
    tagged = np.searchsorted(starts, tag_at, side="right") - 1

    # Paragraphs: at chapter starts, at each quoted sentence, and now and then.
    opens = rng.random(len(starts)) < 0.3
    opens[np.searchsorted(starts, chapter_start)] = True
    opens[tagged] = True
    after = tagged + 1
    opens[after[after < len(starts)]] |= rng.random(int((after < len(starts)).sum())) < 0.6
    # Some paragraphs open with a quoted sentence that has no tag.
    has_tag = np.zeros(len(starts), dtype=bool)
    has_tag[tagged] = True
    lines = opens & ~has_tag & (rng.random(len(starts)) < 0.35 * dialogue_rate[sentence_work])
    tail_is_tag = np.zeros(total + 1, dtype=bool)
    tail_is_tag[template_start[is_tag] + 1] = True
    lines &= ~tail_is_tag[ends]

    # Words: one draw for every class slot, then the characters' names.
    ids = np.empty(total, dtype=np.int64)
    drawn = codes < len(CLASSES)
    ids[~drawn] = codes[~drawn] - len(CLASSES)
    ids[drawn] = vocab.class_table[codes[drawn] * TABLE_SIZE + rng.integers(0, TABLE_SIZE, int(drawn.sum()))]
    _name(rng, ids, codes, slot_work, cast, vocab)
    # A few topic nouns per work, some 8% of its nouns: what the work is about.
    nouns = np.flatnonzero(codes == CLASS["NOUN"])
    pool = vocab.members("NOUN")
    topics = pool[rng.integers(20, min(1500, len(pool)), size=(works, 5))]
    topical = nouns[rng.random(len(nouns)) < 0.08]
    ids[topical] = topics[slot_work[topical], rng.integers(0, 5, len(topical))]

    # Grammar: "every door", not "every doors"; "an orchard", not "a orchard".
    det = np.maximum(nouns - 1, 0)
    det = np.where(codes[det] == CLASS["ADJ"], np.maximum(det - 1, 0), det)
    single = nouns[(codes[det] == CLASS["DET"]) & vocab.singular_only[ids[det]]]
    ids[single] = vocab.singular[ids[single]]

    be = np.flatnonzero(codes[1:] == CLASS["BE"]) + 1
    subject = ids[be - 1]
    after_noun = codes[be - 1] == CLASS["NOUN"]
    many = after_noun & (vocab.singular[np.minimum(subject, len(vocab.words) - 1)] != subject)
    ids[be[many]] = vocab.were
    ids[be[after_noun & ~many & (ids[be] == vocab.were)]] = vocab.was

    # Punctuation.
    prefix = np.zeros(total, dtype=np.int64)
    suffix = np.zeros(total, dtype=np.int64)
    prefix[starts] = P_CAP
    inner_ends = template_end[(template_end < total) & ~end_after & ~np.r_[is_tag[1:], False]]
    pause = rng.random(len(inner_ends))
    suffix[inner_ends[pause < 0.25]] = S_COMMA
    suffix[inner_ends[pause > 0.99]] = S_SEMICOLON
    suffix[ends] = np.array([S_STOP, S_QUESTION, S_BANG, S_ELLIPSIS])[
        rng.choice(4, size=len(ends), p=[0.88, 0.05, 0.05, 0.02])
    ]
    suffix[reaction + 1] = S_STOP  # "She nodded."
    prefix[starts[tagged]] = P_QUOTE
    close = rng.choice(3, size=len(tag_at), p=[0.72, 0.2, 0.08])  # , ? !
    suffix[tag_at - 1] = np.array([S_CLOSE_COMMA, S_CLOSE_QUESTION, S_CLOSE_BANG])[close]
    suffix[tag_at] = S_NONE
    suffix[tag_at + 1] = S_STOP
    ids[tag_at + 1] = np.where(close == 1, vocab.asked, ids[tag_at + 1])
    inverted = (rng.random(len(tag_at)) < 0.2) & _is_name(ids[tag_at], vocab)
    speaker, verb = ids[tag_at], ids[tag_at + 1]
    ids[tag_at] = np.where(inverted, verb, speaker)  # said Aria.
    ids[tag_at + 1] = np.where(inverted, speaker, verb)
    article = np.flatnonzero(ids[:-1] == vocab.a)
    following = ids[article + 1]
    known = following < len(vocab.words)
    article = article[known][vocab.vowel[following[known]]]
    ids[article] = vocab.an
    prefix[starts[lines]] = P_QUOTE
    suffix[ends[lines]] = np.array([S_CLOSE_STOP, S_CLOSE_QUESTION, S_CLOSE_BANG, S_CLOSE_ELLIPSIS])[
        rng.choice(4, size=int(lines.sum()), p=[0.7, 0.15, 0.1, 0.05])
    ]

    # The chapters' HTML: every slot's token (word, punctuation and the space after it,
    # none before a paragraph's end) and the paragraph marks between them, joined.
    style = (rng.random(works) < 0.3).astype(np.int64)  # straight quotes and apostrophes
    table = _token_table(vocab, cast)
    per_style = len(table) // (2 * VARIANTS * 2)  # words, the cast's names included
    chapter_last = chapter_start + chapter_words - 1
    paragraph_end = np.setdiff1d(starts[opens][1:] - 1, chapter_last, assume_unique=True)
    space = np.ones(total, dtype=np.int64)
    space[paragraph_end] = 0
    space[chapter_last] = 0
    token = ((style[slot_work] * per_style + ids) * VARIANTS + prefix * len(SUFFIXES) + suffix) * 2 + space
    at = np.concatenate([chapter_last + 1, paragraph_end + 1, chapter_start])
    kind = np.repeat(np.arange(3), [len(chapter_last), len(paragraph_end), len(chapter_start)])
    order = np.lexsort((kind, at))  # at a chapter's boundary: the last one's </p>, then the next <p>
    marks = np.array(["</p>", "</p>\n<p>", "<p>"], dtype=object)[kind[order]]
    strings = np.insert(table[token], at[order], marks).tolist()
    placed = at[order] + np.arange(len(order))
    opening, closing = placed[kind[order] == 2].tolist(), placed[kind[order] == 0].tolist()
    return ["".join(strings[start : end + 1]) for start, end in zip(opening, closing)]


def _plant(
    rng: np.random.Generator,
    vocab: Vocabulary,
    template: IntArray,
    end_after: npt.NDArray[np.bool_],
    plantings: Sequence[tuple[int, int]],
    chapter_start: IntArray,
    chapter_words: IntArray,
    chapter_work: IntArray,
) -> None:
    """Put each memorable phrase in place of a template of its work, one that opens a
    sentence if it can, and never across two chapters."""
    for work, phrase in sorted(plantings):
        chapters = np.flatnonzero(chapter_work == work)
        low, high = int(chapter_start[chapters[0]]), int(chapter_start[chapters[-1]] + chapter_words[chapters[-1]])
        lengths = vocab.template_length[template]
        starts = np.cumsum(lengths) - lengths
        first, last = np.searchsorted(starts, [low, high])
        size = int(vocab.template_length[vocab.memorable + phrase])
        at = starts[first:last]
        inside = np.searchsorted(chapter_start, at, side="right") == np.searchsorted(
            chapter_start, at + size - 1, side="right"
        )
        inside &= (at + size <= high) & (template[first:last] != vocab.tag) & (template[first:last] < vocab.memorable)
        opening = inside & np.r_[True, end_after[first : last - 1]] if first == 0 else inside & end_after[first - 1 : last - 1]
        for choice in (opening, inside):
            candidates = np.flatnonzero(choice)
            if len(candidates):
                template[first + int(candidates[rng.integers(len(candidates))])] = vocab.memorable + phrase
                break


def _name(
    rng: np.random.Generator, ids: IntArray, codes: IntArray, slot_work: IntArray, cast: Cast, vocab: Vocabulary
) -> None:
    """Subjects, objects and speakers are sometimes the work's characters, the first
    ones most often; FIRST SURNAME slots always are."""
    first_ids, surname_ids, has_surname = _cast_tokens(vocab, cast)
    counts = np.diff(cast.offsets)
    share = np.zeros(len(CLASSES) + 1)
    share[[CLASS["SUBJ"], CLASS["OBJ"], CLASS["SPEAKER"], CLASS["FIRST"]]] = [0.3, 0.12, 0.45, 1.0]
    named = np.flatnonzero(rng.random(len(codes)) < share[np.minimum(codes, len(CLASSES))])
    works = slot_work[named]
    character = cast.offsets[works] + np.minimum(rng.geometric(0.45, len(named)) - 1, counts[works] - 1)
    ids[named] = first_ids[character]
    full = codes[named] == CLASS["FIRST"]
    surname_at, whose = named[full] + 1, character[full]
    keep = (surname_at < len(ids)) & has_surname[whose]
    ids[surname_at[keep]] = surname_ids[whose[keep]]


def _is_name(ids: IntArray, vocab: Vocabulary) -> npt.NDArray[np.bool_]:
    return ids >= len(vocab.words)


def _cast_words(cast: Cast) -> list[str]:
    return list(dict.fromkeys(word for name in cast.names for word in name if word))


def _cast_tokens(vocab: Vocabulary, cast: Cast) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Word ids (numbered after the vocabulary's) of each character's first name and surname."""
    position = {word: len(vocab.words) + n for n, word in enumerate(_cast_words(cast))}
    first = np.array([position[f] for f, _ in cast.names], dtype=np.int64)
    surname = np.array([position[s] if s else 0 for _, s in cast.names], dtype=np.int64)
    return first, surname, np.array([bool(s) for _, s in cast.names], dtype=bool)


def _token_table(vocab: Vocabulary, cast: Cast) -> ObjectArray:
    """The vocabulary's tokens and the cast's names, in both quote styles."""
    names = _cast_words(cast)
    per_style = len(vocab.tokens) // 2
    parts: list[ObjectArray] = []
    for style in (0, 1):
        parts.append(vocab.tokens[style * per_style : (style + 1) * per_style])
        parts.append(np.array([t for name in names for t in variants(name, style)], dtype=object))
    return np.concatenate(parts)
