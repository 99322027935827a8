"""The fillers of the frame grammar: what each ``{slot}`` of a frame in :mod:`patternlimit.sim.corpus` becomes.

:data:`FILLERS` maps every slot name to the function that fills it; :func:`~patternlimit.sim.grammar.compile_frame`
binds a frame's slots to them, so a frame naming a slot that is not here fails at import.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from patternlimit.sim.corpus.homework import (
    INDUCTION_CLAIMS,
    LIST_CONCEPTS,
    LIST_FUNCTIONS,
    LIST_SYMPTOMS,
    SQL_QUESTIONS,
    SQL_SYMPTOMS,
)
from patternlimit.sim.corpus.words import (
    ACTIVITIES,
    ADJECTIVES,
    APP_DOES,
    BUDGETS,
    CLAIMS,
    CODE_LANGUAGES,
    COMPLEXITIES,
    CONCEPTS,
    CP_TASKS,
    CS_CONCEPTS,
    DOMAINS,
    EDGES,
    EVENTS,
    FOODS,
    FORMS,
    GOALS,
    HISTORIC,
    HISTORY_ASKS,
    HUMAN_LANGUAGES,
    INGREDIENTS,
    LIBRARIES,
    NOUNS,
    PEOPLE,
    PHRASES,
    PLACES,
    PRODUCTS,
    PROJECTS,
    PROSE_OBJECTS,
    PROSE_SUBJECTS,
    PROSE_TAILS,
    PROSE_VERBS,
    QUALIFIERS,
    RELATIONS,
    ROLES,
    SKILLS,
    SQL_ENTITIES,
    SQL_GROUPS,
    SQL_METRICS,
    SQL_TASKS,
    SUBJECTS,
    TASKS,
    TEST_FRAMEWORKS,
    TONES,
    USER_NAMES,
)
from patternlimit.sim.grammar import Filler, pick
from patternlimit.sim.snippets import (
    CODE_WRITERS,
    c_list_code,
    code_snippet,
    fill_numbers,
    plural,
    python_code,
    raw_code,
    regular_expression,
    snake_name,
    sql_attempt,
    stack_trace,
    unified_diff,
)

CODE_SLOTS = frozenset({"code", "snippet", "python_snippet", "snippet_json", "traceback", "diff", "regex"})
"""The slots that paste code, a traceback, a diff or a regular expression into a prompt."""


def paragraph(rng: random.Random) -> str:
    """Two to five sentences of workplace or local news: the text people ask to summarise, proofread or rewrite."""
    return " ".join(
        f"{pick(rng, PROSE_SUBJECTS)} {pick(rng, PROSE_VERBS)} {pick(rng, PROSE_OBJECTS)}{pick(rng, PROSE_TAILS)}."
        for _ in range(rng.randint(2, 5))
    )


def _sql_task(rng: random.Random) -> str:
    entity, other = rng.sample(SQL_ENTITIES, 2)
    return (
        pick(rng, SQL_TASKS)
        .replace("{entities}", plural(entity))
        .replace("{entity}", entity)
        .replace("{others}", plural(other))
        .replace("{metric}", pick(rng, SQL_METRICS))
        .replace("{group}", pick(rng, SQL_GROUPS))
        .replace("{k}", str(rng.randint(2, 20)))
        .replace("{days}", str(rng.choice((7, 14, 30, 90, 365))))
        .replace("{year}", str(rng.randint(2015, 2025)))
    )


def _task(rng: random.Random) -> tuple[str, str]:
    verb, objects = TASKS[int(rng.random() * len(TASKS))]
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
    writer = CODE_WRITERS.get(values.get("language", ""))
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


FILLERS: dict[str, Filler] = {
    "subject": _choice(SUBJECTS),
    "subject2": _other(SUBJECTS, "subject"),
    "task": _fill_task,
    "Task": _fill_task_capitalised,
    "task_s": _fill_task_s,
    "qualifier": _choice(QUALIFIERS),
    "language": _choice(CODE_LANGUAGES),
    "language2": _other(CODE_LANGUAGES, "language"),
    "lang_tag": _fill_lang_tag,
    "library": _choice(LIBRARIES),
    "library2": _other(LIBRARIES, "library"),
    "domain": _choice(DOMAINS),
    "adjective": _choice(ADJECTIVES),
    "fn": lambda rng, values: snake_name(rng),
    "code": lambda rng, values: code_snippet(rng, values.get("language")),
    "snippet": raw_code,
    "python_snippet": lambda rng, values: python_code(rng),
    "snippet_json": lambda rng, values: json.dumps(raw_code(rng, values))[1:-1],
    "traceback": lambda rng, values: stack_trace(rng),
    "diff": lambda rng, values: unified_diff(rng),
    "paragraph": lambda rng, values: paragraph(rng),
    "person": _choice(PEOPLE),
    "event": _choice(EVENTS),
    "place": _choice(PLACES),
    "food": _choice(FOODS),
    "ingredient": _choice(INGREDIENTS),
    "tone": _choice(TONES),
    "form": _choice(FORMS),
    "role": _choice(ROLES),
    "concept": _choice(CONCEPTS),
    "concept2": _other(CONCEPTS, "concept"),
    "human_language": _choice(HUMAN_LANGUAGES),
    "phrase": _choice(PHRASES),
    "relation": _choice(RELATIONS),
    "claim": _choice(CLAIMS),
    "activity": _choice(ACTIVITIES),
    "skill": _choice(SKILLS),
    "goal": _choice(GOALS),
    "product": _choice(PRODUCTS),
    "product2": _other(PRODUCTS, "product"),
    "historic_event": _choice(HISTORIC),
    "history_ask": _choice(HISTORY_ASKS),
    "budget": _choice(BUDGETS),
    "app_does": _choice(APP_DOES),
    "sql_task": lambda rng, values: _sql_task(rng),
    "edge": _choice(EDGES),
    "edge2": _other(EDGES, "edge"),
    "complexity": _choice(COMPLEXITIES),
    "test_framework": _choice(TEST_FRAMEWORKS),
    "cs_concept": _choice(CS_CONCEPTS),
    "cp_task": _choice(CP_TASKS),
    "noun": _choice(NOUNS),
    "count": lambda rng, values: str(rng.randint(3, 12)),
    "number": lambda rng, values: str(rng.randrange(10, 100_000)),
    "small": lambda rng, values: str(rng.randint(2, 12)),
    "words": lambda rng, values: str(100 * rng.randint(3, 15)),
    "limit": lambda rng, values: f"{rng.randint(1, 9)}0^{rng.randint(3, 9)}",
    "age": lambda rng, values: pick(rng, ("five", "ten", "a teenager", "my grandmother", "a golden retriever")),
    "year": lambda rng, values: str(rng.randint(1990, 2025)),
    "path": lambda rng, values: f"src/{pick(rng, NOUNS)}/{snake_name(rng)}.py",
    "paths": lambda rng, values: ", ".join(
        f"{pick(rng, ('src', 'lib', 'app', 'pkg'))}/{snake_name(rng)}.{pick(rng, ('py', 'ts', 'go', 'rs'))}"
        for _ in range(rng.randint(1, 5))
    ),
    "repo": lambda rng, values: f"{pick(rng, USER_NAMES)}/{pick(rng, PROJECTS)}",
    "tables": lambda rng, values: ", ".join(
        f"{plural(noun)}({noun}_id, {pick(rng, NOUNS)}_id, created_at, {pick(rng, NOUNS)})"
        for noun in rng.sample(NOUNS, rng.randint(2, 3))
    ),
    "column": lambda rng, values: f"{pick(rng, NOUNS)}_id",
    "input_example": lambda rng, values: json.dumps(
        {pick(rng, NOUNS): [rng.randrange(100) for _ in range(rng.randint(2, 7))], "k": rng.randrange(1, 9)}
    ),
    "cases": lambda rng, values: "\n".join(
        f"- {pick(rng, EDGES)} -> {pick(rng, ('raises ValueError', 'returns []', 'returns None', 'logs a warning'))}"
        for _ in range(rng.randint(2, 6))
    ),
    "regex": lambda rng, values: regular_expression(rng),
    "attempt": lambda rng, values: pick(
        rng, ("a for loop", "apply()", "a regex", "the docs example", "a list comprehension", "groupby")
    ),
    "wrong": lambda rng, values: pick(rng, ("None", "an empty list", "NaN", "a 403", "the old value")),
    "expected": lambda rng, values: pick(rng, ("the parsed rows", "a dict", "the new value", "a 200", "the total")),
    "user": _choice(USER_NAMES),
    "project": _choice(PROJECTS),
    "platform": _choice(("linux", "darwin", "win32")),
    "git": _choice(("yes", "no")),
    # the homework handouts' slots
    "list_function": _choice(LIST_FUNCTIONS),
    "c_list_code": c_list_code,
    "list_symptom": lambda rng, values: fill_numbers(rng, pick(rng, LIST_SYMPTOMS)),
    "list_concept": _choice(LIST_CONCEPTS),
    "sql_question": _choice(SQL_QUESTIONS),
    "sql_attempt": lambda rng, values: sql_attempt(rng),
    "sql_symptom": lambda rng, values: fill_numbers(rng, pick(rng, SQL_SYMPTOMS)),
    "induction_claim": _choice(INDUCTION_CLAIMS),
    "base_case": lambda rng, values: str(rng.randint(0, 5)),
    "power": lambda rng, values: str(rng.randint(2, 3)),
    "coefficient": lambda rng, values: str(rng.randint(1, 9)),
}
