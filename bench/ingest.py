"""Ingest benchmark: Hearth's pipeline against the naive one, on one deterministic corpus.

    .venv/bin/python bench/ingest.py [--pages 320] [--questions 120] [--rounds 2] [--corpus DIR]

The corpus (PDFs of made-up but factual-looking reference books, plus notes as .txt/.md) is
generated from a fixed seed; every PDF page and every note entry holds one fact found nowhere
else, and each labelled question asks for one of them. In one process, alternating:

  baseline  pypdf page text -> the same chunk_document -> SentenceTransformer.encode (torch) -> Chroma add
  hearth    app.core.ingest.ingest with the default (fast) embedder, in a fresh HEARTH_HOME

then a re-ingest of the unchanged corpus, hit@5 of both embedders on the labelled questions,
and, in a fresh child process, Hearth alone for its peak RSS. Model loading is timed apart from
ingest in both pipelines. Numbers on a shared machine are noisy: the best round counts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # these two as the app sets them (app.core.logs)
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

COLLECTION = "bench"
K = 5

# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------

FIRST = ["Mara", "Tobias", "Elsie", "Joran", "Agnes", "Silas", "Nell", "Hamish", "Ottilie", "Rufus", "Ida", "Caspar",
         "Wren", "Lorcan", "Beatrix", "Edmund", "Freya", "Gideon", "Hester", "Ivo", "Jessamy", "Kit", "Lettice",
         "Magnus", "Nora", "Oswin", "Perpetua", "Quentin", "Rosalind", "Seth", "Thea", "Ulric", "Verity", "Walter",
         "Ysolde", "Ambrose", "Clemency", "Dorian", "Eudora", "Fergus"]
LAST = ["Quill", "Harrow", "Penhale", "Tremayne", "Ashdown", "Corbin", "Fairlie", "Gask", "Lindqvist", "Mortlake",
        "Nettleship", "Orme", "Pellow", "Rudd", "Strang", "Trevenna", "Upcott", "Vosper", "Whitlock", "Yelland",
        "Blackmore", "Carew", "Dunstan", "Elphick", "Fennimore", "Gulliford", "Hocking", "Iredale", "Jenner", "Kinnear"]
PRE = ["Ash", "Bram", "Cal", "Dun", "Ell", "Fen", "Gal", "Har", "Kel", "Lan", "Mar", "Nor", "Oak", "Pen", "Rav", "Sal",
       "Tam", "Ul", "Vel", "Wen", "Yar", "Thorn", "Brad", "Cor", "Hol", "Lyn", "Stan", "Brin", "Quen", "Tor", "Glen", "Mor"]
SUF = ["by", "wick", "mere", "ford", "holm", "stead", "ton", "ham", "law", "ness", "dale", "well", "thorpe", "combe",
       "shaw", "worth", "gate", "more", "den", "ley"]
SYL = ["bel", "kin", "tav", "ro", "mur", "dle", "ost", "ra", "fen", "wick", "lo", "ma", "quil", "ter", "zan", "bri",
       "col", "dus", "ep", "gor", "hal", "ix", "jun", "nel", "pim", "sor", "tul", "vin", "yar", "orn"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

WORDS = {
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "dir": ["north", "south", "east", "west", "north-east", "south-west"],
    "color": ["red", "ochre", "blue", "green", "grey", "white", "violet", "amber", "rust-brown", "pale yellow"],
    "mat": ["granite", "sandstone", "limestone", "brick", "slate", "flint", "whinstone", "cob"],
    "bird": ["kittiwakes", "razorbills", "fulmars", "puffins", "shags", "guillemots", "herring gulls"],
    "rock": ["black", "red", "grey", "broken", "low", "steep"],
    "roof": ["thatch", "stone slates", "red pantiles", "blue slate", "turf"],
    "saint": ["Brannoc", "Petroc", "Winwaloe", "Kea", "Nectan", "Morwenna", "Piran", "Endelienta"],
    "inn": ["Plough", "Drovers", "Black Bull", "Salmon Leap", "Wheatsheaf", "Three Crowns", "Ferry House"],
    "fruit": ["cider apples", "damsons", "perry pears", "quinces", "cherries"],
    "habitat": ["wet flushes", "acid grassland", "limestone pavement", "birch woodland", "stream banks", "blanket bog",
                "scree slopes"],
    "leaf": ["narrow and pointed", "rounded and toothed", "deeply lobed", "fleshy and oval", "hairy and heart-shaped"],
    "poll": ["bumblebees", "hoverflies", "small moths", "mountain bees", "beetles"],
    "decade": ["1950", "1960", "1970", "1980"],
    "lube": ["lithium", "silicone", "graphite", "food-grade", "high-temperature"],
    "model": ["Orrin-5", "Orrin-7", "Orrin-9", "Orrin-12"],
    "spice": ["mace", "caraway", "allspice", "dill seed", "mustard", "cinnamon"],
    "side": ["buttered greens", "boiled potatoes", "pickled red cabbage", "brown bread", "a sharp apple sauce"],
    "herb": ["parsley", "lovage", "thyme", "chives", "sorrel", "marjoram"],
    "habit": ["prismatic", "tabular", "needle-like", "cubic", "fibrous", "bladed"],
    "lustre": ["glassy", "pearly", "silky", "greasy", "metallic", "dull"],
    "flower": ["primroses", "bluebells", "marsh marigolds", "cowslips", "heather", "meadowsweet"],
    "ord": ["first", "second", "third", "fourth", "last"],
    "adj": ["Grey", "Marsh", "Crested", "Lesser", "Hoary", "Creeping", "Mountain", "Bog", "Silver", "Scarlet", "Dwarf",
            "Woolly", "Golden", "Spotted", "Fen", "Alpine"],
}

GENERIC = [
    "Further details are held in the archive at {place}, catalogue reference {ref}.",
    "The account given here follows the survey made by {person} in {year}, corrected where later records differ.",
    "Measurements are given in the units used at the time of the original survey.",
    "Readers who visit should ask permission before crossing private land near {place}.",
    "Photographs taken in {year} show little change from the present day.",
    "Local opinion on this point is divided, and the surviving records are incomplete.",
    "A short note on the subject appeared in the {place} Gazette in {month} {year}.",
    "Older residents of {place} still remember the hard winter of {year} and speak of it often.",
    "The figures quoted were checked against the county returns for {year}.",
    "Several letters describing it are kept among the family papers of {person}.",
]


@dataclass
class Domain:
    file: str
    title: str
    subject: str  # template of a page's subject name
    intro: str
    filler: list[str]
    facts: list[tuple[str, str, str]]  # fact sentence, question by subject, question by the fact's unique value


DOMAINS = [
    Domain("coastal-lights-gazetteer.pdf", "Gazetteer of the Merrow Coast Lights", "{uplace} Light",
           "{S} stands on a {rock} headland {n} miles {dir} of {place}, above a reef the fishermen fear.",
           ["The present tower replaced a timber beacon that was lost in the great gale of {year}.",
            "Supplies were landed at the north steps every {weekday}, weather permitting, from the tender based at {place}.",
            "The keepers' cottages were rebuilt in {year} with {mat} brought by cart from the quarries near {place}.",
            "Colonies of {bird} nest on the ledges below the gallery from {month} until late summer.",
            "Visitors often compare the view with that from {O}, which lies further along the coast.",
            "Logbooks kept by {person} describe winters in which the relief boat could not land for {n} weeks.",
            "A narrow road climbs from the harbour at {place}, and the last stretch to {S} must be walked.",
            "The optic was made in the workshop of {person} and contains {n2} panels of polished glass.",
            "During the war years the light was dimmed and the tower painted {color} to hide it from aircraft.",
            "Fresh water came from a cistern cut into the rock, which held enough for {n2} days.",
            "The engine room houses {n} compressors that once drove the fog signal.",
            "The keeper's garden, sheltered by a {mat} wall, grew potatoes, kale and onions.",
            "Paint for the lantern was ordered each {month}, and the gallery rails were scraped by hand.",
            "Since automation in {year} the station has been monitored from the control room at {O}.",
            "Walkers on the coast path from {place} reach {S} in about {n} hours."],
           [("The lamp of {S} was first lit on {date} by the keeper {uperson}.",
             "Who first lit the lamp of {S}, and on what date?", "Which lighthouse was first lit by the keeper {uperson}?"),
            ("In {year} the keepers of {S} rescued {n2} sailors from the wrecked schooner {uword}.",
             "How many sailors did the keepers of {S} rescue, and from which ship?",
             "Which lighthouse's keepers rescued the crew of the schooner {uword}?"),
            ("The tower of {S} has exactly {unum} steps up to the lantern room.",
             "How many steps lead up to the lantern room at {S}?", "Which lighthouse has {unum} steps up to its lantern?"),
            ("A brass bell at {S}, cast in {year} and known as {uword}, hangs beside the door of the tower.",
             "What is the name of the brass bell at {S}?", "Where does the bell called {uword} hang?")]),
    Domain("ellan-valley-parish-survey.pdf", "Parish Survey of the Ellan Valley", "{uplace}",
           "{S} lies on the {dir} bank of the Ellan, {n} miles above the ford at {place}.",
           ["The parish church, dedicated to Saint {saint}, has a {mat} tower added in {year}.",
            "At the last survey the village had {n3} households and {n} working farms.",
            "A market is held on the green every {weekday}, chiefly for cheese, wool and eggs.",
            "The mill race was dug in {year} and still feeds the old fulling mill below the bridge.",
            "Most cottages in {S} are built of {mat}, with roofs of {roof}.",
            "Children walk to the school at {O}, which also serves the outlying farms.",
            "The village inn, the {inn}, has kept the same painted sign since {year}.",
            "Flooding in {month} {year} reached the steps of the chapel and ruined the hay harvest.",
            "The carrier's cart runs to {place} on {weekday}s and returns before dusk.",
            "Parish records kept by {person} list the common rights of every holding.",
            "The bridge to {O} was widened for wagons in {year}.",
            "Orchards on the south slope grow {fruit} for the press at {place}.",
            "A footpath over the ridge links {S} with {O} in about {n} hours.",
            "The village hall was built by subscription and opened by {person}.",
            "Sheep from the high pastures are brought down for shearing each {month}."],
           [("The well on the green at {S} is {n2} feet deep and was lined with brick by {uperson} in {year}.",
             "Who lined the well on the green at {S} with brick?", "Which village's well was lined with brick by {uperson}?"),
            ("{S} holds its annual {uword} Fair on the {ord} Saturday of {month}.",
             "What is the annual fair held in {S} called?", "Which village holds the {uword} Fair?"),
            ("The oldest house in {S}, known as {uword} House, was built in {year}.",
             "What is the oldest house in {S} called?", "In which village is {uword} House?"),
            ("The census of {year} recorded a population of {unum} in {S}.",
             "What population did the census record for {S}?", "Which village had a recorded population of {unum}?")]),
    Domain("highland-flora-field-guide.pdf", "Field Guide to Highland Flora", "{uplant}",
           "{S} grows in {habitat} between {n3} and {n4} metres above sea level.",
           ["The leaves are {leaf}, {n} to {n2} centimetres long, with a {color} underside.",
            "Flowers appear from {month} until late summer and are visited chiefly by {poll}.",
            "It is easily confused with {O}, which has smooth rather than hairy stems.",
            "Seed is shed in autumn and may lie dormant in the peat for several years.",
            "Sheep avoid the plant, so it often survives on heavily grazed slopes.",
            "The first herbarium specimen was collected near {place} by {person} in {year}.",
            "In the valley of {place} it was once gathered for dyeing wool a pale {color}.",
            "Populations have declined where drainage ditches were cut in the {decade}s.",
            "The roots form a dense mat that binds loose scree and resists frost heave.",
            "Each plant lives for {n} to {n2} years and flowers only once it is well established.",
            "A hand lens shows tiny glands along the margins of the sepals.",
            "Botanists recording {S} should note the aspect of the slope and the depth of the soil.",
            "It has been found growing alongside {O} on the wet ground below {place}."],
           [("The petals of {S} carry exactly {unum} fine {color} stripes, which sets it apart from related species.",
             "How many stripes are on the petals of {S}?", "Which plant has exactly {unum} stripes on its petals?"),
            ("Highland healers brewed {S} into a tea they called {uword}, taken to ease coughs.",
             "What did highland healers call the tea brewed from {S}?", "Which plant was brewed into the tea called {uword}?"),
            ("The largest known colony of {S}, about {n4} plants, grows on the slopes of {uplace2}.",
             "Where does the largest colony of {S} grow?", "Which plant has its largest colony on the slopes of {uplace2}?"),
            ("{S} was first described in {year} by the botanist {uperson}.",
             "Which botanist first described {S}?", "Which plant did the botanist {uperson} first describe?")]),
    Domain("orrin-loom-service-manual.pdf", "Orrin Series Loom Service Manual", "{upart}",
           "This section covers the {S}, an assembly that wears faster than most.",
           ["Before servicing the {S}, isolate the loom at the main switch and fit a padlock to the isolator.",
            "The part should be inspected every {n3} operating hours or whenever the fault lamp shows amber.",
            "Use only {lube} grease on this assembly; mineral oils attack the seals.",
            "Tighten the retaining bolts to {n2} newton-metres in a cross pattern.",
            "If the loom stops with fault code E{n2}, check the wiring harness at connector J{n}.",
            "Worn parts should be returned to the depot at {place} for reconditioning.",
            "Record the serial number and the operating hours in the maintenance log after every repair.",
            "A faulty {O} can produce similar symptoms and should be ruled out first.",
            "The factory clearance is {n} millimetres, measured with the feeler gauge from the tool kit.",
            "Excessive noise at high speed usually indicates a dry bearing or a loose guard.",
            "After reassembly, run the loom at low speed for {n2} minutes and listen for knocking.",
            "Operators must never adjust the {S} while the loom is running.",
            "The {model} uses a heavier version of this part than earlier models.",
            "Spare parts lists for the {model} were revised in {year}."],
           [("The order number for a replacement {S} is {ucode}.",
             "What is the order number for a replacement {S}?", "Which part has the order number {ucode}?"),
            ("Fault code E{unum} means that the {S} has overheated.",
             "Which fault code means that the {S} has overheated?", "What does fault code E{unum} mean?"),
            ("The {S} must be replaced after {unum}0 operating hours, whatever its condition.",
             "After how many operating hours must the {S} be replaced?", "Which part must be replaced after {unum}0 operating hours?"),
            ("Adjusting the {S} requires the special tool known as the {uword} key.",
             "Which special tool is needed to adjust the {S}?", "What is the {uword} key used for?")]),
    Domain("marrow-line-fleet-register.pdf", "Register of the Marrow Line Fleet", "SS {uplace}",
           "{S} was built at the yard of {person} and Sons in {place} and launched in {year}.",
           ["She measured {n3} feet overall and was driven by a triple-expansion engine.",
            "Her regular route ran from {place} to {O}'s home port, calling at {place} on the outward leg.",
            "Passenger accommodation was provided for {n3} in two classes.",
            "In {year} {S} was refitted with oil-fired boilers.",
            "Her master for many years was Captain {person}, remembered for keeping time in any weather.",
            "She often sailed in company with {O} during the winter season.",
            "The cargo holds carried wool, timber and salted fish.",
            "A collision with the pier at {place} in {year} kept her out of service for {n} weeks.",
            "Her funnel was painted in the line's colours, {color} with a black top.",
            "She was requisitioned as a hospital ship for {n} years.",
            "Crew lists show a complement of {n2} officers and men.",
            "She was sold for scrap in {year} after a long and mostly uneventful career."],
           [("{S} set the line's record for the crossing to {place}, {n} hours and {n2} minutes, in {year}.",
             "What record crossing time did {S} set?", None),
            ("The figurehead of {S}, a carved {uword}, is now displayed in the museum at {place}.",
             "What does the figurehead of {S} depict?", "Which ship had a carved {uword} as its figurehead?"),
            ("{S} was named after {uperson}, the daughter of the line's founder.",
             "After whom was {S} named?", "Which ship was named after {uperson}?"),
            ("The ship's cat of {S}, called {uword}, made more than {n3} voyages.",
             "What was the name of the ship's cat on {S}?", "On which ship did the cat called {uword} sail?")]),
    Domain("salt-coast-kitchen-book.pdf", "The Salt Coast Kitchen Book", "{udish}",
           "{S} comes from the harbour kitchens of {place}, where it was served to returning crews.",
           ["Use {n2}0 grams of butter, softened, and {n} eggs at room temperature.",
            "Bake in a moderate oven for {n2} minutes until the top is golden.",
            "Season with salt, black pepper and a little grated nutmeg.",
            "Families in {place} add a spoonful of {spice} to the mixture.",
            "It keeps for {n} days in a cool larder, wrapped in a damp cloth.",
            "Serve it with {side} and a glass of cider.",
            "The recipe was written down by {person} in {year} and has changed little since.",
            "Some cooks prefer {O}, which uses more cream and less salt.",
            "Simmer gently; boiling will toughen the meat and cloud the stock.",
            "The dough should rest for {n} hours before it is rolled out.",
            "It is traditionally eaten on the {ord} Sunday of {month}.",
            "Fresh {herb} from the garden gives the best flavour."],
           [("The secret of a good {S} is a spoonful of {uword} vinegar stirred in just before serving.",
             "What is stirred into {S} just before serving?", "Which dish is finished with {uword} vinegar?"),
            ("{S} must be cooked in a {uword} pot, a tall earthenware jar with a narrow neck.",
             "What kind of pot is {S} cooked in?", "Which dish is cooked in a {uword} pot?"),
            ("A prize for the best {S} has been awarded every {month} since {year}; the first winner was {uperson}.",
             "Who won the first prize for the best {S}?", "For which dish did {uperson} win the first prize?"),
            ("One {S} made in the traditional tin serves exactly {unum} people.",
             "How many people does one {S} serve?", None)]),
    Domain("greywater-mineral-catalogue.pdf", "Catalogue of the Greywater Mine Minerals", "{umineral}",
           "{S} forms {habit} crystals up to {n} centimetres long in quartz veins.",
           ["Its colour ranges from pale {color} to a deep shade, darkening on exposure to light.",
            "The hardness is about {n} on the Mohs scale and the lustre is {lustre}.",
            "Specimens were first raised from the {ord} level of the Greywater workings in {year}.",
            "It is commonly associated with {O} and quartz.",
            "Miners at {place} called it fool's {color} and threw it on the spoil heaps.",
            "A fine specimen of {S} is held in the collection of {person} at {place}.",
            "It dissolves slowly in warm hydrochloric acid, giving off a faint smell of sulphur.",
            "Under ultraviolet light some specimens glow a weak {color}.",
            "The mineral is too rare to have been worked as an ore.",
            "Collectors should wrap specimens in acid-free paper, since the crystals are brittle.",
            "The density is close to {n}.{n} grams per cubic centimetre."],
           [("{S} was named after the mine surveyor {uperson}, who found the first specimen.",
             "Who was {S} named after?", "Which mineral is named after the surveyor {uperson}?"),
            ("The largest crystal of {S} ever found weighed {n4} grams and is kept at {uplace2}.",
             "Where is the largest crystal of {S} kept?", "Which mineral's largest crystal is kept at {uplace2}?"),
            ("{S} occurs only in gallery number {unum} of the Greywater mine.",
             "In which gallery of the mine does {S} occur?", "Which mineral occurs only in gallery {unum}?"),
            ("Assays show that {S} is about {n2} per cent {uword}, an element otherwise unknown in the district.",
             "What element makes up part of {S}?", None)]),
    Domain("upland-festivals-almanac.pdf", "Almanac of Upland Festivals", "the {ufest}",
           "{S} takes place each {month} and draws visitors from across the uplands.",
           ["The day begins with a procession from the church to the green, led by a fiddler.",
            "Children carry garlands of {flower} and coloured ribbons.",
            "Records of the custom go back to {year}, when it was described by {person}.",
            "The festival lapsed during the war and was revived in {year}.",
            "Stalls sell gingerbread, cider and roasted chestnuts.",
            "A committee of {n2} villagers organises the event and raises money for the parish.",
            "In some years heavy rain has moved the celebrations into the tithe barn at {place}.",
            "Dancers who take part in {O} often join the evening ceremony.",
            "The costumes are stitched over the winter and stored in the church vestry.",
            "The evening ends with a bonfire and songs around the market cross.",
            "Local tradition holds that keeping the custom brings a good harvest."],
           [("At {S} the oldest resident lights the first fire with a flint called the {uword} stone.",
             "What is the flint used to light the first fire at {S} called?", "At which festival is the {uword} stone used?"),
            ("The winner of the race at {S} receives a {uword} crook with a silver handle.",
             "What does the winner of the race at {S} receive?", None),
            ("The song sung at the close of {S}, {uword} Hill, was written by {uperson}.",
             "Which song is sung at the close of {S}, and who wrote it?", "Who wrote the song {uword} Hill?"),
            ("A record crowd of {unum} people attended {S} in {year}.",
             "What is the record attendance at {S}?", None)]),
]

NOTES = [
    ("council-minutes.md", "# Minutes of the Valley Council",
     ["## Meeting of {date}", "", "Present: {person}, {person2} and {person3} (chair).", "",
      "- The clerk read the minutes of the previous meeting, which were approved.",
      "- Correspondence from {place} about the state of the lanes was noted.",
      "- {fact}", "- The next meeting will be held at the school in {place2}.", ""],
     [("The council agreed to spend {unum} crowns on repairing the footbridge at {uplace2}.",
       "How much did the council agree to spend on the footbridge at {uplace2}?"),
      ("{uperson} was appointed keeper of the common pound at {place}, at a wage of {n2} crowns a year.",
       "Who was appointed keeper of the common pound?"),
      ("A petition signed by {unum} residents asked for a lamp at the crossroads in {uplace2}.",
       "How many residents signed the petition for a lamp at the crossroads in {uplace2}?")]),
    ("field-journal.txt", "FIELD JOURNAL",
     ["{date}", "Walked from {place} to {place2} along the old drove road; wind from the {dir}.",
      "Counted {n2} {bird} on the cliffs and a single raven over the moor.",
      "{fact}", "Back by dusk, wet through.", ""],
     [("Found a nest in the old quarry at {uplace2} with exactly {unum} eggs in it.",
       "How many eggs were in the nest in the quarry at {uplace2}?"),
      ("Met {uperson}, the shepherd at {place}, who says the {uword} spring has never run dry.",
       "Which spring has never run dry, according to the shepherd?"),
      ("A dead adder {unum} millimetres long lay across the path near {uplace2}.",
       "How long was the dead adder found on the path near {uplace2}?")]),
    ("workshop-log.md", "# Weaving shed workshop log",
     ["### {date}", "", "Engineer on duty: {person}.", "- Routine greasing of the {model} looms in bay {n}.",
      "- {fact}", "- Loom {n} back in production by the afternoon.", ""],
     [("Loom number {unum} was stopped because its {upartname} had cracked and was sent to {uplace2} for welding.",
       "Why was loom number {unum} stopped?"),
      ("New apprentice {uperson} started today and was shown how to thread the {model}.",
       "When did the apprentice {uperson} start, and what were they shown?"),
      ("Ordered {unum} metres of {uword} yarn from the mill at {place} for the trial run.",
       "How much {uword} yarn was ordered for the trial run?")]),
]

PARTS = ["warp tension regulator", "shuttle return spring", "heddle frame", "cam follower", "reed carrier",
         "take-up roller", "let-off brake", "picking stick", "lubrication pump", "drive belt", "weft sensor",
         "shed controller", "clutch assembly", "beam bearing", "cloth guide", "oil filter", "motor mount",
         "control panel", "emergency stop relay", "cooling fan", "temple bar", "warp stop motion"]
STEMS = ["tellwort", "harebane", "mossbell", "fernsedge", "saxwort", "cloudberry", "heathstar", "brooklime",
         "ravenclover", "dewcup", "stonecrop", "windflower", "bitterling", "hollyfoot", "gallwort", "sundew"]
EPITHETS = ["cinerea", "palustris", "cristata", "minor", "incana", "repens", "montana", "uliginosa", "argentea",
            "coccinea", "nana", "lanata", "aurea", "maculata", "paludosa", "alpina"]
DISHES = ["fish pie", "oat cakes", "mutton stew", "barley broth", "apple cake", "smoked haddock", "seed bread",
          "crab soup", "honey tart", "pickled herring", "potato scones", "ginger loaf", "mussel stew", "plum pudding",
          "bramble jelly", "eel pie", "saffron buns"]
FESTS = ["Lantern Walk", "Hay Supper", "Well Dressing", "Boat Race", "Wool Fair", "Apple Wake", "Rush Bearing",
         "Horn Dance", "Candle Feast", "Sheepdog Trials", "Plough Sunday", "Kite Day", "Pie Feast", "Fell Race"]


class Names:
    """Random fillers, plus names that are handed out once only (each fact's unique value)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def unique(self, make) -> str:
        for _ in range(10000):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("ran out of unique names")

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def place(self) -> str:
        return self.rng.choice(PRE) + self.rng.choice(SUF)

    def word(self) -> str:
        return "".join(self.rng.choice(SYL) for _ in range(self.rng.choice((2, 3)))).capitalize()

    def date(self) -> str:
        return f"{self.rng.randint(1, 28)} {self.rng.choice(MONTHS)} {self.rng.randint(1820, 1960)}"

    def slots(self, subject: str, others: list[str]) -> dict[str, str]:
        r = self.rng
        slots = {k: r.choice(v) for k, v in WORDS.items()}
        slots.update(S=subject, O=r.choice(others) if others else subject, person=self.person(), place=self.place(),
                     person2=self.person(), person3=self.person(), place2=self.place(),
                     year=str(r.randint(1780, 1975)), month=r.choice(MONTHS), date=self.date(), n=str(r.randint(2, 9)),
                     n2=str(r.randint(11, 60)), n3=str(r.randint(120, 480)), n4=str(r.randint(600, 2400)),
                     ref=f"{r.choice('ABCDEFGH')}/{r.randint(100, 999)}")
        return slots


def _fill(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    return text[0].upper() + text[1:]


def _uniques(names: Names) -> dict[str, str]:
    r = names.rng
    return {"uperson": names.unique(names.person), "uword": names.unique(names.word),
            "uplace2": names.unique(names.place), "unum": names.unique(lambda: str(r.randint(100, 9999))),
            "ucode": names.unique(lambda: f"OR-{r.randint(1000, 9999)}-{r.choice('ABCDEFGHJKLMNP')}"),
            "upartname": r.choice(PARTS)}


def _subjects(names: Names, domain: Domain, count: int) -> list[str]:
    r = names.rng
    makers = {
        "uplace": names.place,
        "uplant": lambda: f"{r.choice(WORDS['adj'])} {(s := r.choice(STEMS))} ({s[:5].capitalize()}ia {r.choice(EPITHETS)})",
        "upart": lambda: f"{r.choice(PARTS)} of the {r.choice(WORDS['model'])}",
        "udish": lambda: f"{names.place()} {r.choice(DISHES)}",
        "umineral": lambda: f"{names.place()}ite",
        "ufest": lambda: f"{names.place()} {r.choice(FESTS)}",
    }
    key = domain.subject[domain.subject.index("{") + 1 : domain.subject.index("}")]
    return [domain.subject.replace("{" + key + "}", names.unique(makers[key])) for _ in range(count)]


def make_page(names: Names, domain: Domain, subject: str, others: list[str], number: int) -> tuple[str, str, str | None]:
    """A page of about 350 words about `subject`, with one unique fact; returns (text, question, reverse question)."""
    r = names.rng
    fact, question, reverse = r.choice(domain.facts)
    values = {**names.slots(subject, others), **_uniques(names)}
    sentences = [_fill(domain.intro, names.slots(subject, others))]
    pool = domain.filler + GENERIC
    order = r.sample(pool, len(pool))
    target = r.randint(320, 400)
    while sum(len(s.split()) for s in sentences) < target:
        order = order or r.sample(pool, len(pool))
        sentences.append(_fill(order.pop(), names.slots(subject, others)))
    sentences.insert(r.randint(1, min(12, len(sentences))), _fill(fact, values))
    paragraphs, start = [], 0
    while start < len(sentences):
        size = r.randint(4, 7)
        paragraphs.append(" ".join(sentences[start : start + size]))
        start += size
    heading = f"{domain.title}\n\n{number}. {subject[0].upper() + subject[1:]}\n"
    footer = f"\n{domain.title} - page {number}"
    return heading + "\n\n".join(paragraphs) + footer, _fill(question, values), reverse and _fill(reverse, values)


def make_corpus(root: Path, pages: int, n_questions: int, seed: int = 7) -> list[dict]:
    """Write the corpus under root/docs; return the labelled questions."""
    from pdfgen import write_pdf

    rng = random.Random(seed)
    names = Names(rng)
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    per_doc = [pages // len(DOMAINS) + (i < pages % len(DOMAINS)) for i in range(len(DOMAINS))]
    candidates: list[dict] = []
    for domain, count in zip(DOMAINS, per_doc):
        subjects = _subjects(names, domain, count)
        texts = []
        for number, subject in enumerate(subjects, start=1):
            others = [s for s in subjects if s != subject]
            text, question, reverse = make_page(names, domain, subject, others, number)
            texts.append(text)
            asked = reverse if reverse and rng.random() < 0.3 else question
            candidates.append({"question": asked, "file": domain.file, "page": number, "line": None})
        write_pdf(docs / domain.file, texts)
    note_questions: list[dict] = []
    for file, header, entry, facts in NOTES:
        lines = [header, ""]
        for _ in range(40):
            slots = names.slots("", [])
            fact, question = rng.choice(facts)
            values = {**slots, **_uniques(names)}
            for template in entry:
                if "{fact}" in template:
                    note_questions.append({"question": _fill(question, values), "file": file, "page": None,
                                           "line": len(lines) + 1})
                lines.append(template.format(**slots, fact=_fill(fact, values)))
        (docs / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_notes = max(1, n_questions // 6)
    step = max(1, len(candidates) // (n_questions - n_notes))
    questions = candidates[::step][: n_questions - n_notes]
    questions += rng.sample(note_questions, n_notes)
    (root / "questions.json").write_text(json.dumps(questions, indent=1), encoding="utf-8")
    return questions


# --------------------------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set. VmHWM, unlike ru_maxrss, does not inherit the parent's peak."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def corpus_files(docs: Path) -> list[Path]:
    from app.core.ingest import expand

    return expand([docs])


def baseline_ingest(model, docs: Path, store: Path) -> dict:
    """The naive pipeline: same libraries and chunks, nothing clever."""
    import hashlib

    import chromadb
    from pypdf import PdfReader

    from app.core.chunking import chunk_document
    from app.core.documents import Document, Section, parse
    from app.core.store.vectors import CHROMA_SETTINGS

    started = time.perf_counter()
    client = chromadb.PersistentClient(path=str(store), settings=CHROMA_SETTINGS)
    col = client.get_or_create_collection("baseline", embedding_function=None, metadata={"hnsw:space": "cosine"})
    pages = chunks_total = 0
    for path in corpus_files(docs):
        if path.suffix == ".pdf":
            reader = PdfReader(path)
            doc = Document(path=path, kind="pdf", pages=len(reader.pages))
            doc.sections = [Section(p.extract_text(), page=n) for n, p in enumerate(reader.pages, start=1)]
        else:
            doc = parse(path)
        chunks = chunk_document(doc, model.tokenizer, 200, 40)
        vectors = model.encode([c.text for c in chunks], batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        doc_id = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        col.add(ids=[f"{doc_id}:{c.index}" for c in chunks], embeddings=vectors.tolist(), documents=[c.text for c in chunks],
                metadatas=[{k: v for k, v in {"file": path.name, "page": c.page, "line_start": c.line_start,
                                              "line_end": c.line_end}.items() if v is not None} for c in chunks])
        pages += doc.pages
        chunks_total += len(chunks)
    return {"seconds": time.perf_counter() - started, "pages": pages, "chunks": chunks_total, "collection": col}


def hearth_ingest(embedder, docs: Path, home: Path) -> dict:
    from app.core.ingest import ingest

    os.environ["HEARTH_HOME"] = str(home)
    with _services(embedder) as services:
        started = time.perf_counter()
        report = ingest(services, [docs], COLLECTION)
        seconds = time.perf_counter() - started
    bad = [f"{f.path}: {f.status} {f.error}" for f in report.files if f.status != "indexed"]
    if bad:
        raise SystemExit("hearth ingest failed:\n" + "\n".join(bad))
    return {"seconds": seconds, "pages": sum(f.pages for f in report.files), "chunks": sum(f.chunks for f in report.files)}


@contextlib.contextmanager
def _services(embedder=None):
    from app.core.services import Services

    services = Services(shared={"embedder": embedder} if embedder else None)
    try:
        yield services
    finally:
        services.close()


def reingest(docs: Path, home: Path) -> dict:
    """The unchanged corpus again, in a fresh Services, as after a restart."""
    from app.core.ingest import ingest

    os.environ["HEARTH_HOME"] = str(home)
    with _services() as services:
        started = time.perf_counter()
        report = ingest(services, [docs], COLLECTION)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "unchanged": report.count("unchanged"), "files": len(report.files),
                "embedder_loaded": services.loaded("embedder")}


def _is_hit(question: dict, file: str, page: int | None, line_start: int | None, line_end: int | None) -> bool:
    if file != question["file"]:
        return False
    if question["page"] is not None:
        return page == question["page"]
    return line_start is not None and line_start <= question["line"] <= (line_end or line_start)


def rank_of_answer(question: dict, hits: list[tuple]) -> int | None:
    return next((i for i, hit in enumerate(hits, start=1) if _is_hit(question, *hit)), None)


def quality(ranks: list[int | None]) -> dict:
    return {"hit@1": sum(r == 1 for r in ranks) / len(ranks), "hit@5": sum(r is not None for r in ranks) / len(ranks),
            "mrr@5": sum(1 / r for r in ranks if r) / len(ranks)}


def torch_ranks(model, collection, questions: list[dict]) -> list[int | None]:
    vectors = model.encode([q["question"] for q in questions], normalize_embeddings=True, show_progress_bar=False)
    res = collection.query(query_embeddings=vectors.tolist(), n_results=K, include=["metadatas"])
    return [rank_of_answer(q, [(m["file"], m.get("page"), m.get("line_start"), m.get("line_end")) for m in metas])
            for q, metas in zip(questions, res["metadatas"])]


def hearth_ranks(embedder, home: Path, questions: list[dict]) -> list[int | None]:
    from app.core.retrieval import retrieve

    os.environ["HEARTH_HOME"] = str(home)
    ranks = []
    with _services(embedder) as services:
        for q in questions:
            hits = retrieve(services, q["question"], COLLECTION, K)
            ranks.append(rank_of_answer(q, [(h.file, h.page, h.line_start, h.line_end) for h in hits]))
    return ranks


def child_hearth(docs: Path, home: Path) -> None:
    """Hearth alone in a fresh process (ONNX export already cached in home): load, ingest, peak RSS."""
    os.environ["HEARTH_HOME"] = str(home)
    started = time.perf_counter()
    from app.core.embedding import Embedder

    embedder = Embedder()
    load = time.perf_counter() - started
    run = hearth_ingest(embedder, docs, home)
    print(json.dumps({**run, "load_seconds": load, "backend": embedder.backend, "peak_rss_mb": peak_rss_mb()}))


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=320, help="PDF pages in the corpus (at least 300 for the report)")
    ap.add_argument("--questions", type=int, default=120, help="labelled questions (at least 50; at 60 one question is 1.7 points)")
    ap.add_argument("--rounds", type=int, default=2, help="baseline/Hearth pairs, alternating order")
    ap.add_argument("--corpus", type=Path, help="keep the corpus in this folder (reused when it exists)")
    ap.add_argument("--child", nargs=2, type=Path, metavar=("DOCS", "HOME"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child_hearth(*args.child)

    work = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    corpus = args.corpus or work / "corpus"
    if (corpus / "questions.json").exists():
        questions = json.loads((corpus / "questions.json").read_text(encoding="utf-8"))
    else:
        questions = make_corpus(corpus, args.pages, args.questions)
    docs = corpus / "docs"
    files = corpus_files(docs)
    print(f"corpus: {len(files)} files ({sum(f.suffix == '.pdf' for f in files)} PDF), "
          f"{sum(f.stat().st_size for f in files) / 1e6:.1f} MB, {len(questions)} labelled questions; cores: {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")

    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    from app.core.embedding import Embedder
    from app.core.models import embedding_model_path

    hf_logging.disable_progress_bar()

    t = time.perf_counter()
    model = SentenceTransformer(str(embedding_model_path()), device="cpu", local_files_only=True)
    torch_load = time.perf_counter() - t
    os.environ["HEARTH_HOME"] = str(work / "home-0")
    t = time.perf_counter()
    embedder = Embedder()  # first use in a fresh home: exports and quantizes the model
    first_load = time.perf_counter() - t
    t = time.perf_counter()
    Embedder()
    cached_load = time.perf_counter() - t
    print(f"models: torch load {torch_load:.1f} s (threads {torch.get_num_threads()}); Hearth embedder backend "
          f"{embedder.backend}: first use {first_load:.1f} s (one-time export), cached load {cached_load:.2f} s")

    base_runs, hearth_runs = [], []
    for n in range(args.rounds):
        order = ("baseline", "hearth") if n % 2 == 0 else ("hearth", "baseline")
        for which in order:
            if which == "baseline":
                r = baseline_ingest(model, docs, work / f"chroma-{n}")
                base_runs.append(r)
            else:
                r = hearth_ingest(embedder, docs, work / f"home-{n + 1}")
                hearth_runs.append(r)
            print(f"  round {n + 1} {which:8s}: {r['seconds']:6.1f} s  {r['pages'] / r['seconds']:5.1f} pages/s  "
                  f"{r['chunks'] / r['seconds']:5.1f} chunks/s  ({r['pages']} pages, {r['chunks']} chunks)", flush=True)
    base = min(base_runs, key=lambda r: r["seconds"])
    hearth = min(hearth_runs, key=lambda r: r["seconds"])
    if base["chunks"] != hearth["chunks"]:
        print(f"  note: chunk counts differ (baseline {base['chunks']}, Hearth {hearth['chunks']})")

    # Quality is read from the last Hearth round's store, which is then re-ingested.
    torch_q = quality(torch_ranks(model, base["collection"], questions))
    fast_q = quality(hearth_ranks(embedder, work / f"home-{len(hearth_runs)}", questions))
    again = reingest(docs, work / f"home-{len(hearth_runs)}")

    exact = exact_search(embedder, model, base["collection"], questions)

    child_home = work / "home-child"
    shutil.copytree(work / "home-0" / "cache", child_home / "cache")
    out = subprocess.run([sys.executable, __file__, "--child", str(docs), str(child_home)], capture_output=True, text=True,
                         check=True)
    child = json.loads(out.stdout.strip().splitlines()[-1])

    ratio = (hearth["chunks"] / hearth["seconds"]) / (base["chunks"] / base["seconds"])
    ratios = [(h["chunks"] / h["seconds"]) / (b["chunks"] / b["seconds"]) for b, h in zip(base_runs, hearth_runs)]
    print()
    print(f"baseline (best of {len(base_runs)}): {base['seconds']:.1f} s, {base['pages'] / base['seconds']:.1f} pages/s, "
          f"{base['chunks'] / base['seconds']:.1f} chunks/s")
    print(f"hearth   (best of {len(hearth_runs)}): {hearth['seconds']:.1f} s, {hearth['pages'] / hearth['seconds']:.1f} pages/s, "
          f"{hearth['chunks'] / hearth['seconds']:.1f} chunks/s")
    print(f"speed-up hearth/baseline chunks/s: {ratio:.2f}x best vs best (per round: "
          f"{', '.join(f'{r:.2f}x' for r in ratios)}; median {statistics.median(ratios):.2f}x)   goal >= 2.0x")
    print(f"re-ingest unchanged corpus: {again['seconds']:.3f} s = {again['seconds'] / hearth['seconds']:.2%} of the first "
          f"ingest ({again['unchanged']}/{again['files']} unchanged, embedder loaded: {again['embedder_loaded']})   goal <= 3%")
    print(f"hearth alone, fresh process: embedder load {child['load_seconds']:.1f} s ({child['backend']}), ingest "
          f"{child['seconds']:.1f} s = {child['chunks'] / child['seconds']:.1f} chunks/s, peak RSS {child['peak_rss_mb']:.0f} MB "
          f"(without the parser child process)   goal <= 1500 MB")
    print(f"this process (torch baseline + Hearth + both stores): peak RSS {peak_rss_mb():.0f} MB; "
          f"load average now {os.getloadavg()[0]:.1f} (other work on the machine skews single rounds)")
    print(f"embeddings, fast vs torch on all {exact['chunks']} corpus chunks: mean cosine {exact['cos_mean']:.4f}, "
          f"min {exact['cos_min']:.4f}")
    print(f"retrieval on {len(questions)} labelled questions (a hit: a top-{K} chunk from the labelled page or lines):")
    rows = (("torch, its Chroma store", torch_q), (f"hearth ({embedder.backend}), its store", fast_q),
            ("torch, exact search", exact["torch"]), (f"{embedder.backend}, exact search, same chunks", exact["fast"]))
    for name, q in rows:
        print(f"  {name:36s} hit@5 {q['hit@5']:6.1%}  hit@1 {q['hit@1']:6.1%}  MRR@5 {q['mrr@5']:.3f}")
    print(f"  hit@5 difference: {(fast_q['hit@5'] - torch_q['hit@5']) * 100:+.1f} points through the stores, "
          f"{(exact['fast']['hit@5'] - exact['torch']['hit@5']) * 100:+.1f} points exact   goal within 2 points")


def exact_search(embedder, model, collection, questions: list[dict]) -> dict:
    """Both embedders on the baseline's chunks with brute-force search: the embedders alone, no index in between."""
    import numpy as np

    stored = collection.get(include=["documents", "metadatas", "embeddings"])
    where = [(m["file"], m.get("page"), m.get("line_start"), m.get("line_end")) for m in stored["metadatas"]]
    slow = np.asarray(stored["embeddings"], dtype=np.float32)
    fast = np.array(embedder.embed(stored["documents"]), dtype=np.float32)
    asked = [q["question"] for q in questions]
    result = {"chunks": len(where), "cos_mean": float((fast * slow).sum(axis=1).mean()),
              "cos_min": float((fast * slow).sum(axis=1).min())}
    for name, chunks, queries in (("torch", slow, model.encode(asked, normalize_embeddings=True, show_progress_bar=False)),
                                  ("fast", fast, np.array([embedder.embed([a])[0] for a in asked]))):  # one by one, as retrieve()
        tops = np.argsort(-(queries @ chunks.T), axis=1)[:, :K]
        result[name] = quality([rank_of_answer(q, [where[i] for i in top]) for q, top in zip(questions, tops)])
    return result


if __name__ == "__main__":
    main()
