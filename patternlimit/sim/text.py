"""Prompt text for the simulator: a compact, seeded grammar, with nothing to download.

The limiter is judged on how it tells a campaign's *templates* from people's *varied* prompts, so the text has to
vary the way real text does: in words, in length, in shape (questions, requests, pasted code, tracebacks, diffs),
and in where the changing part sits. A handful of fixed sentences would make every detector look good. Faker would
give names and addresses but no prompts, and adding it would change the project's dependencies; a grammar of word
lists and frames gives the variety that matters here and stays deterministic for a given ``random.Random``.

The pieces: the frame grammar (:mod:`patternlimit.sim.grammar`), the fixed text and word lists it is written with
(:mod:`patternlimit.sim.corpus`: pure data), the slot fillers (:mod:`patternlimit.sim.fillers`) and the pasted
code they draw on (:mod:`patternlimit.sim.snippets`). This module compiles the frames once at import and assembles
the prompts the scenarios send:

* :func:`organic_prompt`: a person's prompt, from 48 natural-language and code frames, with optional greetings,
  sign-offs, lower-casing and typos;
* :func:`campaign_prompt`: one of :data:`CAMPAIGN_TEMPLATE_COUNT` structured coding and agentic task templates of
  different shapes (personas, JSON tool calls, step lists, short frames with the filler at the start or the end,
  with and without a code payload);
* :func:`ci_prompt`, :func:`tool_prompt` (:data:`TOOL_OPENING` ... :data:`TOOL_CLOSING`), :data:`QUICKSTART`,
  :func:`app_frame` / :func:`app_prompt`, :func:`homework_prompt` (a class's assignment, :data:`HOMEWORK_FRAMES`,
  around each student's own work): the legitimate look-alikes' text;
* :func:`paraphrase` (from :mod:`patternlimit.sim.rewording`): light rewording, for the campaign prompts that are
  paraphrased.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from patternlimit.sim.corpus.frames import (
    AGENT_REQUEST,
    APP_KINDS,
    CAMPAIGN_TEMPLATES,
    CI_FRAME,
    ORGANIC_FRAMES,
    QUICKSTART,
    TOOL_CLOSING,
    TOOL_ENVIRONMENT,
    TOOL_OPENING,
)
from patternlimit.sim.corpus.homework import HANDOUTS
from patternlimit.sim.corpus.words import GREETINGS, SIGNOFFS
from patternlimit.sim.fillers import CODE_SLOTS, FILLERS, paragraph
from patternlimit.sim.grammar import Frame, compile_frame, pick
from patternlimit.sim.rewording import paraphrase

__all__ = [
    "CAMPAIGN_TEMPLATE_COUNT",
    "HOMEWORK_FRAMES",
    "ORGANIC_FRAME_COUNT",
    "QUICKSTART",
    "TOOL_CLOSING",
    "TOOL_OPENING",
    "app_frame",
    "app_prompt",
    "campaign_prompt",
    "ci_prompt",
    "homework_prompt",
    "organic_prompt",
    "paraphrase",
    "tool_prompt",
]

# --- organic prompts -----------------------------------------------------------------------------------------------

_ORGANIC_FRAMES = tuple(compile_frame(frame, FILLERS) for frame in ORGANIC_FRAMES)
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
        text = f"{pick(rng, GREETINGS)} {text}"
    elif roll < 0.30:
        text = f"{pick(rng, GREETINGS)}\n\n{text}"
    if rng.random() < 0.25:
        text = f"{text} {pick(rng, SIGNOFFS)}"
    # Lower-casing or a typo would garble pasted code, which people copy as it is.
    if not frame.uses(CODE_SLOTS):
        if rng.random() < 0.2:
            text = text.lower()
        if rng.random() < 0.15:
            text = _typo(text, rng)
    return text


# --- apps built on the API (one established account each) ----------------------------------------------------------


def app_frame(rng: random.Random) -> tuple[str, str]:
    """The fixed instruction (before) and sign-off (after) of one app built on the API: an established customer's
    own template, which many of its end users' contents pass through."""
    openings, closings = APP_KINDS[int(rng.random() * len(APP_KINDS))]
    return pick(rng, openings), pick(rng, closings)


def app_prompt(rng: random.Random, frame: tuple[str, str]) -> str:
    """One request of the app: its fixed frame around a user's content."""
    content = paragraph(rng) if rng.random() < 0.7 else organic_prompt(rng)
    opening, closing = frame
    return f"{opening}\n\n{content}\n\n{closing}".rstrip()


# --- campaign templates --------------------------------------------------------------------------------------------

_CAMPAIGN_TEMPLATES = tuple(compile_frame(template, FILLERS) for template in CAMPAIGN_TEMPLATES)
CAMPAIGN_TEMPLATE_COUNT = len(_CAMPAIGN_TEMPLATES)
"""How many campaign templates there are; :func:`campaign_prompt` takes an index below it."""


def campaign_prompt(rng: random.Random, template: int) -> str:
    """One prompt of campaign template number ``template`` (``0 <= template < CAMPAIGN_TEMPLATE_COUNT``), with
    fresh fillers: the task, language, names, numbers and code change on every call; the frame does not."""
    if not 0 <= template < CAMPAIGN_TEMPLATE_COUNT:
        raise ValueError(f"template must be in [0, {CAMPAIGN_TEMPLATE_COUNT}), got {template!r}")
    return _CAMPAIGN_TEMPLATES[template].render(rng)


# --- legitimate look-alikes ----------------------------------------------------------------------------------------

_CI_FRAME = compile_frame(CI_FRAME, FILLERS)
_AGENT_REQUEST = compile_frame(AGENT_REQUEST, FILLERS)
_TOOL_ENVIRONMENT = compile_frame(TOOL_ENVIRONMENT, FILLERS)


def ci_prompt(rng: random.Random) -> str:
    """The CI harness's one structured template: tests for a different function of the customer's code each time."""
    return _CI_FRAME.render(rng)


def tool_prompt(rng: random.Random) -> str:
    """A request from the popular agent: its fixed opening, the user's environment and request, its fixed closing."""
    request = organic_prompt(rng) if rng.random() < 0.6 else _AGENT_REQUEST.render(rng)
    return f"{TOOL_OPENING}\n\n{_TOOL_ENVIRONMENT.render(rng)}\n<user>\n{request}\n</user>\n\n{TOOL_CLOSING}"


# --- a class's homework --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Assignment:
    """One homework: what the course hands out (pasted before and after), and the shapes of a student's own work
    in between."""

    opening: str
    closing: str
    work: tuple[Frame, ...]


_ASSIGNMENTS = tuple(
    _Assignment(opening, closing, tuple(compile_frame(frame, FILLERS) for frame in work))
    for opening, closing, work in HANDOUTS
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
        work = f"{pick(rng, GREETINGS)} {work}"
    if rng.random() < 0.2:
        work = f"{work}\n{pick(rng, SIGNOFFS)}"
    return f"{chosen.opening}\n\n{work}\n\n{chosen.closing}"
