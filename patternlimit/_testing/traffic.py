"""Hand-built traffic for the tests and benchmarks: small, explicit, one shape per legitimate look-alike."""

from __future__ import annotations

import random

from patternlimit import Request

DAY = 86400.0
START = 1_760_000_000.0

TASKS = [
    "parses an ISO date",
    "merges two sorted lists",
    "computes a rolling median",
    "validates an email address",
    "flattens nested dictionaries",
    "retries a request with backoff",
    "deduplicates a stream",
    "renders a table",
    "reads a CSV file lazily",
    "builds a trie",
    "finds strongly connected components",
    "encodes run lengths",
    "checks balanced brackets",
    "schedules jobs by priority",
    "caches results with a TTL",
    "diffs two texts",
    "tokenizes arithmetic",
    "paginates an API",
    "hashes passwords safely",
    "resizes images in a folder",
]
SUBJECTS = [
    "photosynthesis",
    "the french revolution",
    "black holes",
    "compound interest",
    "the immune system",
    "supply chains",
    "quantum tunnelling",
    "medieval castles",
    "volcanoes",
    "the stock market",
    "jazz harmony",
    "ocean currents",
    "plate tectonics",
    "bread baking",
    "chess openings",
    "electric cars",
    "coral reefs",
]
OPENINGS = [
    "can you explain",
    "please summarize",
    "what do you think about",
    "tell me a story involving",
    "write a poem about",
    "give me three facts on",
    "how would a child describe",
    "compare and contrast",
    "list the pros and cons of",
    "draft an email to my team about",
    "what are common myths about",
]


def campaign_prompt(rng: random.Random) -> str:
    """One structured coding template with varied fillers: the campaign's shape."""
    task = rng.choice(TASKS)
    detail = rng.choice(["edge cases", "performance", "memory use", "error handling", "unicode input"])
    code = "\n".join(f"    line_{rng.randrange(10**6)} = {rng.randrange(1000)}" for _ in range(rng.randint(2, 6)))
    return (
        "You are an expert software engineer. Write a Python function that "
        f"{task}, paying attention to {detail} and {rng.choice(TASKS)}.\n```python\n{code}\n```\n"
        "Include type hints, a docstring and three unit tests. Return only code."
    )


def organic_prompt(rng: random.Random) -> str:
    """Varied natural-language prompts: many openings, subjects and lengths."""
    words = " ".join(rng.choice(SUBJECTS + TASKS) for _ in range(rng.randint(1, 4)))
    tail = rng.choice(["", " in simple terms", " for a beginner", " with examples", " briefly", " step by step"])
    return f"{rng.choice(OPENINGS)} {words}{tail}{rng.choice(['?', '.', '!'])} {rng.randrange(10**9)}"


def ip(rng: random.Random, prefixes: int | None = None) -> str:
    if prefixes is None:
        return f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return f"198.51.{rng.randrange(prefixes)}.{rng.randrange(1, 255)}"


def stream(requests: list[tuple[float, Request]]) -> list[tuple[float, Request]]:
    return sorted(requests, key=lambda pair: pair[0])


def campaign(
    seed: int = 1, accounts: int = 120, per_account: int = 6, prefixes: int = 8
) -> list[tuple[float, Request]]:
    """Young accounts (created within the day), a small proxy pool, spread over two hours."""
    rng = random.Random(seed)
    out = []
    for index in range(accounts):
        created = START - rng.uniform(0, DAY)
        for _ in range(per_account):
            request = Request(
                account=f"campaign-{seed}-{index}",
                ip=ip(rng, prefixes),
                text=campaign_prompt(rng),
                route="/v1/messages",
                client="python-httpx/0.27",
                account_created_at=created,
            )
            out.append((START + rng.uniform(0, 7200), request))
    return stream(out)


def ci_harness(requests: int = 2000) -> list[tuple[float, Request]]:
    """One established account sending one structured template at high volume."""
    rng = random.Random(2)
    return [
        (
            START + index * 3600.0 / requests,
            Request(
                account="ci-bot",
                ip="203.0.113.10",
                text=campaign_prompt(rng),
                route="/v1/messages",
                account_created_at=START - 400 * DAY,
            ),
        )
        for index in range(requests)
    ]


def corporate_nat(accounts: int = 300, per_account: int = 4) -> list[tuple[float, Request]]:
    rng = random.Random(3)
    out = []
    for index in range(accounts):
        created = START - rng.uniform(30, 900) * DAY
        for _ in range(per_account):
            request = Request(
                account=f"corp-{index}", ip="192.0.2.1", text=organic_prompt(rng), account_created_at=created
            )
            out.append((START + rng.uniform(0, 3600), request))
    return stream(out)


def flash_crowd(accounts: int = 600, per_account: int = 3) -> list[tuple[float, Request]]:
    rng = random.Random(4)
    out = []
    for index in range(accounts):
        created = START + rng.uniform(0, 1800)
        for _ in range(per_account):
            moment = created + rng.uniform(0, 1800)
            request = Request(account=f"new-{index}", ip=ip(rng), text=organic_prompt(rng), account_created_at=created)
            out.append((moment, request))
    return stream(out)


QUICKSTART = "Hello, Claude! Summarize the following text in three bullet points: The quick brown fox jumps."


def launch_crowd(accounts: int = 600) -> list[tuple[float, Request]]:
    """Brand-new accounts that send the quickstart example once or twice, then a few prompts of their own."""
    rng = random.Random(5)
    out = []
    for index in range(accounts):
        created = START + rng.uniform(0, 1800)
        account = f"launch-{index}"
        address = ip(rng)
        for copy in range(rng.randint(1, 2)):
            out.append(
                (created + 10 + copy, Request(account=account, ip=address, text=QUICKSTART, account_created_at=created))
            )
        for _ in range(rng.randint(0, 3)):
            text = organic_prompt(rng)
            out.append(
                (
                    created + rng.uniform(60, 1800),
                    Request(account=account, ip=address, text=text, account_created_at=created),
                )
            )
    return stream(out)


def homework_prompt(rng: random.Random) -> str:
    """One class's homework frame around a student's own attempt: the campaign's shape, from a classroom."""
    code = "\n".join(f"    step_{rng.randrange(10**6)} = {rng.randrange(1000)}" for _ in range(rng.randint(2, 6)))
    return (
        "CS 101, homework 3. Review my solution to this exercise and explain my mistakes: write a Python "
        f"function that {rng.choice(TASKS)} and {rng.choice(TASKS)}.\n```python\n{code}\n```\n"
        "Explain in under 200 words, without giving the full answer."
    )


def classroom(
    students: int = 120,
    per_student: int = 8,
    campus: str | None = "128.32.10.77",
    seed: int = 6,
    remote: int = 0,
) -> list[tuple[float, Request]]:
    """A class of brand-new accounts behind the campus NAT (``campus``; ``None``: the address is unknown), one
    homework frame with each student's own attempts, over a two-hour lab; the last ``remote`` students work from
    their own public addresses."""
    rng = random.Random(seed)
    out = []
    for index in range(students):
        created = START - rng.uniform(0, DAY)
        home = f"81.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        address = home if index >= students - remote else campus or ""
        for _ in range(per_student):
            request = Request(
                account=f"student-{index}",
                ip=address,
                text=homework_prompt(rng),
                route="/v1/messages",
                account_created_at=created,
            )
            out.append((START + rng.uniform(0, 7200), request))
    return stream(out)
