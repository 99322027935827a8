"""The pasted material inside prompts: code in seven languages, tracebacks, diffs, regular expressions, and a
student's C and SQL homework attempts.

Each generator takes the ``random.Random`` it draws from (and, for the ones used as fillers, the slots of the frame
filled so far) and returns plain text; the names and values inside come from the vocabularies in
:mod:`patternlimit.sim.corpus`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from patternlimit.sim.corpus.homework import (
    C_LOCALS,
    C_NEXT_FIELDS,
    C_TYPES,
    C_VALUE_FIELDS,
    CITIES,
    LIST_FUNCTIONS,
    SQL_ATTEMPTS,
)
from patternlimit.sim.corpus.words import CODE_LANGUAGES, CODE_VERBS, ERRORS, NOUNS, REGEX_ATOMS, REGEX_COUNTS
from patternlimit.sim.grammar import pick

# --- code a person pastes ------------------------------------------------------------------------------------------


def plural(noun: str) -> str:
    """The English plural of one of the vocabulary's nouns (``entry`` -> ``entries``, ``batch`` -> ``batches``)."""
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2] not in "aeiou" else noun + "s"


def _title(word: str) -> str:
    """Upper-case the first letter only (``str.capitalize`` would lower the rest of ``loadUser``)."""
    return word[:1].upper() + word[1:]


def snake_name(rng: random.Random) -> str:
    """A function name such as ``load_user``."""
    return f"{pick(rng, CODE_VERBS)}_{pick(rng, NOUNS)}"


def _camel(rng: random.Random) -> str:
    return f"{pick(rng, CODE_VERBS)}{pick(rng, NOUNS).capitalize()}"


def python_code(rng: random.Random) -> str:
    """A short Python function or class, unfenced."""
    name, noun, limit = snake_name(rng), pick(rng, NOUNS), rng.randrange(2, 500)
    nouns = plural(noun)
    if rng.random() < 0.5:
        return (
            f"def {name}({nouns}: list[dict], limit: int = {limit}) -> list[dict]:\n"
            f'    """Return the first {nouns} whose score passes the threshold."""\n'
            f"    result = []\n    for {noun} in {nouns}:\n"
            f"        if {noun}.get('{pick(rng, NOUNS)}', 0) > {rng.randrange(100)}:\n"
            f"            result.append({noun})\n        if len(result) >= limit:\n            break\n"
            f"    return result"
        )
    other = pick(rng, NOUNS)
    others = plural(other)
    return (
        f"class {noun.capitalize()}{other.capitalize()}:\n    def __init__(self, size={limit}):\n"
        f"        self.size = size\n        self.{others} = {{}}\n\n    def {name}(self, key):\n"
        f"        if key not in self.{others}:\n            self.{others}[key] = self._load(key)\n"
        f"        return self.{others}[key] * {rng.randrange(2, 9)}"
    )


def _javascript_code(rng: random.Random) -> str:
    name, noun = _camel(rng), pick(rng, NOUNS)
    nouns = plural(noun)
    if rng.random() < 0.5:
        return (
            f"async function {name}(url, retries = {rng.randrange(1, 6)}) {{\n"
            f"  const response = await fetch(`${{url}}/{nouns}?limit={rng.randrange(10, 200)}`);\n"
            f"  if (!response.ok && retries > 0) return {name}(url, retries - 1);\n"
            f"  const data = await response.json();\n  return data.{nouns}.filter((x) => x.{pick(rng, NOUNS)});\n}}"
        )
    return (
        f"export const {name} = ({nouns}) =>\n  {nouns}\n    .map(({noun}) => ({{ ...{noun}, "
        f"total: {noun}.price * {rng.randrange(2, 20)} }}))\n    .reduce((sum, item) => sum + item.total, 0);"
    )


def _go_code(rng: random.Random) -> str:
    name, noun = _title(_camel(rng)), pick(rng, NOUNS)
    nouns = plural(noun)
    return (
        f"func {name}({nouns} []{noun.capitalize()}, limit int) ([]{noun.capitalize()}, error) {{\n"
        f'\tif limit <= 0 {{\n\t\treturn nil, fmt.Errorf("limit must be positive, got %d", limit)\n\t}}\n'
        f"\tout := make([]{noun.capitalize()}, 0, {rng.randrange(4, 64)})\n\tfor _, item := range {nouns} {{\n"
        f"\t\tif item.{pick(rng, NOUNS).capitalize()} > {rng.randrange(100)} {{\n\t\t\tout = append(out, item)\n"
        f"\t\t}}\n\t}}\n\treturn out, nil\n}}"
    )


def _rust_code(rng: random.Random) -> str:
    name, noun = snake_name(rng), pick(rng, NOUNS)
    nouns = plural(noun)
    return (
        f"pub fn {name}({nouns}: &[{noun.capitalize()}], threshold: u32) -> Vec<&{noun.capitalize()}> {{\n"
        f"    {nouns}\n        .iter()\n        .filter(|item| item.{pick(rng, NOUNS)} > threshold + "
        f"{rng.randrange(50)})\n        .take({rng.randrange(2, 100)})\n        .collect()\n}}"
    )


def _java_code(rng: random.Random) -> str:
    name, noun = _camel(rng), pick(rng, NOUNS)
    kind, nouns = noun.capitalize(), plural(noun)
    return (
        f"public static List<{kind}> {name}(List<{kind}> {nouns}, int limit) {{\n"
        f"    List<{kind}> result = new ArrayList<>();\n    for ({kind} item : {nouns}) {{\n"
        f"        if (item.get{pick(rng, NOUNS).capitalize()}() > {rng.randrange(100)}) result.add(item);\n"
        f"        if (result.size() >= limit) break;\n    }}\n    return result;\n}}"
    )


def _cpp_code(rng: random.Random) -> str:
    name, noun = snake_name(rng), pick(rng, NOUNS)
    nouns = plural(noun)
    return (
        f"std::vector<int> {name}(const std::vector<int>& {nouns}, int k) {{\n"
        f"    std::vector<int> out;\n    out.reserve({nouns}.size());\n"
        f"    for (int value : {nouns}) {{\n        if (value % k == {rng.randrange(10)}) out.push_back(value);\n"
        f"    }}\n    std::sort(out.begin(), out.end());\n    return out;\n}}"
    )


# Each code language: its Markdown fence tag and the function that writes code in it.
CODE_WRITERS: dict[str, tuple[str, Callable[[random.Random], str]]] = {
    "Python": ("python", python_code),
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
    writer = CODE_WRITERS.get(language or "") or CODE_WRITERS[pick(rng, CODE_LANGUAGES)]
    return f"```{writer[0]}\n{writer[1](rng)}\n```"


def raw_code(rng: random.Random, values: dict[str, str]) -> str:
    """Unfenced code in the frame's ``{language}`` (random when it has none)."""
    writer = CODE_WRITERS.get(values.get("language", "")) or CODE_WRITERS[pick(rng, CODE_LANGUAGES)]
    return writer[1](rng)


def stack_trace(rng: random.Random) -> str:
    """A fenced Python traceback of one to four frames from a web app."""
    noun = pick(rng, NOUNS)
    kind, message = ERRORS[int(rng.random() * len(ERRORS))]
    message = message.replace("{nouns}", plural(noun)).replace("{noun}", noun).replace("{word}", pick(rng, NOUNS))
    frames = "".join(
        f'  File "/srv/app/{pick(rng, NOUNS)}/{pick(rng, NOUNS)}.py", line {rng.randrange(5, 900)}, '
        f"in {snake_name(rng)}\n    {snake_name(rng)}({pick(rng, NOUNS)})\n"
        for _ in range(rng.randint(1, 4))
    )
    return f"```\nTraceback (most recent call last):\n{frames}{kind}: {message}\n```"


def unified_diff(rng: random.Random) -> str:
    """A fenced one-hunk diff of a Python file."""
    path = f"src/{pick(rng, NOUNS)}/{snake_name(rng)}.py"
    line = rng.randrange(1, 400)
    noun = pick(rng, NOUNS)
    return (
        f"```diff\n--- a/{path}\n+++ b/{path}\n@@ -{line},6 +{line},7 @@ def {snake_name(rng)}({noun}):\n"
        f"     {noun} = {snake_name(rng)}({noun})\n-    if {noun} is None:\n-        return {rng.randrange(100)}\n"
        f"+    if not {noun}:\n+        logger.warning('empty {noun}')\n+        return {rng.randrange(100)}\n"
        f"     return {noun}.{pick(rng, NOUNS)}\n```"
    )


def regular_expression(rng: random.Random) -> str:
    """A regular expression someone found in their code base and cannot read."""
    parts = []
    for _ in range(rng.randint(2, 5)):
        piece = pick(rng, REGEX_ATOMS) + pick(rng, REGEX_COUNTS)
        roll = rng.random()
        if roll < 0.25:
            piece = f"({piece})"
        elif roll < 0.35:
            piece = f"(?:{piece}|{pick(rng, REGEX_ATOMS)})"
        parts.append(piece)
        if rng.random() < 0.3:
            parts.append(pick(rng, ("-", "@", r"\.", ":", "/", "_")))
    anchors = rng.random()
    body = "".join(parts)
    return f"^{body}$" if anchors < 0.4 else (rf"\b{body}\b" if anchors < 0.6 else body)


# --- a student's homework attempts ---------------------------------------------------------------------------------


def c_list_code(rng: random.Random, values: dict[str, str]) -> str:
    """A student's attempt at one of the lab's functions (``{list_function}``, random when not filled yet) with
    their own names, half the time with that function's classic bug, half the time with the ``main`` they test
    it from."""
    kind, value, link = pick(rng, C_TYPES), pick(rng, C_VALUE_FIELDS), pick(rng, C_NEXT_FIELDS)
    local = pick(rng, C_LOCALS)
    function = values.get("list_function") or pick(rng, LIST_FUNCTIONS)
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


def fill_numbers(rng: random.Random, template: str) -> str:
    """``template`` with its ``{number}``, ``{small}``, ``{year}``, ``{month}``, ``{city}``, ``{country}``,
    ``{column}`` and ``{keyword}`` filled (the ones it has)."""
    return (
        template.replace("{number}", str(rng.randint(5, 900)))
        .replace("{small}", str(rng.randint(2, 12)))
        .replace("{year}", str(rng.randint(1990, 2024)))
        .replace("{month}", f"{rng.randint(1, 12):02d}")
        .replace("{city}", pick(rng, CITIES))
        .replace("{country}", pick(rng, ("UK", "US", "France", "Japan", "Brazil", "India")))
        .replace("{column}", pick(rng, ("b.title", "a.name", "c.city", "title", "name", "o.ordered_at")))
        .replace("{keyword}", pick(rng, ("JOIN", "GROUP", "WHERE", "ON", "HAVING", ")")))
    )


def sql_attempt(rng: random.Random) -> str:
    """A student's query against the homework's schema: their own choice of tables, columns, filters, grouping,
    ordering and letter case."""
    tables, columns, conditions = SQL_ATTEMPTS[int(rng.random() * len(SQL_ATTEMPTS))]
    chosen = rng.sample(columns, rng.randint(2, len(columns)))
    lines = [f"SELECT {', '.join(chosen)}", f"FROM {tables}"]
    if rng.random() < 0.8:
        filters = rng.sample(conditions, rng.randint(1, 2))
        lines.append("WHERE " + " AND ".join(fill_numbers(rng, condition) for condition in filters))
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
