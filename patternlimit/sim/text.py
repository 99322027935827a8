"""Prompt text for the simulator: a compact, seeded grammar, with nothing to download.

The limiter is judged on how it tells a campaign's *templates* from people's *varied* prompts, so the text has to
vary the way real text does: in words, in length, in shape (questions, requests, pasted code, tracebacks, diffs),
and in where the changing part sits. A handful of fixed sentences would make every detector look good. Faker would
give names and addresses but no prompts, and adding it would change the project's dependencies; a grammar of word
lists and frames gives the variety that matters here and stays deterministic for a given ``random.Random``.

Frames are ``str.format``-style strings whose ``{slots}`` are filled by small functions (:data:`_FILLERS`); a slot
used twice in one frame gets the same value, and a filler may read slots filled before it (a code snippet is
written in the ``{language}`` the frame named). ``[one|two|]`` in a frame picks one of several wordings: people
phrase one request many ways, so long runs of fixed words are rare in organic prompts and common only in
templates. Every frame is compiled once at import.

What the scenarios use:

* :func:`organic_prompt`: a person's prompt, from 48 natural-language and code frames, with optional greetings,
  sign-offs, lower-casing and typos;
* :func:`campaign_prompt`: one of :data:`CAMPAIGN_TEMPLATE_COUNT` structured coding and agentic task templates of
  different shapes (personas, JSON tool calls, step lists, short frames with the filler at the start or the end,
  with and without a code payload);
* :func:`ci_prompt`, :func:`tool_prompt` (:data:`TOOL_OPENING` ... :data:`TOOL_CLOSING`), :data:`QUICKSTART`,
  :func:`app_frame` / :func:`app_prompt`, :func:`homework_prompt` (a class's assignment, :data:`HOMEWORK_FRAMES`,
  around each student's own work): the legitimate look-alikes' text;
* :func:`paraphrase`: light rewording, for the campaign prompts that are paraphrased.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Filler = Callable[[random.Random, dict[str, str]], str]
"""Fills one slot: the generator, and the slots of the same frame filled so far."""


def pick(rng: random.Random, options: Sequence[str]) -> str:
    """One item, uniformly: 0.13 us against ``rng.choice``'s 0.18 us here, which adds up over the few million
    picks of a default run."""
    return options[int(rng.random() * len(options))]


# --- word lists ----------------------------------------------------------------------------------------------------

_SUBJECTS = (
    "photosynthesis", "the french revolution", "black holes", "compound interest", "the immune system",
    "supply chains", "quantum tunnelling", "medieval castles", "volcanoes", "the stock market", "jazz harmony",
    "ocean currents", "plate tectonics", "sourdough fermentation", "chess openings", "electric cars", "coral reefs",
    "the roman empire", "inflation", "vaccines", "climate change", "the water cycle", "game theory",
    "the silk road", "neural networks", "dark matter", "the cold war", "honey bees", "sleep cycles", "tax brackets",
    "the printing press", "continental drift", "opera", "mortgages", "solar panels", "gut bacteria",
    "the olympics", "impressionism", "tides", "cryptocurrency", "the renaissance", "antibiotics", "glaciers",
    "string theory", "the french subjunctive", "index funds", "octopus intelligence", "the byzantine empire",
    "nuclear fusion", "bird migration", "the placebo effect", "stoicism", "interest rates", "the aztecs",
    "rainbows", "CRISPR", "the electoral college", "jet engines", "fermentation", "the krebs cycle", "monsoons",
    "baroque music", "dinosaurs", "the ottoman empire", "blood types", "wind turbines", "the mandela effect",
    "circadian rhythms", "tectonic earthquakes", "the federal reserve", "retirement accounts", "origami",
    "the theory of relativity", "the bronze age", "tardigrades", "carbon capture", "the enlightenment",
    "minimalism", "the human microbiome", "exoplanets", "the gold standard", "phonetics", "permaculture",
    "the vikings", "semiconductors", "auroras", "the hanseatic league", "mushroom foraging", "behavioural economics",
)  # fmt: skip
_TASKS = (
    ("parse", ("an ISO 8601 date", "a CSV file", "a TOML config file", "command-line arguments", "a log line",
               "a URL query string", "a markdown table")),
    ("validate", ("an email address", "a credit card number", "a JSON schema", "an IBAN", "user input in a form")),
    ("merge", ("two sorted lists", "overlapping intervals", "two JSON documents", "k sorted arrays")),
    ("compute", ("a rolling median", "the edit distance of two strings", "a moving average", "shortest paths",
                 "the convex hull of a set of points", "a checksum")),
    ("flatten", ("nested dictionaries", "a tree into a list", "nested arrays")),
    ("retry", ("a failed HTTP request with exponential backoff", "a database transaction")),
    ("deduplicate", ("a stream of events", "rows of a large table", "near-identical strings")),
    ("build", ("a trie", "an LRU cache", "a rate limiter", "a priority queue", "a bloom filter",
               "a thread pool", "a tokenizer for arithmetic expressions")),
    ("find", ("strongly connected components", "the longest palindromic substring", "cycles in a graph",
              "the k most frequent words", "duplicate files in a folder")),
    ("serialize", ("a binary tree", "a graph with cycles", "dataclasses to JSON")),
    ("schedule", ("jobs by priority", "meetings without overlaps", "tasks with dependencies")),
    ("paginate", ("an API response", "a SQL query", "search results")),
    ("encode", ("run lengths", "a string in base64", "integers as varints")),
    ("detect", ("balanced brackets", "anomalies in a time series", "the language of a text")),
    ("resize", ("images in a folder", "a dynamic array")),
    ("stream", ("a large file line by line", "server-sent events")),
)  # fmt: skip
# With their leading space, so an empty qualifier leaves no gap before the full stop.
_QUALIFIERS = (
    "", "", "", " without recursion", " in O(n log n) time", " using only the standard library",
    " for streaming input", " that is safe to call from several threads", " with constant extra memory",
    " for inputs of up to 10^6 items", " without external dependencies", " that handles malformed input gracefully",
)  # fmt: skip
_CODE_LANGUAGES = ("Python", "JavaScript", "TypeScript", "Go", "Rust", "Java", "C++")
_LIBRARIES = (
    "pandas", "numpy", "React", "Django", "FastAPI", "Express", "tokio", "serde", "Spring Boot", "SQLAlchemy",
    "pytest", "requests", "lodash", "PyTorch", "Flask", "Next.js", "Vue", "polars", "asyncio", "Kubernetes",
    "Terraform", "Redis", "PostgreSQL", "Celery", "gRPC", "Tailwind", "Jest", "scikit-learn", "Kafka", "Docker",
)  # fmt: skip
_DOMAINS = (
    "e-commerce", "healthcare", "logistics", "fintech", "education", "gaming", "real estate", "travel", "insurance",
    "agriculture", "media", "energy", "legal", "hospitality", "manufacturing",
)  # fmt: skip
_ADJECTIVES = (
    "fast", "readable", "robust", "thread-safe", "idiomatic", "memory-efficient", "well-tested", "simple",
    "production-ready", "maintainable", "secure", "portable",
)  # fmt: skip
_NOUNS = (
    "user", "order", "invoice", "cache", "token", "session", "record", "event", "payload", "item", "node", "edge",
    "account", "message", "config", "report", "batch", "query", "price", "score", "entry", "buffer", "chunk", "row",
)  # fmt: skip
_CODE_VERBS = (
    "get", "load", "parse", "build", "update", "merge", "find", "compute", "check", "normalize", "fetch", "render",
    "apply", "sort", "split", "collect", "resolve", "validate",
)  # fmt: skip
_ERRORS = (
    ("KeyError", "'{noun}_id'"), ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'"),
    ("ValueError", "invalid literal for int() with base 10: '{word}'"),
    ("AttributeError", "'NoneType' object has no attribute '{noun}'"),
    ("IndexError", "list index out of range"), ("ZeroDivisionError", "division by zero"),
    ("RecursionError", "maximum recursion depth exceeded"), ("UnicodeDecodeError", "'utf-8' codec can't decode byte"),
    ("ConnectionError", "HTTPSConnectionPool(host='api.{noun}.io', port=443): Max retries exceeded"),
    ("FileNotFoundError", "[Errno 2] No such file or directory: '{nouns}.json'"),
)  # fmt: skip
_PEOPLE = ("my manager", "a client", "my landlord", "my team", "a professor", "the hiring manager", "my neighbour",
           "our investors", "a supplier", "my colleague")  # fmt: skip
_EVENTS = ("the project delay", "a team offsite", "the budget review", "my resignation", "a product launch",
           "a missed deadline", "the holiday schedule", "a refund request", "the office move",
           "a birthday party")  # fmt: skip
_PLACES = ("Lisbon", "Kyoto", "Mexico City", "Iceland", "the Scottish Highlands", "Cape Town", "Vancouver", "Hanoi",
           "Marrakech", "the Amalfi coast", "Buenos Aires", "Seoul", "Tasmania", "Prague")  # fmt: skip
_FOODS = ("lasagna", "pad thai", "banana bread", "a vegan curry", "pancakes", "shakshuka", "ramen", "chili",
          "a lemon tart", "falafel", "risotto", "brownies", "dumplings", "paella", "a quiche", "tacos", "moussaka",
          "carrot cake", "pho", "gnocchi")  # fmt: skip
_INGREDIENTS = ("eggs", "gluten", "dairy", "an oven", "sugar", "nuts", "garlic", "butter", "a blender", "soy",
                "onions", "meat")  # fmt: skip
_TONES = ("more formal", "friendlier", "less passive-aggressive", "more persuasive", "shorter", "more professional",
          "warmer", "more confident")  # fmt: skip
_FORMS = ("haiku", "limerick", "sonnet", "short poem", "song chorus", "two-line rhyme", "short story")
_ROLES = ("data analyst", "backend engineer", "product manager", "nurse", "teacher", "UX designer", "accountant",
          "site reliability engineer", "marketing lead", "paralegal")  # fmt: skip
_CONCEPTS = ("microservices", "a monolith", "serverless", "event sourcing", "GraphQL", "REST", "NoSQL", "SQL",
             "recursion", "closures", "generics", "async/await", "dependency injection", "pointers", "ownership",
             "decorators", "list comprehensions", "interfaces", "caching", "sharding")  # fmt: skip
_HUMAN_LANGUAGES = ("Spanish", "French", "German", "Japanese", "Portuguese", "Italian", "Korean", "Dutch", "Polish")
_PHRASES = ("where is the train station", "I would like to book a table for two", "thank you for your patience",
            "the meeting is moved to Thursday", "could you send me the invoice", "happy birthday, my friend",
            "I am allergic to peanuts", "how much does this cost", "my luggage did not arrive",
            "we are running ten minutes late", "congratulations on the new job", "please find the report attached",
            "is this seat taken", "I lost my passport", "can I pay by card")  # fmt: skip
_RELATIONS = ("uncle", "roommate", "coworker", "grandma", "gym coach", "friend", "dentist", "sister", "boss",
              "teacher")  # fmt: skip
_CLAIMS = ("we only use 10% of our brains", "cracking knuckles causes arthritis", "goldfish have a 3-second memory",
           "lightning never strikes twice", "sugar makes kids hyper", "bulls hate the colour red",
           "the great wall is visible from space", "you lose most body heat through your head",
           "bats are blind", "shaving makes hair grow back thicker", "you should wait an hour after eating to swim",
           "microwaves make food radioactive", "napoleon was very short", "humans have five senses",
           "vikings wore horned helmets", "dropping a penny from a skyscraper can kill someone")  # fmt: skip
_ACTIVITIES = ("practice", "study", "train", "read", "rehearse")
_SKILLS = ("the guitar", "chess", "Spanish", "drawing", "public speaking", "typing", "swimming", "calculus",
           "the piano", "coding interviews", "climbing", "watercolour", "sight reading", "touch rugby", "Japanese",
           "writing fiction", "juggling", "photography")  # fmt: skip
_GOALS = ("running a 5k", "building strength", "losing weight", "improving flexibility", "a beginner",
          "a bad knee", "a marathon in spring", "hiking season", "better posture", "someone over sixty")  # fmt: skip
_PRODUCTS = ("a MacBook Air", "a ThinkPad", "an iPad", "a Kindle", "a standing desk", "a heat pump", "an e-bike",
             "a mirrorless camera", "a used Honda Civic", "a Raspberry Pi")  # fmt: skip
_HISTORIC = ("the fall of the Berlin Wall", "the moon landing", "the signing of the Magna Carta",
             "the invention of the telephone", "the Meiji restoration", "the first world war", "the Black Death",
             "the founding of Rome", "the Norman conquest", "the Cuban missile crisis", "the fall of Constantinople",
             "the Glorious Revolution", "the invention of the transistor", "the partition of India",
             "the Boston Tea Party", "the first transatlantic flight", "the discovery of penicillin",
             "the end of apartheid", "the Chernobyl disaster", "the launch of Sputnik")  # fmt: skip
_HISTORY_ASKS = ("why does it matter", "what led up to it", "who was involved", "what changed after it",
                 "is it still taught the same way", "explain it for my history class")  # fmt: skip
_BUDGETS = ("tight", "moderate", "generous", "student", "family")
_APP_DOES = ("tracks habits", "splits bills", "finds dog sitters", "plans meals", "books tennis courts",
             "swaps books between neighbours", "reminds people to water plants")  # fmt: skip
_SQL_TASKS = (
    "returns the top {k} {entities} by {metric} in the last {days} days",
    "finds {entities} with no {others} since {year}",
    "computes the monthly {metric} of each {group}", "lists {entities} whose {metric} changed more than {k} times",
    "deletes duplicate {entities} but keeps the newest one", "ranks {entities} by {metric} within each {group}",
    "finds gaps in the sequence of {entity} ids", "pivots daily {metric} into one column per {group}",
)  # fmt: skip
_SQL_ENTITIES = ("customer", "order", "user", "product", "employee", "invoice", "session", "ticket", "shipment")
_SQL_METRICS = ("revenue", "order count", "average basket size", "refund total", "retention", "churn", "price")
_SQL_GROUPS = ("region", "department", "signup cohort", "weekday", "store", "plan", "sales rep")
_EDGES = ("empty input", "very large inputs", "unicode text", "negative numbers", "duplicate keys", "null values",
          "concurrent writers", "timeouts", "integer overflow", "malformed records", "a single element")  # fmt: skip
_COMPLEXITIES = ("O(n)", "O(n log n)", "O(log n)", "O(1) amortised", "O(n^2)")
_TEST_FRAMEWORKS = ("pytest", "Jest", "JUnit 5", "Go's testing package", "Vitest", "unittest", "RSpec")
_CS_CONCEPTS = ("dynamic programming", "consistent hashing", "the CAP theorem", "B-trees", "two-phase commit",
                "copy-on-write", "backpressure", "memoization", "tail-call optimisation", "the actor model",
                "Raft consensus", "bloom filters", "lock-free queues", "write-ahead logging", "skip lists",
                "vector clocks", "CRDTs", "garbage collection", "LSM trees", "union-find", "segment trees",
                "the Paxos algorithm", "MVCC", "rope data structures", "HyperLogLog", "green threads",
                "the borrow checker", "SIMD vectorisation", "cache-oblivious algorithms", "tries")  # fmt: skip
_CP_TASKS = ("count the pairs whose sum is divisible by K", "find the length of the longest subarray with sum K",
             "return the number of distinct subsequences of length K", "minimise the maximum of K partitions",
             "find the K-th smallest pairwise distance", "count the subarrays whose XOR equals K")  # fmt: skip
_PROSE_SUBJECTS = ("The committee", "Our team", "The new policy", "Most customers", "The city council",
                   "My neighbour", "The quarterly report", "The startup", "Several employees", "The school board",
                   "The vendor", "Local residents")  # fmt: skip
_PROSE_VERBS = ("approved", "rejected", "discussed", "delayed", "announced", "criticised", "reviewed", "postponed",
                "welcomed", "questioned", "funded", "cancelled")  # fmt: skip
_PROSE_OBJECTS = ("the new budget", "a pilot program", "the shipping schedule", "the proposed merger",
                  "the parking rules", "a four-day work week", "the renovation plan", "the price increase",
                  "the hiring freeze", "a partnership with a local charity")  # fmt: skip
_PROSE_TAILS = ("", " last week", " after a long debate", ", which surprised everyone", " despite strong objections",
                " without much explanation", " for the third time this year", " on Monday morning")  # fmt: skip
_GREETINGS = ("hi", "Hi!", "hey", "Hello,", "hey there", "ok so", "quick question:", "Good morning!", "Hi Claude,",
              "hello", "Hey, hope you're well.", "Question:")  # fmt: skip
_SIGNOFFS = ("thanks", "Thanks!", "thank you so much", "ty", "keep it short please", "no need for a long answer",
             "I'm a beginner, so go easy on the jargon.", "This is for a school project.", "asap pls", "Cheers.",
             "Explain like I'm new to this.", "bullet points are fine")  # fmt: skip
_USER_NAMES = ("alex", "sam", "priya", "jordan", "mei", "lucas", "fatima", "noah", "olga", "diego", "kim", "dev")
_PROJECTS = ("webapp", "api-server", "dotfiles", "ml-pipeline", "shop", "blog", "infra", "cli-tool", "game", "bot")


# --- code ----------------------------------------------------------------------------------------------------------


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2] not in "aeiou" else noun + "s"


def _title(word: str) -> str:
    """Upper-case the first letter only (``str.capitalize`` would lower the rest of ``loadUser``)."""
    return word[:1].upper() + word[1:]


def _snake(rng: random.Random) -> str:
    return f"{pick(rng, _CODE_VERBS)}_{pick(rng, _NOUNS)}"


def _camel(rng: random.Random) -> str:
    return f"{pick(rng, _CODE_VERBS)}{pick(rng, _NOUNS).capitalize()}"


def _python_code(rng: random.Random) -> str:
    name, noun, limit = _snake(rng), pick(rng, _NOUNS), rng.randrange(2, 500)
    nouns = _plural(noun)
    if rng.random() < 0.5:
        return (
            f"def {name}({nouns}: list[dict], limit: int = {limit}) -> list[dict]:\n"
            f'    """Return the first {nouns} whose score passes the threshold."""\n'
            f"    result = []\n    for {noun} in {nouns}:\n"
            f"        if {noun}.get('{pick(rng, _NOUNS)}', 0) > {rng.randrange(100)}:\n"
            f"            result.append({noun})\n        if len(result) >= limit:\n            break\n"
            f"    return result"
        )
    other = pick(rng, _NOUNS)
    others = _plural(other)
    return (
        f"class {noun.capitalize()}{other.capitalize()}:\n    def __init__(self, size={limit}):\n"
        f"        self.size = size\n        self.{others} = {{}}\n\n    def {name}(self, key):\n"
        f"        if key not in self.{others}:\n            self.{others}[key] = self._load(key)\n"
        f"        return self.{others}[key] * {rng.randrange(2, 9)}"
    )


def _javascript_code(rng: random.Random) -> str:
    name, noun = _camel(rng), pick(rng, _NOUNS)
    nouns = _plural(noun)
    if rng.random() < 0.5:
        return (
            f"async function {name}(url, retries = {rng.randrange(1, 6)}) {{\n"
            f"  const response = await fetch(`${{url}}/{nouns}?limit={rng.randrange(10, 200)}`);\n"
            f"  if (!response.ok && retries > 0) return {name}(url, retries - 1);\n"
            f"  const data = await response.json();\n  return data.{nouns}.filter((x) => x.{pick(rng, _NOUNS)});\n}}"
        )
    return (
        f"export const {name} = ({nouns}) =>\n  {nouns}\n    .map(({noun}) => ({{ ...{noun}, "
        f"total: {noun}.price * {rng.randrange(2, 20)} }}))\n    .reduce((sum, item) => sum + item.total, 0);"
    )


def _go_code(rng: random.Random) -> str:
    name, noun = _title(_camel(rng)), pick(rng, _NOUNS)
    nouns = _plural(noun)
    return (
        f"func {name}({nouns} []{noun.capitalize()}, limit int) ([]{noun.capitalize()}, error) {{\n"
        f'\tif limit <= 0 {{\n\t\treturn nil, fmt.Errorf("limit must be positive, got %d", limit)\n\t}}\n'
        f"\tout := make([]{noun.capitalize()}, 0, {rng.randrange(4, 64)})\n\tfor _, item := range {nouns} {{\n"
        f"\t\tif item.{pick(rng, _NOUNS).capitalize()} > {rng.randrange(100)} {{\n\t\t\tout = append(out, item)\n"
        f"\t\t}}\n\t}}\n\treturn out, nil\n}}"
    )


def _rust_code(rng: random.Random) -> str:
    name, noun = _snake(rng), pick(rng, _NOUNS)
    nouns = _plural(noun)
    return (
        f"pub fn {name}({nouns}: &[{noun.capitalize()}], threshold: u32) -> Vec<&{noun.capitalize()}> {{\n"
        f"    {nouns}\n        .iter()\n        .filter(|item| item.{pick(rng, _NOUNS)} > threshold + "
        f"{rng.randrange(50)})\n        .take({rng.randrange(2, 100)})\n        .collect()\n}}"
    )


def _java_code(rng: random.Random) -> str:
    name, noun = _camel(rng), pick(rng, _NOUNS)
    kind, nouns = noun.capitalize(), _plural(noun)
    return (
        f"public static List<{kind}> {name}(List<{kind}> {nouns}, int limit) {{\n"
        f"    List<{kind}> result = new ArrayList<>();\n    for ({kind} item : {nouns}) {{\n"
        f"        if (item.get{pick(rng, _NOUNS).capitalize()}() > {rng.randrange(100)}) result.add(item);\n"
        f"        if (result.size() >= limit) break;\n    }}\n    return result;\n}}"
    )


def _cpp_code(rng: random.Random) -> str:
    name, noun = _snake(rng), pick(rng, _NOUNS)
    nouns = _plural(noun)
    return (
        f"std::vector<int> {name}(const std::vector<int>& {nouns}, int k) {{\n"
        f"    std::vector<int> out;\n    out.reserve({nouns}.size());\n"
        f"    for (int value : {nouns}) {{\n        if (value % k == {rng.randrange(10)}) out.push_back(value);\n"
        f"    }}\n    std::sort(out.begin(), out.end());\n    return out;\n}}"
    )


_CODE_WRITERS: dict[str, tuple[str, Callable[[random.Random], str]]] = {
    "Python": ("python", _python_code),
    "JavaScript": ("javascript", _javascript_code),
    "TypeScript": ("typescript", _javascript_code),
    "Go": ("go", _go_code),
    "Rust": ("rust", _rust_code),
    "Java": ("java", _java_code),
    "C++": ("cpp", _cpp_code),
}


def code_snippet(rng: random.Random, language: str | None = None) -> str:
    """A short function or class in ``language`` (one of the code languages; random when ``None`` or unknown),
    fenced in Markdown with its language tag, as people paste code into a prompt."""
    writer = _CODE_WRITERS.get(language or "") or _CODE_WRITERS[pick(rng, _CODE_LANGUAGES)]
    return f"```{writer[0]}\n{writer[1](rng)}\n```"


def _raw_code(rng: random.Random, values: dict[str, str]) -> str:
    writer = _CODE_WRITERS.get(values.get("language", "")) or _CODE_WRITERS[pick(rng, _CODE_LANGUAGES)]
    return writer[1](rng)


def _traceback(rng: random.Random) -> str:
    noun = pick(rng, _NOUNS)
    kind, message = _ERRORS[int(rng.random() * len(_ERRORS))]
    message = message.replace("{nouns}", _plural(noun)).replace("{noun}", noun).replace("{word}", pick(rng, _NOUNS))
    frames = "".join(
        f'  File "/srv/app/{pick(rng, _NOUNS)}/{pick(rng, _NOUNS)}.py", line {rng.randrange(5, 900)}, '
        f"in {_snake(rng)}\n    {_snake(rng)}({pick(rng, _NOUNS)})\n"
        for _ in range(rng.randint(1, 4))
    )
    return f"```\nTraceback (most recent call last):\n{frames}{kind}: {message}\n```"


def _diff(rng: random.Random) -> str:
    path = f"src/{pick(rng, _NOUNS)}/{_snake(rng)}.py"
    line = rng.randrange(1, 400)
    noun = pick(rng, _NOUNS)
    return (
        f"```diff\n--- a/{path}\n+++ b/{path}\n@@ -{line},6 +{line},7 @@ def {_snake(rng)}({noun}):\n"
        f"     {noun} = {_snake(rng)}({noun})\n-    if {noun} is None:\n-        return {rng.randrange(100)}\n"
        f"+    if not {noun}:\n+        logger.warning('empty {noun}')\n+        return {rng.randrange(100)}\n"
        f"     return {noun}.{pick(rng, _NOUNS)}\n```"
    )


def _paragraph(rng: random.Random) -> str:
    return " ".join(
        f"{pick(rng, _PROSE_SUBJECTS)} {pick(rng, _PROSE_VERBS)} {pick(rng, _PROSE_OBJECTS)}{pick(rng, _PROSE_TAILS)}."
        for _ in range(rng.randint(2, 5))
    )


def _sql_task(rng: random.Random) -> str:
    entity, other = rng.sample(_SQL_ENTITIES, 2)
    return (
        pick(rng, _SQL_TASKS)
        .replace("{entities}", _plural(entity))
        .replace("{entity}", entity)
        .replace("{others}", _plural(other))
        .replace("{metric}", pick(rng, _SQL_METRICS))
        .replace("{group}", pick(rng, _SQL_GROUPS))
        .replace("{k}", str(rng.randint(2, 20)))
        .replace("{days}", str(rng.choice((7, 14, 30, 90, 365))))
        .replace("{year}", str(rng.randint(2015, 2025)))
    )


_REGEX_ATOMS = (r"\d", r"[A-Z]", r"[a-z]", r"\w", r"[\w.+-]", r"\s", r"[^@\s]", r"[0-9a-f]", r".")
_REGEX_COUNTS = ("", "+", "*", "?", "{2}", "{3}", "{4}", "{2,4}", "{1,3}", "{8,}")


def _regex(rng: random.Random) -> str:
    """A regular expression someone found in their code base and cannot read."""
    parts = []
    for _ in range(rng.randint(2, 5)):
        piece = pick(rng, _REGEX_ATOMS) + pick(rng, _REGEX_COUNTS)
        roll = rng.random()
        if roll < 0.25:
            piece = f"({piece})"
        elif roll < 0.35:
            piece = f"(?:{piece}|{pick(rng, _REGEX_ATOMS)})"
        parts.append(piece)
        if rng.random() < 0.3:
            parts.append(pick(rng, ("-", "@", r"\.", ":", "/", "_")))
    anchors = rng.random()
    body = "".join(parts)
    return f"^{body}$" if anchors < 0.4 else (rf"\b{body}\b" if anchors < 0.6 else body)


def _task(rng: random.Random) -> tuple[str, str]:
    verb, objects = _TASKS[int(rng.random() * len(_TASKS))]
    return verb, pick(rng, objects)


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "sh", "ch", "x")):
        return verb + "es"
    return verb[:-1] + "ies" if verb.endswith("y") and verb[-2] not in "aeiou" else verb + "s"


def _choice(options: Sequence[str]) -> Filler:
    return lambda rng, values: pick(rng, options)


def _fill_task(rng: random.Random, values: dict[str, str]) -> str:
    verb, target = _task(rng)
    return f"{verb} {target}"


def _fill_task_capitalised(rng: random.Random, values: dict[str, str]) -> str:
    task = _fill_task(rng, values)
    return task[0].upper() + task[1:]  # not str.capitalize(), which would lower "ISO" and "CSV"


def _fill_task_s(rng: random.Random, values: dict[str, str]) -> str:
    verb, target = _task(rng)
    return f"{_third_person(verb)} {target}"


def _fill_lang_tag(rng: random.Random, values: dict[str, str]) -> str:
    writer = _CODE_WRITERS.get(values.get("language", ""))
    return writer[0] if writer else ""


def _other(options: Sequence[str], slot: str) -> Filler:
    """A value different from the one ``slot`` already has (``{language2}`` after ``{language}``)."""

    def fill(rng: random.Random, values: dict[str, str]) -> str:
        taken = values.get(slot)
        while True:
            value = pick(rng, options)
            if value != taken:
                return value

    return fill


_FILLERS: dict[str, Filler] = {
    "subject": _choice(_SUBJECTS),
    "subject2": _other(_SUBJECTS, "subject"),
    "task": _fill_task,
    "Task": _fill_task_capitalised,
    "task_s": _fill_task_s,
    "qualifier": _choice(_QUALIFIERS),
    "language": _choice(_CODE_LANGUAGES),
    "language2": _other(_CODE_LANGUAGES, "language"),
    "lang_tag": _fill_lang_tag,
    "library": _choice(_LIBRARIES),
    "library2": _other(_LIBRARIES, "library"),
    "domain": _choice(_DOMAINS),
    "adjective": _choice(_ADJECTIVES),
    "fn": lambda rng, values: _snake(rng),
    "code": lambda rng, values: code_snippet(rng, values.get("language")),
    "snippet": _raw_code,
    "python_snippet": lambda rng, values: _python_code(rng),
    "snippet_json": lambda rng, values: json.dumps(_raw_code(rng, values))[1:-1],
    "traceback": lambda rng, values: _traceback(rng),
    "diff": lambda rng, values: _diff(rng),
    "paragraph": lambda rng, values: _paragraph(rng),
    "person": _choice(_PEOPLE),
    "event": _choice(_EVENTS),
    "place": _choice(_PLACES),
    "food": _choice(_FOODS),
    "ingredient": _choice(_INGREDIENTS),
    "tone": _choice(_TONES),
    "form": _choice(_FORMS),
    "role": _choice(_ROLES),
    "concept": _choice(_CONCEPTS),
    "concept2": _other(_CONCEPTS, "concept"),
    "human_language": _choice(_HUMAN_LANGUAGES),
    "phrase": _choice(_PHRASES),
    "relation": _choice(_RELATIONS),
    "claim": _choice(_CLAIMS),
    "activity": _choice(_ACTIVITIES),
    "skill": _choice(_SKILLS),
    "goal": _choice(_GOALS),
    "product": _choice(_PRODUCTS),
    "product2": _other(_PRODUCTS, "product"),
    "historic_event": _choice(_HISTORIC),
    "history_ask": _choice(_HISTORY_ASKS),
    "budget": _choice(_BUDGETS),
    "app_does": _choice(_APP_DOES),
    "sql_task": lambda rng, values: _sql_task(rng),
    "edge": _choice(_EDGES),
    "edge2": _other(_EDGES, "edge"),
    "complexity": _choice(_COMPLEXITIES),
    "test_framework": _choice(_TEST_FRAMEWORKS),
    "cs_concept": _choice(_CS_CONCEPTS),
    "cp_task": _choice(_CP_TASKS),
    "noun": _choice(_NOUNS),
    "count": lambda rng, values: str(rng.randint(3, 12)),
    "number": lambda rng, values: str(rng.randrange(10, 100_000)),
    "small": lambda rng, values: str(rng.randint(2, 12)),
    "words": lambda rng, values: str(100 * rng.randint(3, 15)),
    "limit": lambda rng, values: f"{rng.randint(1, 9)}0^{rng.randint(3, 9)}",
    "age": lambda rng, values: pick(rng, ("five", "ten", "a teenager", "my grandmother", "a golden retriever")),
    "year": lambda rng, values: str(rng.randint(1990, 2025)),
    "path": lambda rng, values: f"src/{pick(rng, _NOUNS)}/{_snake(rng)}.py",
    "paths": lambda rng, values: ", ".join(
        f"{pick(rng, ('src', 'lib', 'app', 'pkg'))}/{_snake(rng)}.{pick(rng, ('py', 'ts', 'go', 'rs'))}"
        for _ in range(rng.randint(1, 5))
    ),
    "repo": lambda rng, values: f"{pick(rng, _USER_NAMES)}/{pick(rng, _PROJECTS)}",
    "tables": lambda rng, values: ", ".join(
        f"{_plural(noun)}({noun}_id, {pick(rng, _NOUNS)}_id, created_at, {pick(rng, _NOUNS)})"
        for noun in rng.sample(_NOUNS, rng.randint(2, 3))
    ),
    "column": lambda rng, values: f"{pick(rng, _NOUNS)}_id",
    "input_example": lambda rng, values: json.dumps(
        {pick(rng, _NOUNS): [rng.randrange(100) for _ in range(rng.randint(2, 7))], "k": rng.randrange(1, 9)}
    ),
    "cases": lambda rng, values: "\n".join(
        f"- {pick(rng, _EDGES)} -> {pick(rng, ('raises ValueError', 'returns []', 'returns None', 'logs a warning'))}"
        for _ in range(rng.randint(2, 6))
    ),
    "regex": lambda rng, values: _regex(rng),
    "attempt": lambda rng, values: pick(
        rng, ("a for loop", "apply()", "a regex", "the docs example", "a list comprehension", "groupby")
    ),
    "wrong": lambda rng, values: pick(rng, ("None", "an empty list", "NaN", "a 403", "the old value")),
    "expected": lambda rng, values: pick(rng, ("the parsed rows", "a dict", "the new value", "a 200", "the total")),
    "user": _choice(_USER_NAMES),
    "project": _choice(_PROJECTS),
    "platform": _choice(("linux", "darwin", "win32")),
    "git": _choice(("yes", "no")),
}


@dataclass(frozen=True, slots=True)
class _Frame:
    """A compiled frame: ``literals[0] slot[0] literals[1] ... slot[-1] literals[-1]``. A slot is a filler's name,
    or a tuple of alternative wordings, one picked per render."""

    literals: tuple[str, ...]
    slots: tuple[str | tuple[str, ...], ...]

    def render(self, rng: random.Random) -> str:
        values: dict[str, str] = {}
        parts = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            if isinstance(slot, tuple):
                parts.append(pick(rng, slot))
                parts.append(literal)
                continue
            value = values.get(slot)
            if value is None:
                value = _FILLERS[slot](rng, values)
                values[slot] = value
            parts.append(value)
            parts.append(literal)
        return "".join(parts)

    @property
    def has_code(self) -> bool:
        return any(slot in _CODE_SLOTS for slot in self.slots if isinstance(slot, str))


_CODE_SLOTS = frozenset({"code", "snippet", "python_snippet", "snippet_json", "traceback", "diff", "regex"})
_ALTERNATION = re.compile(r"\[([^\[\]{}]*\|[^\[\]{}]*)\]")


def _compile(template: str) -> _Frame:
    """Split ``template`` once, so rendering is a join. ``{name}`` is a filler; ``[one|two|]`` picks one wording
    (an empty one leaves the words out). An unknown filler is a bug in this module, found at import."""
    literals: list[str] = []
    slots: list[str | tuple[str, ...]] = []
    pending = ""
    position = 0
    for alternation in [*_ALTERNATION.finditer(template), None]:
        piece = template[position : alternation.start() if alternation else len(template)]
        for literal, slot, _spec, _conversion in string.Formatter().parse(piece):
            pending += literal
            if slot is None:
                continue
            if slot not in _FILLERS:
                raise ValueError(f"unknown slot {{{slot}}} in frame {template[:60]!r}; known: {sorted(_FILLERS)}")
            literals.append(pending)
            slots.append(slot)
            pending = ""
        if alternation is not None:
            literals.append(pending)
            slots.append(tuple(alternation.group(1).split("|")))
            pending = ""
            position = alternation.end()
    literals.append(pending)
    return _Frame(tuple(literals), tuple(slots))


# --- organic prompts -----------------------------------------------------------------------------------------------

# People word the same request in many ways: the [a|b|c] wordings keep any long run of fixed words rare, as it is
# in real traffic, so that organic prompts do not share the edges of a template the way a campaign's do.
_ORGANIC_FRAMES = tuple(
    _compile(frame)
    for frame in (
        "[give me an overview of|tell me about|what do I need to know about|quick summary of|background on] "
        "{subject}[| please|?]",
        "[Can you|Could you|Please|pls|Would you] explain {subject} [in simple terms|simply|without jargon|in plain "
        "English|like I'm new to it][?|.|]",
        "explain {subject} [like I'm|as if I were|for] {age}",
        "[How do I|How can I|What's the way to|Best way to|how to] {task} in {language}[?||??]",
        "[What's the best way|What is the cleanest way|Is there a good way|How would you] to {task} [using|with|in] "
        "{library}?",
        "[Write|Can you write|Compose|I want] a {form} about {subject}[.| please|| for my mom]",
        "I [need to|have to|want to] [write|send] an email to {person} about {event}. [Can you draft something|"
        "Help me make it|Please make it|Could you write it so it sounds] {tone}[?|.]",
        "[Summarize this for me|Summarize|TL;DR please|Can you summarise this|Give me the gist of this]:"
        "\n\n{paragraph}",
        "{paragraph}\n\n[Can you turn this into|Make this|Rewrite as|Give me|Condense into] {count} bullet points"
        "[?| please|.|]",
        "[what's the difference between|difference between|how does] {library} [and|vs|compare to] {library2}[?|]",
        "Is {language} or {language2} better for {domain} [backends|services|tooling|apps]? I [mostly care about|"
        "need|want] [it being|something] {adjective}.",
        "[Give me|I need|List|Suggest] {count} ideas for {event}[.|?| please]",
        "Plan a {small}-day trip to {place} on a {budget} budget[.|, we like food and museums.| with kids.]",
        "[Why does my|What's wrong with my|Why won't my|Help, my] {language} code [not work|fail|break|hang]?"
        "\n\n{code}",
        "[I'm getting this error|Got this error|This error keeps showing up|Seeing this][ and I don't understand it|"
        " when I run my script| after upgrading|]:\n{traceback}\n[What does it mean?|How do I fix it?|help|Any idea?]",
        "[Can you review|Please review|Quick review of|Sanity check] this diff[ before I push it| before merging|]? "
        "[Anything risky?|Did I miss anything?|Is it safe?|Thoughts?]\n{diff}",
        "{code}\n\n[what does this do|explain this|what is this doing?|can you walk me through this|is this correct?]",
        "Rewrite this [paragraph|text|note] so it sounds {tone}: {paragraph}",
        "[translate|how do you say|what's] '{phrase}' [into|in] {human_language}[?|]",
        "[Help me understand|What are|Walk me through] the [tradeoffs|pros and cons] of {concept} vs {concept2} for "
        "a {domain} [startup|team|side project].",
        "My {relation} [says|insists|told me|swears] {claim}. [Is that true?|Is this a myth?|Any truth to that?|"
        "Right?]",
        "[recipe for|how do I make|can I make] {food} without {ingredient}?",
        "How [long|often|many hours] should I {activity}[ each day| a week|] to get better at {skill}?",
        "[Convert|Translate|Port] this {language} [snippet|code|function] to {language2}[ please|]\n{code}",
        "[What are some good|Recommend|Any good] books on {subject}[?|.]",
        "[I have|I've got|There's] an interview for a {role} [position|role|job] at a {domain} [company|firm|startup] "
        "[next week|on Monday|tomorrow|soon]. [What questions should I expect?|How should I prepare?|Any tips?|"
        "what will they ask?]",
        "[Write unit tests for this|Add tests for this function|Can you test this|Need pytest tests here]:\n{code}",
        "Is there a {library} equivalent of {fn} from {library2}[?| or do I write my own?]",
        "[what year did|when did|tell me when] {historic_event} happen and {history_ask}",
        "Can you make this [function|code|loop] faster? It's called about {number} times per [request|second|"
        "batch].\n{code}",
        "[Help!|Urgent:|ugh.|Please help,] [Production|The site|Our API|The app] is down and the logs show:"
        "\n{traceback}",
        "Compare {subject} and {subject2} in a [short table|few sentences|table|list].",
        "[Write|Draft|Help me write] a cover letter for a {role} [job|position]. I have {small} years of "
        "experience in {domain}[.|, mostly remote.| and a career gap.]",
        "[Explain the following regex|What does this regex match|Can you break down this regex]: {regex}",
        "In {library}, how can I {task}? I tried {attempt} but it [didn't work|was too slow|threw an error].",
        "Suggest a name for my {domain} app that {app_does}[.| - something short.| please]",
        "[ELI5|eli5|Explain like I'm 5]: {subject}",
        "[Give me|Make me|Create] a {small}-day workout plan for {goal}[.| at home.| with no equipment.]",
        "Brainstorm {count} [blog post titles|newsletter topics|tweet ideas] about {subject} for a {domain} audience.",
        "[Write a SQL query that|SQL to|I need a query that|postgres: query that] {sql_task}[.|]",
        "[Fix the grammar|Proofread this|Correct the mistakes in this|grammar check]: {paragraph}",
        "I'm learning {language}. [Can you give me|Suggest|Make] {count} exercises about {concept}[?|.]",
        "[Please proofread my message to|Check my message to|Does this read OK? It's for] {person}:\n\n{paragraph}",
        "[Help me debug|Debugging question|Stuck]: the {library} call returns {wrong} instead of {expected}.\n\n{code}",
        "[Tell me|Share|I want] a fun fact about {subject}[.|!|]",
        "[What should I consider when choosing between|Help me decide between|Which is better,] {product} [and|or] "
        "{product2}?",
        "[Create|Make] a study schedule for {subject} with {count} topics a week[.| before my exam.]",
        "We're a small {domain} team deciding on {concept} vs {concept2}. We have {small} engineers, mostly "
        "{language} people, and a deadline in {count} weeks. [What would you pick and what would worry you?|"
        "Which would you choose?|What are the risks of each?]",
    )
)
ORGANIC_FRAME_COUNT = len(_ORGANIC_FRAMES)


def _typo(text: str, rng: random.Random) -> str:
    """Swap two adjacent letters somewhere: people type fast."""
    position = rng.randrange(max(1, len(text) - 1))
    if text[position : position + 2].isalpha():
        return text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    return text


def organic_prompt(rng: random.Random) -> str:
    """A person's prompt: one of the organic frames, filled, sometimes with a greeting, a sign-off, no capitals or a
    typo. Frames with code (pasted snippets, tracebacks, diffs) are about a fifth of them. Short common questions
    repeat across people, as they do in real traffic: about one prompt in eight of 50,000 repeats an earlier one."""
    frame = _ORGANIC_FRAMES[int(rng.random() * ORGANIC_FRAME_COUNT)]
    text = frame.render(rng)
    roll = rng.random()
    if roll < 0.25:
        text = f"{pick(rng, _GREETINGS)} {text}"
    elif roll < 0.30:
        text = f"{pick(rng, _GREETINGS)}\n\n{text}"
    if rng.random() < 0.25:
        text = f"{text} {pick(rng, _SIGNOFFS)}"
    if not frame.has_code:
        if rng.random() < 0.2:
            text = text.lower()
        if rng.random() < 0.15:
            text = _typo(text, rng)
    return text


# --- apps built on the API (one established account each) ----------------------------------------------------------

_APP_KINDS = (
    (
        ("Classify the sentiment of this customer review as positive, negative or neutral.",
         "What is the sentiment of the review below? Choose positive, negative or neutral."),
        ("Answer with one word.", "Reply with the label only.", ""),
    ),
    (
        ("Summarize the following support ticket in two sentences for the on-call engineer.",
         "TL;DR this ticket for the support queue:"),
        ("", "Mention the customer's plan if it is given."),
    ),
    (
        ("Extract the company names, dates and amounts from the text below as JSON.",
         "Return a JSON object with the organisations, dates and money amounts mentioned here."),
        ("Use null for missing fields.", ""),
    ),
    (
        ("Write a product description for our online store based on these notes.",
         "Turn these notes into a catchy listing for the shop."),
        ("Keep it under 80 words and friendly.", "No more than three sentences."),
    ),
    (
        ("Translate the following message for our customers, keeping the tone.",
         "Please translate this support reply; keep product names as they are."),
        ("Target language: Spanish.", "Target language: German.", "Target language: Japanese."),
    ),
    (
        ("You are a friendly tutor for high school students. A student asks:",
         "Act as a patient math and science tutor. Question from a student:"),
        ("Give a hint, not the full answer.", "Explain step by step."),
    ),
)  # fmt: skip


def app_frame(rng: random.Random) -> tuple[str, str]:
    """The fixed instruction (before) and sign-off (after) of one app built on the API: an established customer's
    own template, which many of its end users' contents pass through."""
    openings, closings = _APP_KINDS[int(rng.random() * len(_APP_KINDS))]
    return pick(rng, openings), pick(rng, closings)


def app_prompt(rng: random.Random, frame: tuple[str, str]) -> str:
    """One request of the app: its fixed frame around a user's content."""
    content = _paragraph(rng) if rng.random() < 0.7 else organic_prompt(rng)
    opening, closing = frame
    return f"{opening}\n\n{content}\n\n{closing}".rstrip()


# --- campaign templates --------------------------------------------------------------------------------------------

_CAMPAIGN_TEMPLATES = tuple(
    _compile(template)
    for template in (
        # a long persona frame, code payload in the middle, a fixed closing
        "You are an expert {language} engineer with deep knowledge of {library}. Write a production-quality "
        "{language} function named {fn} that {task_s}. Requirements: handle {edge} and {edge2}, keep the time "
        "complexity at {complexity} or better, and include type annotations.\n```{lang_tag}\n{snippet}\n```\n"
        "Return only the code, followed by a brief explanation of the approach.",
        # a JSON tool call: almost all of it quoted values
        '{{"role": "task_generator", "tool": "code_solution", "arguments": {{"language": "{language}", '
        '"problem": "{Task}{qualifier}", "constraints": ["{edge}", "{complexity}"], "starter_code": '
        '"{snippet_json}"}}, "output_format": "Return a JSON object with the keys solution, explanation and tests."}}',
        # a numbered step list around a short filler
        "Solve the following programming task.\n\nTask: {Task}{qualifier}.\n\nFollow these steps:\n"
        "1. Restate the problem in your own words.\n2. List the edge cases, including {edge}.\n"
        "3. Write the solution in {language}.\n4. Analyse its time and space complexity.\n"
        "5. Provide at least {count} test cases with expected outputs.\n\n"
        "Show your reasoning for each step before the final answer.",
        # short: the filler at the start
        "{Task}{qualifier}. Implement it in {language} with error handling and tests. Explain each step.",
        # short fixed frame, the varying part is all payload at the end
        "Explain the time complexity of the following code and suggest an optimization:\n{code}",
        # a traceback in the middle
        "Here is a stack trace from a {domain} service:\n{traceback}\nIdentify the root cause, write a corrected "
        "version of the failing function, and add a regression test that would have caught it. Think step by step.",
        # an agentic task with XML-ish tags and file paths
        "<task>\n{Task} in the repository {repo}.\n</task>\n<context>\nRelevant files: {paths}\n</context>\n"
        "You are an autonomous coding agent. First output a numbered plan, then the full patch as a unified diff, "
        "then the shell commands to run the tests. Do not ask clarifying questions.",
        # competitive programming: numbers everywhere, a short varying clause in the middle
        "Problem: Given an array of {number} integers and a value K = {small}, {cp_task}. Input format: the first "
        "line contains N, the second line contains the array. Constraints: 1 <= N <= {limit}. Output the answer "
        "modulo 1000000007. Write an efficient solution in {language} and explain the algorithm.",
        # code translation
        "Translate the following {language} code into idiomatic {language2}. Preserve the behaviour exactly, use "
        "the standard library where possible, and add comments where the semantics differ.\n{code}",
        # unit test generation
        "Write comprehensive unit tests for the function below using {test_framework}. Cover normal inputs, {edge}, "
        "and invalid arguments. Aim for full branch coverage.\n{code}\nOutput only the test file.",
        # SQL with the filler in the middle and a fixed closing
        "Given the tables {tables}, write a SQL query that {sql_task}. Then explain how an index on {column} would "
        "change the query plan.",
        # a short persona, code, a short fixed closing
        "As a senior reviewer, refactor this {language} code for readability and performance:\n{code}\n"
        "List every change you made and why.",
        # an instruction-tuning record
        "### Instruction\n{Task}{qualifier} in {language}.\n### Input\n{input_example}\n### Response format\n"
        "A complete solution, then a step-by-step explanation, then the complexity analysis.",
        # grading a solution, the task quoted in the frame
        'Rate the following solution to the task "{Task}" on a scale of 1 to 10 for correctness, efficiency and '
        "style. Justify each score in two sentences, then give an improved solution.\n{code}",
        # a tool-use trajectory request
        "You have access to the following tools: search_code(query), read_file(path), run_tests(target), "
        "write_file(path, content).\nUser request: {Task}{qualifier}.\nRespond only with a JSON array of tool "
        "calls, one per step, each with the keys tool and args, ending with a call to run_tests.",
        # very short, filler first
        "{language}: {task}. Code only, no explanation.",
        # concept explanation for reasoning data, filler near the start
        "Explain {cs_concept} to an experienced developer in under {words} words. Cover the intuition, a formal "
        "definition, a worked example in {language}, common pitfalls, and when not to use it. Use headings for each "
        "section.",
    )
)
CAMPAIGN_TEMPLATE_COUNT = len(_CAMPAIGN_TEMPLATES)
"""How many campaign templates there are; :func:`campaign_prompt` takes an index below it."""


def campaign_prompt(rng: random.Random, template: int) -> str:
    """One prompt of campaign template number ``template`` (``0 <= template < CAMPAIGN_TEMPLATE_COUNT``), with
    fresh fillers: the task, language, names, numbers and code change on every call; the frame does not."""
    if not 0 <= template < CAMPAIGN_TEMPLATE_COUNT:
        raise ValueError(f"template must be in [0, {CAMPAIGN_TEMPLATE_COUNT}), got {template!r}")
    return _CAMPAIGN_TEMPLATES[template].render(rng)


# --- legitimate look-alikes ----------------------------------------------------------------------------------------

_CI_FRAME = _compile(
    "Generate pytest unit tests for `{fn}` in `{path}`. Use the fixtures from tests/conftest.py, parametrize over "
    "the cases below, and do not mock the database.\nCases:\n{cases}\nSource:\n```python\n{snippet}\n```\n"
    "Reply with the complete test module only."
)


def ci_prompt(rng: random.Random) -> str:
    """The CI harness's one structured template: tests for a different function of the customer's code each time."""
    return _CI_FRAME.render(rng)


QUICKSTART = "Hello, Claude! Can you tell me three fun facts about octopuses?"
"""The product's quickstart example, which a launch crowd pastes and runs as it is."""

TOOL_OPENING = (
    "You are Hearth, an open-source coding agent that runs in the user's terminal. You help with software "
    "engineering tasks: fixing bugs, adding features, refactoring and explaining code. Follow these rules. Be "
    "concise and direct, and answer in fewer than four lines unless the user asks for detail. Never invent file "
    "paths or APIs; read a file with the read tool before you edit it. Prefer editing existing files to creating "
    "new ones. Never commit changes unless the user asks you to. Before you run a command that changes the "
    "system, explain what it does. Follow the project's existing conventions, libraries and style, and do not add "
    "comments unless asked. Tools available: read, write, edit, bash, grep, glob, web_fetch. Respond with tool "
    "calls in the documented format."
)
"""The fixed opening of the popular open-source agent's prompts (over 100 words), shared by all its users."""

TOOL_CLOSING = (
    "Remember: verify your changes by running the project's tests or linters when they exist. If you cannot find "
    "the command to run them, ask the user and suggest saving it to the project memory file. Keep your responses "
    "short, since they are displayed in a command line interface, and only use emojis if the user asks."
)
"""The fixed closing of the popular agent's prompts."""

# What agent users type besides ordinary prompts: short coding asks about their own code.
_AGENT_REQUEST = _compile("{Task}{qualifier} in {path}, and run the tests after.")
_TOOL_ENVIRONMENT = _compile(
    "<env>\nWorking directory: /home/{user}/{project}\nPlatform: {platform}\nGit repository: {git}\n</env>"
)


def tool_prompt(rng: random.Random) -> str:
    """A request from the popular agent: its fixed opening, the user's environment and request, its fixed closing."""
    request = organic_prompt(rng) if rng.random() < 0.6 else _AGENT_REQUEST.render(rng)
    return f"{TOOL_OPENING}\n\n{_TOOL_ENVIRONMENT.render(rng)}\n<user>\n{request}\n</user>\n\n{TOOL_CLOSING}"


# --- a class's homework --------------------------------------------------------------------------------------------

# The names a student gives the list's node type, its fields, and their local variables.
_C_TYPES = ("struct node", "Node", "struct list_node", "ListNode", "struct item", "node_t")
_C_VALUE_FIELDS = ("value", "data", "val", "key")
_C_NEXT_FIELDS = ("next", "nxt", "link")
_C_LOCALS = ("n", "node", "new_node", "tmp", "p", "fresh")
_LIST_FUNCTIONS = ("push_front", "push_back", "pop_front", "find", "reverse", "free_list")
_LIST_SYMPTOMS = (
    "segfaults", "crashes with a segmentation fault when the list is empty", "prints the list backwards",
    "loses the last element", "passes my own tests but valgrind reports {number} bytes definitely lost",
    "gets stuck in an infinite loop", "works for one element but not for two",
    "fails test {small} of the autograder", "prints garbage values after the first {small} nodes",
    "compiles with a warning about an incompatible pointer type",
)  # fmt: skip
_LIST_CONCEPTS = (
    "why push_front takes a pointer to a pointer", "why pop_front has to save the next node before freeing",
    "what valgrind means by 'definitely lost'", "the difference between the head and the first node",
    "how to reverse the list in place", "when I have to check for NULL", "why my malloc needs a cast or not",
)  # fmt: skip
_SQL_QUESTIONS = (
    "B1: the titles of the books that cost more than the average price",
    "B2: the customers who have never placed an order", "B3: each author's number of books and average price",
    "B4: the five best-selling books by total quantity",
    "B5: the customers who bought books by at least three different authors", "B6: the monthly revenue in 2024",
    "B7: the most expensive book of each author", "B8: the cities with more than ten customers, largest first",
)  # fmt: skip
# A student's query: the tables they start from, the columns they may select, and conditions they may filter on
# (their {placeholders} filled by _fill_numbers for each query).
_SQL_ATTEMPTS = (
    ("books b JOIN authors a ON a.author_id = b.author_id",
     ("b.title", "a.name", "b.price", "COUNT(*)", "AVG(b.price)", "MAX(b.price)"),
     ("b.price > {number}", "b.published_year >= {year}", "a.country = '{country}'")),
    ("customers c LEFT JOIN orders o ON o.customer_id = c.customer_id",
     ("c.name", "c.city", "COUNT(o.order_id)", "MIN(o.ordered_at)"),
     ("o.order_id IS NULL", "c.city = '{city}'", "o.ordered_at >= '2024-{month}-01'")),
    ("order_items oi JOIN books b ON b.book_id = oi.book_id",
     ("b.title", "SUM(oi.quantity)", "b.price", "SUM(oi.quantity * b.price)"),
     ("oi.quantity > {small}", "b.price < {number}")),
    ("orders o JOIN order_items oi ON oi.order_id = o.order_id JOIN books b ON b.book_id = oi.book_id",
     ("o.customer_id", "COUNT(DISTINCT b.author_id)", "DATE_TRUNC('month', o.ordered_at)", "SUM(b.price)"),
     ("o.ordered_at < '2024-{month}-01'", "b.price BETWEEN {small} AND {number}")),
)  # fmt: skip
_SQL_SYMPTOMS = (
    "it returns {number} rows but the expected output has {small}",
    'I get ERROR: column "{column}" must appear in the GROUP BY clause or be used in an aggregate function',
    "the customers without orders are missing", "every book shows up {small} times",
    'I get ERROR: syntax error at or near "{keyword}"', "it runs but the numbers don't match the sample output",
)  # fmt: skip
_INDUCTION_CLAIMS = (
    "1 + 3 + 5 + ... + (2n - 1) = n^2 for every n >= 1", "2^n > n^2 for every n >= 5",
    "3 divides n^3 - n for every n >= 0", "1 + 2 + ... + n = n(n + 1)/2 for every n >= 1",
    "F(n) < 2^n for every n >= 0, where F is the Fibonacci sequence", "every integer n >= 2 is a product of primes",
    "n! > 2^n for every n >= 4", "a set with n elements has 2^n subsets",
)  # fmt: skip
_CITIES = ("Leeds", "Austin", "Lyon", "Osaka", "Porto", "Denver", "Graz", "Pune", "Quito", "Tartu")


def _c_list_code(rng: random.Random, values: dict[str, str]) -> str:
    """A student's attempt at one of the lab's functions (``{list_function}``, random when not filled yet) with
    their own names, half the time with that function's classic bug, half the time with the ``main`` they test
    it from."""
    kind, value, link = pick(rng, _C_TYPES), pick(rng, _C_VALUE_FIELDS), pick(rng, _C_NEXT_FIELDS)
    local = pick(rng, _C_LOCALS)
    function = values.get("list_function") or pick(rng, _LIST_FUNCTIONS)
    buggy = rng.random() < 0.5
    if function == "push_front":
        # the bug: the head is passed by value, so the caller's list never changes
        head = "head" if buggy else "*head"
        code = (
            f"void push_front({kind} *{head}, int {value}) {{\n    {kind} *{local} = malloc(sizeof({kind}));\n"
            f"    {local}->{value} = {value};\n    {local}->{link} = {head};\n    {head} = {local};\n}}"
        )
    elif function == "push_back":
        walk = "cur != NULL" if buggy else f"cur->{link} != NULL"
        code = (
            f"void push_back({kind} **head, int {value}) {{\n    {kind} *{local} = malloc(sizeof({kind}));\n"
            f"    {local}->{value} = {value};\n    {local}->{link} = NULL;\n"
            f"    if (*head == NULL) {{\n        *head = {local};\n        return;\n    }}\n"
            f"    {kind} *cur = *head;\n    while ({walk})\n        cur = cur->{link};\n    cur->{link} = {local};\n}}"
        )
    elif function == "pop_front":
        steps = (f"free({local});\n    *head = {local}->{link};", f"*head = {local}->{link};\n    free({local});")
        code = (
            f"int pop_front({kind} **head) {{\n    {kind} *{local} = *head;\n    int {value} = {local}->{value};\n"
            f"    {steps[0] if buggy else steps[1]}\n    return {value};\n}}"
        )
    elif function == "find":
        walk = f"cur->{link} != NULL" if buggy else "cur != NULL"
        code = (
            f"{kind} *find({kind} *head, int {value}) {{\n    for ({kind} *cur = head; {walk}; cur = cur->{link})\n"
            f"        if (cur->{value} == {value})\n            return cur;\n    return NULL;\n}}"
        )
    elif function == "reverse":
        code = (
            f"void reverse({kind} **head) {{\n    {kind} *prev = NULL, *cur = *head;\n    while (cur != NULL) {{\n"
            f"        {kind} *{local} = cur->{link};\n        cur->{link} = prev;\n        prev = cur;\n"
            f"        cur = {local};\n    }}\n" + ("}" if buggy else "    *head = prev;\n}")
        )
    else:
        steps = (
            f"        free(head);\n        head = head->{link};",
            f"        {kind} *{local} = head->{link};\n        free(head);\n        head = {local};",
        )
        body = steps[0] if buggy else steps[1]
        code = f"void free_list({kind} *head) {{\n    while (head != NULL) {{\n{body}\n    }}\n}}"
    if rng.random() < 0.5:
        number = rng.randint(1, 99)
        calls = {
            "push_front": f"push_front(&head, {number});",
            "push_back": f"push_back(&head, {number});",
            "pop_front": 'printf("%d\\n", pop_front(&head));',
            "find": f'printf("%p\\n", (void *)find(head, {number}));',
            "reverse": "reverse(&head);",
            "free_list": "free_list(head);",
        }
        code += (
            f"\n\nint main(void) {{\n    {kind} *head = NULL;\n    for (int i = 0; i < {rng.randint(2, 20)}; i++)\n"
            f"        push_front(&head, i * {rng.randint(1, 99)});\n    {calls[function]}\n    return 0;\n}}"
        )
    return code


def _fill_numbers(rng: random.Random, template: str) -> str:
    """``template`` with its ``{number}``, ``{small}``, ``{year}``, ``{month}``, ``{city}``, ``{country}``,
    ``{column}`` and ``{keyword}`` filled (the ones it has)."""
    return (
        template.replace("{number}", str(rng.randint(5, 900)))
        .replace("{small}", str(rng.randint(2, 12)))
        .replace("{year}", str(rng.randint(1990, 2024)))
        .replace("{month}", f"{rng.randint(1, 12):02d}")
        .replace("{city}", pick(rng, _CITIES))
        .replace("{country}", pick(rng, ("UK", "US", "France", "Japan", "Brazil", "India")))
        .replace("{column}", pick(rng, ("b.title", "a.name", "c.city", "title", "name", "o.ordered_at")))
        .replace("{keyword}", pick(rng, ("JOIN", "GROUP", "WHERE", "ON", "HAVING", ")")))
    )


def _sql_attempt(rng: random.Random) -> str:
    """A student's query against the homework's schema: their own choice of tables, columns, filters, grouping,
    ordering and letter case."""
    tables, columns, conditions = _SQL_ATTEMPTS[int(rng.random() * len(_SQL_ATTEMPTS))]
    chosen = rng.sample(columns, rng.randint(2, len(columns)))
    lines = [f"SELECT {', '.join(chosen)}", f"FROM {tables}"]
    if rng.random() < 0.8:
        filters = rng.sample(conditions, rng.randint(1, 2))
        lines.append("WHERE " + " AND ".join(_fill_numbers(rng, condition) for condition in filters))
    plain = [column for column in chosen if "(" not in column]
    if plain and len(plain) < len(chosen):
        lines.append(f"GROUP BY {', '.join(plain)}")
        if rng.random() < 0.4:
            lines.append(f"HAVING COUNT(*) > {rng.randint(1, 10)}")
    if rng.random() < 0.5:
        lines.append(f"ORDER BY {pick(rng, chosen)} {pick(rng, ('DESC', 'ASC', ''))}".rstrip())
        if rng.random() < 0.5:
            lines.append(f"LIMIT {rng.randint(1, 50)}")
    query = "\n".join(lines) + ";"
    return query.lower() if rng.random() < 0.3 else query


# The slots of the homework frames below, registered before they are compiled.
_FILLERS.update(
    {
        "list_function": _choice(_LIST_FUNCTIONS),
        "c_list_code": _c_list_code,
        "list_symptom": lambda rng, values: _fill_numbers(rng, pick(rng, _LIST_SYMPTOMS)),
        "list_concept": _choice(_LIST_CONCEPTS),
        "sql_question": _choice(_SQL_QUESTIONS),
        "sql_attempt": lambda rng, values: _sql_attempt(rng),
        "sql_symptom": lambda rng, values: _fill_numbers(rng, pick(rng, _SQL_SYMPTOMS)),
        "induction_claim": _choice(_INDUCTION_CLAIMS),
        "base_case": lambda rng, values: str(rng.randint(0, 5)),
        "power": lambda rng, values: str(rng.randint(2, 3)),
        "coefficient": lambda rng, values: str(rng.randint(1, 9)),
    }
)


@dataclass(frozen=True, slots=True)
class _Assignment:
    """One homework: what the course hands out (pasted before and after), and the shapes of a student's own work
    in between."""

    opening: str
    closing: str
    work: tuple[_Frame, ...]


_ASSIGNMENTS = (
    _Assignment(
        "CS 201 Lab 5 - Linked lists in C. Implement a singly linked list of ints in linkedlist.c with the functions "
        "push_front, push_back, pop_front, find, reverse and free_list, as declared in linkedlist.h. Every node is "
        "allocated with malloc and every allocation must be freed: the autograder runs the tests under valgrind.",
        "Submission: linkedlist.c only, compiled with gcc -std=c11 -Wall -Wextra without warnings. Do not change "
        "linkedlist.h. You may ask for explanations, but the code you submit must be your own.",
        tuple(
            _compile(frame)
            for frame in (
                "[Here is my|This is my|My] {list_function} [so far|attempt|code]:\n```c\n{c_list_code}\n```\n"
                "[It|The program|My code] {list_symptom}. [What am I doing wrong?|Why?|Can you explain what's wrong "
                "without giving me the answer?|I don't get it.|Any hints?]",
                "[I don't understand|Can you explain|I'm confused about|Quick question about] {list_concept}"
                "[?|. My TA explained it but I didn't follow.|.] [This is my|Here's my|My] {list_function}:"
                "\n```c\n{c_list_code}\n```",
                "[Does my|Will my] {list_function} [work|handle the empty list|pass the autograder]? [Right now it|"
                "At the moment it|It] {list_symptom}."
                "\n```c\n{c_list_code}\n```",
            )
        ),
    ),
    _Assignment(
        "DB 310 Homework 3 - SQL queries. Use the bookstore schema: authors(author_id, name, country), "
        "books(book_id, title, author_id, price, published_year), customers(customer_id, name, city), "
        "orders(order_id, customer_id, ordered_at), order_items(order_id, book_id, quantity). Write one PostgreSQL "
        "query for each question in part B.",
        "Format: one query per question, no views or temporary tables, and a one-sentence explanation of each join. "
        "Queries are checked against the sample output in hw3_expected.txt.",
        tuple(
            _compile(frame)
            for frame in (
                "[I'm stuck on|Question|Help with|Working on] {sql_question}. [My query|This is my query|What I have "
                "so far]:\n```sql\n{sql_attempt}\n```\n[When I run it,|Problem:|The issue:] {sql_symptom}. "
                "[What's wrong?|Why?|How do I fix it?|Can you give me a hint?]",
                "{sql_question}: [is this the right way to do it|does this look right|should I use a subquery here "
                "instead]?\n```sql\n{sql_attempt}\n```",
                "[For|On] {sql_question}, {sql_symptom}[.|:]\n```sql\n{sql_attempt}\n```\n[I've been at this for "
                "an hour.|The lecture examples didn't cover this.|]",
            )
        ),
    ),
    _Assignment(
        "MATH 240 Problem Set 6 - Induction. Prove each statement in part A by mathematical induction. State the "
        "base case, the inductive hypothesis and the inductive step separately, and say where you use the "
        "hypothesis.",
        "Write-up: typeset in LaTeX, one proof per page, in full sentences. Solutions that only check examples "
        "receive no credit.",
        tuple(
            _compile(frame)
            for frame in (
                "[Problem|Exercise|Stuck on problem] A{small}: prove that {induction_claim}.\n[My attempt|What I "
                "have|My proof so far]: [Base case|For the base case]: [I checked|I plugged in|I tried] n = "
                "{base_case} [and both sides are equal|and it works|and it holds]. [Inductive step|Induction step]: "
                "[assume|suppose] it holds for some k >= {base_case}[ and show it for k + 1| and look at k + 1|]. "
                "[Then|So|Now] I [rewrote|expanded] the k + 1 case as (k + 1)^{power} + {coefficient}k [and got "
                "stuck|but I can't see where to use the hypothesis|and I'm not sure how to finish].\n[Is my base "
                "case right?|Where should I use the induction hypothesis?|Is this strong induction or normal "
                "induction?|Can you give me a hint for the inductive step without solving it?|Did I prove it or just "
                "check examples?]",
                "[I don't get|Can you explain|Help me understand] the inductive step in A{small}, {induction_claim}. "
                "[I checked n = 1 to|I tried every n up to|It works for every n up to] {count} [by hand|on paper|in "
                "Python], [but I can't write the proof.|so it must be true, right?|but my TA says that isn't a "
                "proof.]",
            )
        ),
    ),
    _Assignment(
        "BUS 105 Business Communication - Assignment 2. Write a memo paragraph announcing one decision from this "
        "week's case study to employees who missed the meeting. Use plain English, put the decision in the first "
        "sentence, and avoid jargon and the passive voice.",
        "Hand in: 150 words at most, as a .docx file, with a one-line subject. Do not use bullet points.",
        tuple(
            _compile(frame)
            for frame in (
                "[My draft|Here is my draft|Draft|This is what I wrote]:\n\n{paragraph}\n\n[Is it clear enough?|"
                "What is still unclear?|Did I put the decision first?|How can I make the first sentence stronger?|"
                "Is this too long?|Is the tone right for staff?]",
                "[Can you give me feedback on|Please review|What grade would this get for] my memo[?|:|]"
                "\n\n{paragraph}",
            )
        ),
    ),
)
HOMEWORK_FRAMES: tuple[tuple[str, str], ...] = tuple(
    (assignment.opening, assignment.closing) for assignment in _ASSIGNMENTS
)
"""Each homework's fixed opening (the assignment, naming the course) and closing (the required format), which a
student pastes around their own work: a linked list in C, SQL queries on a bookstore schema, proofs by induction,
a business memo. :func:`homework_prompt` takes an index below ``len(HOMEWORK_FRAMES)``."""


def homework_prompt(rng: random.Random, assignment: int) -> str:
    """A student's request about homework number ``assignment``: the handout's opening, the student's own work and
    question (their code, query, proof attempt or draft, each time different), the handout's closing."""
    if not 0 <= assignment < len(_ASSIGNMENTS):
        raise ValueError(f"assignment must be in [0, {len(_ASSIGNMENTS)}), got {assignment!r}")
    chosen = _ASSIGNMENTS[assignment]
    work = chosen.work[int(rng.random() * len(chosen.work))].render(rng)
    if rng.random() < 0.2:
        work = f"{pick(rng, _GREETINGS)} {work}"
    if rng.random() < 0.2:
        work = f"{work}\n{pick(rng, _SIGNOFFS)}"
    return f"{chosen.opening}\n\n{work}\n\n{chosen.closing}"


# --- paraphrase ----------------------------------------------------------------------------------------------------

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "write": ("implement", "create", "produce"),
    "implement": ("write", "build", "code"),
    "create": ("write", "build"),
    "function": ("routine", "method"),
    "explain": ("describe", "clarify"),
    "describe": ("explain", "outline"),
    "include": ("add", "provide"),
    "provide": ("give", "include"),
    "return": ("output", "give"),
    "output": ("return", "print"),
    "only": ("just", "solely"),
    "following": ("given", "next"),
    "efficient": ("fast", "performant"),
    "solution": ("answer", "implementation"),
    "code": ("program", "source"),
    "fix": ("repair", "correct"),
    "corrected": ("fixed", "repaired"),
    "error": ("failure", "fault"),
    "test": ("check",),
    "tests": ("checks", "test cases"),
    "handle": ("deal with", "cope with"),
    "use": ("utilise", "employ"),
    "each": ("every",),
    "every": ("each",),
    "brief": ("short", "concise"),
    "list": ("enumerate", "name"),
    "task": ("problem", "job"),
    "problem": ("task", "exercise"),
    "identify": ("find", "determine"),
    "analyse": ("analyze", "evaluate"),
    "improve": ("enhance", "refine"),
    "suggest": ("propose", "recommend"),
    "comprehensive": ("thorough", "complete"),
    "complete": ("full", "entire"),
    "full": ("complete", "whole"),
    "first": ("initially", "to begin"),
    "then": ("next", "afterwards"),
    "step": ("stage",),
    "steps": ("stages",),
    "show": ("present", "give"),
    "aim": ("try", "strive"),
    "keep": ("maintain", "hold"),
    "cover": ("address", "handle"),
    "respond": ("reply", "answer"),
    "given": ("provided",),
    "expert": ("specialist", "seasoned"),
    "senior": ("experienced", "veteran"),
}
_DROPPABLE = frozenset({"please", "carefully", "very", "really", "also", "just", "briefly", "exactly", "fully"})
_FENCE = re.compile(r"(```.*?(?:```|\Z))", re.DOTALL)
_WORD = re.compile(r"^(\W*)([A-Za-z]+)(\W*)$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def paraphrase(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Lightly reword ``text``, as a campaign does to slip past exact matching, and leave code alone.

    Outside fenced code and indented lines, each word with an entry in a small synonym table is swapped with
    probability ``rate``, each filler word (``please``, ``very``, ...) is dropped with probability ``rate / 2``, and
    each line of two or more sentences has two neighbouring sentences swapped with probability ``rate``. When
    ``rate > 0`` and no synonym was swapped by chance, one is swapped anyway, so a paraphrased prompt always has a
    word changed if any of its words is in the table. At the default rate about a tenth of a campaign prompt's
    words change and the rest stay as they were. Whitespace inside an edited line is collapsed to single spaces.

    Raises :class:`ValueError` for a ``rate`` outside ``[0, 1]``.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate!r}")
    if rate == 0.0:
        return text
    segments = _FENCE.split(text)
    # Odd segments are fenced code; in the prose between them, every non-indented line can be edited.
    lines = [segment.split("\n") if index % 2 == 0 else [segment] for index, segment in enumerate(segments)]
    editable = [
        (segment, line)
        for segment in range(0, len(lines), 2)
        for line, content in enumerate(lines[segment])
        if content.strip() and not content.startswith(("    ", "\t"))
    ]
    swapped = 0
    for segment, line in editable:
        lines[segment][line], swaps = _edit_line(lines[segment][line], rng, rate)
        swapped += swaps
    if not swapped:
        candidates = [
            (segment, line)
            for segment, line in editable
            if any(_swappable(word) for word in lines[segment][line].split())
        ]
        if candidates:
            segment, line = candidates[int(rng.random() * len(candidates))]
            lines[segment][line] = _swap_one(lines[segment][line], rng)
    return "".join("\n".join(segment_lines) for segment_lines in lines)


def _swappable(word: str) -> bool:
    match = _WORD.match(word)
    return match is not None and match.group(2).lower() in _SYNONYMS


def _swap(match: re.Match[str], rng: random.Random) -> str:
    before, core, after = match.groups()
    replacement = pick(rng, _SYNONYMS[core.lower()])
    if core[0].isupper():
        replacement = replacement[0].upper() + replacement[1:]
    return f"{before}{replacement}{after}"


def _swap_one(line: str, rng: random.Random) -> str:
    """``line`` with one of its synonym-table words (there must be one) swapped."""
    indent = line[: len(line) - len(line.lstrip())]
    words = line.split()
    matches = [(index, _WORD.match(word)) for index, word in enumerate(words)]
    swappable = [(index, found) for index, found in matches if found and found.group(2).lower() in _SYNONYMS]
    position, chosen = swappable[int(rng.random() * len(swappable))]
    words[position] = _swap(chosen, rng)
    return indent + " ".join(words)


def _edit_line(line: str, rng: random.Random, rate: float) -> tuple[str, int]:
    """The line edited at ``rate`` (see :func:`paraphrase`) and how many words were swapped for synonyms."""
    indent = line[: len(line) - len(line.lstrip())]
    words = line.split()
    if rng.random() < rate:
        sentences = _SENTENCE_BREAK.split(" ".join(words))
        if len(sentences) >= 2:
            first = int(rng.random() * (len(sentences) - 1))
            sentences[first], sentences[first + 1] = sentences[first + 1], sentences[first]
            words = " ".join(sentences).split()
    kept: list[str] = []
    swaps = 0
    for word in words:
        match = _WORD.match(word)
        if match is None:
            kept.append(word)
            continue
        lowered = match.group(2).lower()
        if lowered in _SYNONYMS and rng.random() < rate:
            kept.append(_swap(match, rng))
            swaps += 1
        elif lowered in _DROPPABLE and not match.group(1) and not match.group(3) and rng.random() < rate / 2:
            continue
        else:
            kept.append(word)
    # A line whose words are all as they were keeps its spacing: nothing was reworded.
    return (line if kept == line.split() else indent + " ".join(kept)), swaps
