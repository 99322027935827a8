"""The simulator's vocabularies: what fills the slots of the prompt frames, and the paraphraser's word tables.

Pure data: tuples of words and phrases, read by :mod:`patternlimit.sim.fillers`, :mod:`patternlimit.sim.snippets`
and :mod:`patternlimit.sim.rewording`. The order and length of every tuple are part of the generated traffic (a
seeded draw picks by index), so editing one changes the stream of every seed.
"""

from __future__ import annotations

# --- the topics, tasks and things people ask about ------------------------------------------------------------------

SUBJECTS = (
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
TASKS = (
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
QUALIFIERS = (
    "", "", "", " without recursion", " in O(n log n) time", " using only the standard library",
    " for streaming input", " that is safe to call from several threads", " with constant extra memory",
    " for inputs of up to 10^6 items", " without external dependencies", " that handles malformed input gracefully",
)  # fmt: skip
CODE_LANGUAGES = ("Python", "JavaScript", "TypeScript", "Go", "Rust", "Java", "C++")
LIBRARIES = (
    "pandas", "numpy", "React", "Django", "FastAPI", "Express", "tokio", "serde", "Spring Boot", "SQLAlchemy",
    "pytest", "requests", "lodash", "PyTorch", "Flask", "Next.js", "Vue", "polars", "asyncio", "Kubernetes",
    "Terraform", "Redis", "PostgreSQL", "Celery", "gRPC", "Tailwind", "Jest", "scikit-learn", "Kafka", "Docker",
)  # fmt: skip
DOMAINS = (
    "e-commerce", "healthcare", "logistics", "fintech", "education", "gaming", "real estate", "travel", "insurance",
    "agriculture", "media", "energy", "legal", "hospitality", "manufacturing",
)  # fmt: skip
ADJECTIVES = (
    "fast", "readable", "robust", "thread-safe", "idiomatic", "memory-efficient", "well-tested", "simple",
    "production-ready", "maintainable", "secure", "portable",
)  # fmt: skip
NOUNS = (
    "user", "order", "invoice", "cache", "token", "session", "record", "event", "payload", "item", "node", "edge",
    "account", "message", "config", "report", "batch", "query", "price", "score", "entry", "buffer", "chunk", "row",
)  # fmt: skip
CODE_VERBS = (
    "get", "load", "parse", "build", "update", "merge", "find", "compute", "check", "normalize", "fetch", "render",
    "apply", "sort", "split", "collect", "resolve", "validate",
)  # fmt: skip
ERRORS = (
    ("KeyError", "'{noun}_id'"), ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'"),
    ("ValueError", "invalid literal for int() with base 10: '{word}'"),
    ("AttributeError", "'NoneType' object has no attribute '{noun}'"),
    ("IndexError", "list index out of range"), ("ZeroDivisionError", "division by zero"),
    ("RecursionError", "maximum recursion depth exceeded"), ("UnicodeDecodeError", "'utf-8' codec can't decode byte"),
    ("ConnectionError", "HTTPSConnectionPool(host='api.{noun}.io', port=443): Max retries exceeded"),
    ("FileNotFoundError", "[Errno 2] No such file or directory: '{nouns}.json'"),
)  # fmt: skip
PEOPLE = ("my manager", "a client", "my landlord", "my team", "a professor", "the hiring manager", "my neighbour",
           "our investors", "a supplier", "my colleague")  # fmt: skip
EVENTS = ("the project delay", "a team offsite", "the budget review", "my resignation", "a product launch",
           "a missed deadline", "the holiday schedule", "a refund request", "the office move",
           "a birthday party")  # fmt: skip
PLACES = ("Lisbon", "Kyoto", "Mexico City", "Iceland", "the Scottish Highlands", "Cape Town", "Vancouver", "Hanoi",
           "Marrakech", "the Amalfi coast", "Buenos Aires", "Seoul", "Tasmania", "Prague")  # fmt: skip
FOODS = ("lasagna", "pad thai", "banana bread", "a vegan curry", "pancakes", "shakshuka", "ramen", "chili",
          "a lemon tart", "falafel", "risotto", "brownies", "dumplings", "paella", "a quiche", "tacos", "moussaka",
          "carrot cake", "pho", "gnocchi")  # fmt: skip
INGREDIENTS = ("eggs", "gluten", "dairy", "an oven", "sugar", "nuts", "garlic", "butter", "a blender", "soy",
                "onions", "meat")  # fmt: skip
TONES = ("more formal", "friendlier", "less passive-aggressive", "more persuasive", "shorter", "more professional",
          "warmer", "more confident")  # fmt: skip
FORMS = ("haiku", "limerick", "sonnet", "short poem", "song chorus", "two-line rhyme", "short story")
ROLES = ("data analyst", "backend engineer", "product manager", "nurse", "teacher", "UX designer", "accountant",
          "site reliability engineer", "marketing lead", "paralegal")  # fmt: skip
CONCEPTS = ("microservices", "a monolith", "serverless", "event sourcing", "GraphQL", "REST", "NoSQL", "SQL",
             "recursion", "closures", "generics", "async/await", "dependency injection", "pointers", "ownership",
             "decorators", "list comprehensions", "interfaces", "caching", "sharding")  # fmt: skip
HUMAN_LANGUAGES = ("Spanish", "French", "German", "Japanese", "Portuguese", "Italian", "Korean", "Dutch", "Polish")
PHRASES = ("where is the train station", "I would like to book a table for two", "thank you for your patience",
            "the meeting is moved to Thursday", "could you send me the invoice", "happy birthday, my friend",
            "I am allergic to peanuts", "how much does this cost", "my luggage did not arrive",
            "we are running ten minutes late", "congratulations on the new job", "please find the report attached",
            "is this seat taken", "I lost my passport", "can I pay by card")  # fmt: skip
RELATIONS = ("uncle", "roommate", "coworker", "grandma", "gym coach", "friend", "dentist", "sister", "boss",
              "teacher")  # fmt: skip
CLAIMS = ("we only use 10% of our brains", "cracking knuckles causes arthritis", "goldfish have a 3-second memory",
           "lightning never strikes twice", "sugar makes kids hyper", "bulls hate the colour red",
           "the great wall is visible from space", "you lose most body heat through your head",
           "bats are blind", "shaving makes hair grow back thicker", "you should wait an hour after eating to swim",
           "microwaves make food radioactive", "napoleon was very short", "humans have five senses",
           "vikings wore horned helmets", "dropping a penny from a skyscraper can kill someone")  # fmt: skip
ACTIVITIES = ("practice", "study", "train", "read", "rehearse")
SKILLS = ("the guitar", "chess", "Spanish", "drawing", "public speaking", "typing", "swimming", "calculus",
           "the piano", "coding interviews", "climbing", "watercolour", "sight reading", "touch rugby", "Japanese",
           "writing fiction", "juggling", "photography")  # fmt: skip
GOALS = ("running a 5k", "building strength", "losing weight", "improving flexibility", "a beginner",
          "a bad knee", "a marathon in spring", "hiking season", "better posture", "someone over sixty")  # fmt: skip
PRODUCTS = ("a MacBook Air", "a ThinkPad", "an iPad", "a Kindle", "a standing desk", "a heat pump", "an e-bike",
             "a mirrorless camera", "a used Honda Civic", "a Raspberry Pi")  # fmt: skip
HISTORIC = ("the fall of the Berlin Wall", "the moon landing", "the signing of the Magna Carta",
             "the invention of the telephone", "the Meiji restoration", "the first world war", "the Black Death",
             "the founding of Rome", "the Norman conquest", "the Cuban missile crisis", "the fall of Constantinople",
             "the Glorious Revolution", "the invention of the transistor", "the partition of India",
             "the Boston Tea Party", "the first transatlantic flight", "the discovery of penicillin",
             "the end of apartheid", "the Chernobyl disaster", "the launch of Sputnik")  # fmt: skip
HISTORY_ASKS = ("why does it matter", "what led up to it", "who was involved", "what changed after it",
                 "is it still taught the same way", "explain it for my history class")  # fmt: skip
BUDGETS = ("tight", "moderate", "generous", "student", "family")
APP_DOES = ("tracks habits", "splits bills", "finds dog sitters", "plans meals", "books tennis courts",
             "swaps books between neighbours", "reminds people to water plants")  # fmt: skip
SQL_TASKS = (
    "returns the top {k} {entities} by {metric} in the last {days} days",
    "finds {entities} with no {others} since {year}",
    "computes the monthly {metric} of each {group}", "lists {entities} whose {metric} changed more than {k} times",
    "deletes duplicate {entities} but keeps the newest one", "ranks {entities} by {metric} within each {group}",
    "finds gaps in the sequence of {entity} ids", "pivots daily {metric} into one column per {group}",
)  # fmt: skip
SQL_ENTITIES = ("customer", "order", "user", "product", "employee", "invoice", "session", "ticket", "shipment")
SQL_METRICS = ("revenue", "order count", "average basket size", "refund total", "retention", "churn", "price")
SQL_GROUPS = ("region", "department", "signup cohort", "weekday", "store", "plan", "sales rep")
EDGES = ("empty input", "very large inputs", "unicode text", "negative numbers", "duplicate keys", "null values",
          "concurrent writers", "timeouts", "integer overflow", "malformed records", "a single element")  # fmt: skip
COMPLEXITIES = ("O(n)", "O(n log n)", "O(log n)", "O(1) amortised", "O(n^2)")
TEST_FRAMEWORKS = ("pytest", "Jest", "JUnit 5", "Go's testing package", "Vitest", "unittest", "RSpec")
CS_CONCEPTS = ("dynamic programming", "consistent hashing", "the CAP theorem", "B-trees", "two-phase commit",
                "copy-on-write", "backpressure", "memoization", "tail-call optimisation", "the actor model",
                "Raft consensus", "bloom filters", "lock-free queues", "write-ahead logging", "skip lists",
                "vector clocks", "CRDTs", "garbage collection", "LSM trees", "union-find", "segment trees",
                "the Paxos algorithm", "MVCC", "rope data structures", "HyperLogLog", "green threads",
                "the borrow checker", "SIMD vectorisation", "cache-oblivious algorithms", "tries")  # fmt: skip
CP_TASKS = ("count the pairs whose sum is divisible by K", "find the length of the longest subarray with sum K",
             "return the number of distinct subsequences of length K", "minimise the maximum of K partitions",
             "find the K-th smallest pairwise distance", "count the subarrays whose XOR equals K")  # fmt: skip
PROSE_SUBJECTS = ("The committee", "Our team", "The new policy", "Most customers", "The city council",
                   "My neighbour", "The quarterly report", "The startup", "Several employees", "The school board",
                   "The vendor", "Local residents")  # fmt: skip
PROSE_VERBS = ("approved", "rejected", "discussed", "delayed", "announced", "criticised", "reviewed", "postponed",
                "welcomed", "questioned", "funded", "cancelled")  # fmt: skip
PROSE_OBJECTS = ("the new budget", "a pilot program", "the shipping schedule", "the proposed merger",
                  "the parking rules", "a four-day work week", "the renovation plan", "the price increase",
                  "the hiring freeze", "a partnership with a local charity")  # fmt: skip
PROSE_TAILS = ("", " last week", " after a long debate", ", which surprised everyone", " despite strong objections",
                " without much explanation", " for the third time this year", " on Monday morning")  # fmt: skip
GREETINGS = ("hi", "Hi!", "hey", "Hello,", "hey there", "ok so", "quick question:", "Good morning!", "Hi Claude,",
              "hello", "Hey, hope you're well.", "Question:")  # fmt: skip
SIGNOFFS = ("thanks", "Thanks!", "thank you so much", "ty", "keep it short please", "no need for a long answer",
             "I'm a beginner, so go easy on the jargon.", "This is for a school project.", "asap pls", "Cheers.",
             "Explain like I'm new to this.", "bullet points are fine")  # fmt: skip
USER_NAMES = ("alex", "sam", "priya", "jordan", "mei", "lucas", "fatima", "noah", "olga", "diego", "kim", "dev")
PROJECTS = ("webapp", "api-server", "dotfiles", "ml-pipeline", "shop", "blog", "infra", "cli-tool", "game", "bot")

# --- code -----------------------------------------------------------------------------------------------------------

# The atoms and counts a regular expression is built from.
REGEX_ATOMS = (r"\d", r"[A-Z]", r"[a-z]", r"\w", r"[\w.+-]", r"\s", r"[^@\s]", r"[0-9a-f]", r".")
REGEX_COUNTS = ("", "+", "*", "?", "{2}", "{3}", "{4}", "{2,4}", "{1,3}", "{8,}")

# --- paraphrase -----------------------------------------------------------------------------------------------------

# Words a campaign's light rewording swaps for a synonym (the key in lower case; the case of its first letter is kept).
SYNONYMS: dict[str, tuple[str, ...]] = {
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
# Filler words the rewording may drop.
DROPPABLE = ("please", "carefully", "very", "really", "also", "just", "briefly", "exactly", "fully")
