"""Write the import-parser corpus: run `python tests/importer_corpus/make_corpus.py`.

The files are committed, so tests never depend on this script running; it exists
so that the exact bytes (BOMs, cp1252, CR line ends) can be regenerated and
reviewed as readable Python rather than as opaque binaries. All prose is
original, written for this corpus.
"""

from __future__ import annotations

import codecs
import random
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A short piece full of characters that turn into mojibake when decoded wrongly.
CAFE_STORY = """Zoë had worked at the café on Marrow Street for three winters before anyone ordered the thing on the chalkboard that nobody ordered.

“One naïve pastry, please,” said the man at the counter. He had snow on his shoulders and a library book under one arm.

“It’s just a croissant,” she warned him. “Somebody’s idea of a joke—years ago—and nobody ever wiped it off.”

“Then I’d like the joke.” He smiled. “And a coffee… black.”

She wrapped the croissant in paper and wrote NAÏVE on it in pencil, and he laughed so hard the whole café turned around.
"""

LINE_ENDS_STORY = """The ferry was late again, which meant the whole village stood on the jetty pretending not to be cold.

Old Mrs Pell had brought a flask of soup and was refusing to share it.

"It's for emergencies," she said, when the postman asked.

"This is an emergency," he told her. "I can't feel my feet."

She considered him over the rim of the flask for a long time, then poured exactly one capful and handed it over like a medal.
"""

SINGLE_NEWLINES_STORY = """The night market opened at nine, and by ten Farid had sold every paper lantern but one.
It was the ugly one, lopsided and patched with newspaper where the cat had gone through it.
"How much for that?" asked a girl with paint on her hands.
"It's not for sale," Farid said. "It's a warning to other lanterns."
She laughed and paid him double anyway, and he watched her carry it away through the crowd, glowing crookedly, the best thing he had ever made.
"""

# Written as paragraphs so the conventional breaks are visible here; the file
# flattens it onto one line, the way some copy-paste tools lose line breaks.
FLATTENED_PARAGRAPHS = [
    "The inspector was due on Thursday, so on Tuesday Marisol climbed the one hundred and twelve steps of the Cairnhead light with a clipboard, a pencil stub and her brother, who had come to help and had so far only complained about the wind.",
    '"Why do they need a list of everything?" Teodor asked, leaning on the rail to catch his breath. "Nobody is going to steal a lighthouse."',
    '"They\'re not worried about thieves," Marisol said. "They want to know what to sell once the lamp goes automatic."',
    "He looked at her for a long moment. The gulls wheeled below them, white against the grey water, and somewhere down on the rocks a bell buoy rang twice and fell silent.",
    '"So they\'re selling Dad\'s chair."',
    '"They\'re selling the Board\'s chair. Dad just sat in it for thirty years."',
    "Teodor did not answer that. He went up the last short ladder into the lamp room ahead of her, and she heard him stop at the top, the way people always stopped the first time, because the lens was bigger than anyone expected and it seemed to be looking at you.",
    '"It\'s smaller than I remember," he said.',
    '"You were six."',
    '"I was seven. You were six. You cried because the light was too loud."',
    '"Light can\'t be loud."',
    '"That\'s what Dad said. You didn\'t believe him either."',
    "The lamp room smelled of brass polish and paraffin, though nobody had burned paraffin there since before either of them was born. Marisol wrote down the lens, the clockwork, the two spare bulbs in their padded box and the logbooks, forty-one of them, stacked in order on a shelf their father had built himself from driftwood.",
    "Teodor pulled the newest logbook down and opened it at random. \"Listen to this. 'Fog at dawn. Seal on the north ledge again. Named him Admiral.'\" He turned a page. \"'Admiral absent. Worried.' And then the next day: 'Admiral returned with a friend. Less worried.'\"",
    '"He wrote about the seals every day," Marisol said. "Mum used to say he knew their faces better than ours."',
    '"Did he?"',
    '"Probably."',
    "She meant it as a joke, but it came out flat, and Teodor closed the book very gently, the way you close a door on someone sleeping. For a while neither of them said anything. The wind worked at the windows, testing each pane in turn, and the great lens caught the low sun and scattered it across the floor in pieces of gold.",
    '"Put the logbooks on the list," Teodor said at last.',
    '"They\'re already on it."',
    '"Then cross them off. They aren\'t the Board\'s. They\'re his, which means they\'re ours."',
    'Marisol looked at the clipboard. The pencil had left a groove in the paper where she had pressed too hard writing the number forty-one. "I don\'t think it works like that."',
    '"Then we\'ll make it work like that." He was already lifting the first stack, grunting at the weight. "The inspector can count seals if he wants something to count."',
    "She should have argued. She was the sensible one; everybody said so, and she had the clipboard to prove it. Instead she found herself holding the door open while her brother carried the logbooks down all one hundred and twelve steps, six at a time, and stacked them on the back seat of the car like passengers.",
    "It took eight trips. On the last one he stopped halfway down, and she heard him laugh, a short surprised sound that echoed up the stairwell.",
    '"What is it?" she called.',
    '"Come and see!"',
    "The narrow window on the landing looked out over the north ledge. On the wet black rock below lay a seal, fat and grey and entirely unbothered by the weather, and beside it, a little smaller, lay another.",
    '"Admiral," Teodor said, "and friend."',
    '"That can\'t be the same seal. It\'s been fifteen years."',
    '"Seals live for thirty. I looked it up once." He pressed his forehead against the glass. "Dad would have written this down."',
    "Marisol took the pencil stub out of her pocket. There was still room at the bottom of the inspector's form, below the lens and the clockwork and the two spare bulbs, and she wrote in small careful capitals: ADMIRAL PRESENT. NOT FOR SALE.",
    '"That won\'t mean anything to him," Teodor said, reading over her shoulder.',
    '"It doesn\'t have to," she said. "It means something to us."',
    "He read the line again and nodded, and for the first time that day he did not say anything about the wind.",
    "They drove home with the logbooks riding in the back and the radio off, and that night Marisol sat at the kitchen table and opened the first volume, the one with their father's name written inside the cover in ink that had gone brown with age. The first entry was three words long. She read it twice and then went to find her brother, because it seemed wrong to read the rest alone.",
]

# A shorter flattened story in curly quotes, so both quote styles are covered.
FLATTENED_CURLY_PARAGRAPHS = [
    "The clock in the station hall had stopped at twenty past four, and Odile was the only person in the town who seemed to mind.",
    "“It’s been wrong for a week,” she told the stationmaster. “People are missing trains.”",
    "“People are missing trains because they read the timetable upside down,” said Mr. Abernethy, not looking up from his crossword.",
    "She did not dignify that with an answer. She fetched the ladder from the lamp store, propped it against the wall and climbed until the great white face was close enough to touch.",
    "“You’ll break your neck.”",
    "“Then you’ll have to fill in a form about it.”",
    "Behind the glass the hands were thick with dust, and caught between the four and the five was a sparrow’s feather, grey and perfect, holding back the whole of time like a finger on a page.",
    "“Well?” he called up. “What is it?”",
    "“A bird was here.” She drew the feather out, and the minute hand shuddered and jumped forward, and all along the platform people looked up at once, as if someone had said their name.",
    "“Twenty-one minutes past,” Mr. Abernethy said slowly. “The four-thirty will be on time after all.”",
    "Odile put the feather in her hatband and climbed down, and for the rest of the afternoon the stationmaster kept glancing at the clock, as if it might stop again the moment he stopped watching.",
    "It did not. But she noticed he kept a small tin of birdseed on the windowsill after that, and every morning it was a little emptier than the day before, and neither of them ever mentioned it.",
]

NOTES_LAST_LINE_STORY = """Mirela had grown tomatoes in the greenhouse behind the school for eleven years, and for eleven years the caretaker had told her they would never ripen.

"Too much shade," he said every September, tapping the glass. "You want them somewhere with sky."

This year she had moved every pot by hand, one row closer to the south wall each week, and now the vines were heavy and red and leaning on their canes like tired dancers.

She picked the first one and held it up to the light, and the caretaker, passing with his bucket, stopped and took off his cap.

Mirela locked the greenhouse and walked home under the first stars. Notes: thanks for reading! This was for my sister, who still hates tomatoes.
"""

HEADER_BLOCK_STORY = """Title: The Cartographer's Daughter
Author: quillfeather
Fandom: Original Work
Rating: General Audiences
Warnings: No Archive Warnings Apply
Relationship: Ines Varga/Hollis Brand
Characters: Ines Varga, Hollis Brand, The Harbourmaster
Additional Tags: Maps, Slow Burn, Rain
Summary: Ines maps the coast. Hollis keeps moving it.
Nobody is pleased.
Notes: My first original piece in years. Be gentle!

Ines had drawn the coastline eleven times, and eleven times the sea had made a liar of her.

"It's the sandbars," said Hollis, who ran the dredger and therefore, in a sense, ran the sandbars. "They wander."

"Sandbars don't wander. You move them."

He had the decency to look guilty. Then he unrolled her newest chart across the harbourmaster's desk and, with a stub of red chalk, drew the channel where it would be by Friday.
"""

CHAPTERS_STORY = """Title: Three Bridges

This one got away from me a little. Thank you to R. for reading it first.

Chapter 1: Salt
The first bridge in Harrowmere was made of rope and was older than the town.

Nobody crossed it after dark. The ferryman said it creaked in a language, and that it was rude to interrupt.

Chapter Two - Iron
The second bridge was built by the railway company, which promised it would last a thousand years.

It lasted forty, and then the river changed its mind.

CHAPTER 3. Glass
The third bridge was Noor's idea, and everyone said it was impossible until she built it.

On clear nights you could stand in the middle and see the fish sleeping below your feet.

End Notes:
I have always wanted to write about bridges. Thank you for reading!
"""

PROMPT_ANON_STORY = """Title: Keeper
Notes: Written for the spring exchange.
The prompt (left anonymously): Wren Calloway/Aster Fane "one of them keeps the lighthouse, the other keeps getting shipwrecked on purpose"

The third time Aster's little boat ran aground on the rocks below the light, Wren came down with a lantern and a look.

"The tide tables are pinned to the harbour door," Wren said. "In large print."

"I can read," said Aster, wringing out a sleeve. "I just never seem to want to."
"""

PROMPT_PLAIN_STORY = """The power went out at eight, and by nine there was only one candle left in the flat.

Dana held it between them like a small, serious animal. "We should save it."

"For what?" Priya asked. "A second, worse power cut?"

They did not save it. They sat on the kitchen floor and watched it burn all the way down, and neither of them could remember afterwards what they had talked about, only that it had felt important.

A/N: Written for the prompt "Dana & Priya, a power cut, one candle left" from the winter exchange. Thank you, mystery prompter!
"""

SOURCE_TUMBLR_STORY = """Notes: I wrote this on tumblr ages ago and finally tidied it up.

The bakery on the corner sold bread until noon and advice until closing.

"You should tell him," the baker said, handing over a loaf still warm enough to steam.

"I came in for rye," said Tomas.

"Everybody comes in for rye."
"""

SOURCE_URL_STORY = """Title: Small Hours
Notes: Originally posted here: https://smallhours.dreamwidth.org/1234.html with fewer typos.

At three in the morning the hospital corridor belonged to the cleaners and to Basil, who could not sleep and had stopped pretending he could.

"You again," said the woman with the mop.

"Me again."

She handed him the second mop without a word, and they did the whole east wing together before the sun came up.
"""

SOURCE_BARE_URL_STORY = """The lift in the library only went to the third floor, so the fourth floor belonged to whoever could be bothered with the stairs.

For most of that year, that was June.

Notes: More of my stories live at https://inkwell.example.com/june-stories if you liked this one.
"""

HARD_WRAPPED_PARAGRAPHS = [
    "Every spring the river brought something new to the weir at Lowbridge: a rowing boat, a wardrobe, once a grand piano that played three notes as it went over and then never played again.",
    "Agnes kept a ledger of them all in the back of the post office, in green ink, with a column for the date and a column for the object and a third column, narrower, headed Opinion.",
    "\"A piano,\" said her nephew, reading over her shoulder. \"And you gave it two stars?\"",
    "\"It was flat,\" Agnes said. \"Everything the river brings is a little flat. That is how you know it has travelled.\"",
]

STORY_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The Glassblower&#8217;s Apprentice</title>
<style>p { margin: 0 }</style>
</head>
<body>
<h1>The Glassblower&#8217;s Apprentice</h1>
<div class="summary"><p>Summary:</p><p>Pip breaks things. The glassblower makes them again.</p></div>
<div class="notes"><p>Written for the prompt: Pip &amp; Master Orrin, a mistake that turns out beautiful.</p></div>
<div class="userstuff">
<p>The first thing Pip broke in the workshop was a vase, and the second was a rule.</p>
<p>&#8220;Never touch the pipe while it&#8217;s hot,&#8221; Master Orrin had said, and Pip had listened very carefully, and then touched it anyway.</p>
<p><em>Sometimes</em> a burn teaches what a sentence can&#8217;t.</p>
<script>alert("left for the sanitizer to remove")</script>
<p>By winter Pip could make a bead. By spring, a bowl &amp; a lid that almost fitted.</p>
</div>
</body>
</html>
"""

STORY_CHAPTERS_HTML = """<html>
<body>
<h1>Weathervane</h1>
<p>Summary: A town that argues with the wind, and the girl who takes the wind's side.</p>
<p>Notes: Cross-posted from dreamwidth, see <a href="https://weathervane.dreamwidth.org/42.html">the original post</a>.</p>
<div class="chapter">
<h2>Chapter 1: North</h2>
<p>In Tollen the weathervane on the church always pointed north, because the mayor had it welded there.</p>
<p>&ldquo;Good weather comes from the north,&rdquo; he said, and that was that.</p>
</div>
<div class="chapter">
<h2>Chapter 2: South</h2>
<p>Ada climbed the steeple with a hacksaw on the night of the midsummer fair.</p>
<p>By morning the cockerel was spinning freely, and nobody in Tollen could agree whether it was a crime or a festival.</p>
</div>
<div id="endnotes"><p>End Notes:</p><p>Thank you for reading about Tollen!</p></div>
</body>
</html>
"""


def flattened_text(paragraphs: list[str]) -> str:
    return " ".join(paragraphs) + "\n"


def hard_wrapped_text() -> str:
    return "\n\n".join(textwrap.fill(paragraph, width=72) for paragraph in HARD_WRAPPED_PARAGRAPHS) + "\n"


def binary_bytes() -> bytes:
    # A PNG signature and seeded noise: deterministic, and unmistakably not text.
    noise = random.Random(20240611).randbytes(2048)
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise


def corpus() -> dict[str, bytes]:
    return {
        "utf8.txt": CAFE_STORY.encode("utf-8"),
        "utf8_bom.txt": codecs.BOM_UTF8 + CAFE_STORY.encode("utf-8"),
        "utf16le_bom.txt": codecs.BOM_UTF16_LE + CAFE_STORY.encode("utf-16-le"),
        "utf16be_bom.txt": codecs.BOM_UTF16_BE + CAFE_STORY.encode("utf-16-be"),
        "cp1252.txt": CAFE_STORY.replace("\n", "\r\n").encode("cp1252"),
        "crlf.txt": LINE_ENDS_STORY.replace("\n", "\r\n").encode("utf-8"),
        "cr_only.txt": LINE_ENDS_STORY.replace("\n", "\r").encode("utf-8"),
        "single_newlines.txt": SINGLE_NEWLINES_STORY.encode("utf-8"),
        "flattened.txt": flattened_text(FLATTENED_PARAGRAPHS).encode("utf-8"),
        "flattened_curly.txt": flattened_text(FLATTENED_CURLY_PARAGRAPHS).encode("utf-8"),
        "hard_wrapped.txt": hard_wrapped_text().encode("utf-8"),
        "notes_last_line.txt": NOTES_LAST_LINE_STORY.encode("utf-8"),
        "header_block.txt": HEADER_BLOCK_STORY.encode("utf-8"),
        "chapters.txt": CHAPTERS_STORY.encode("utf-8"),
        "prompt_anon.txt": PROMPT_ANON_STORY.encode("utf-8"),
        "prompt_plain.txt": PROMPT_PLAIN_STORY.encode("utf-8"),
        "source_tumblr.txt": SOURCE_TUMBLR_STORY.encode("utf-8"),
        "source_url.txt": SOURCE_URL_STORY.encode("utf-8"),
        "source_bare_url.txt": SOURCE_BARE_URL_STORY.encode("utf-8"),
        "story.html": STORY_HTML.encode("utf-8"),
        "story_chapters.html": STORY_CHAPTERS_HTML.encode("utf-8"),
        "binary.bin": binary_bytes(),
        "empty.txt": b"",
        "whitespace_only.txt": b"  \n\n\t \r\n",
    }


def main() -> None:
    for name, data in corpus().items():
        (HERE / name).write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
