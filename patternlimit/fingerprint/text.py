"""Prompt text -> pattern keys: a template key, near-duplicate band keys, and a content key.

A campaign sends one prompt template with many fillers from many accounts. :class:`TextFingerprinter` turns each
prompt into keys that stay equal across the fillers:

* ``template``: the structural template of the *frame* (the text with its code payload cut out and its numbers,
  identifiers, quoted strings and URLs replaced by placeholders), hashed over its first and last ``edge_tokens``
  tokens, so a filler of any length in the middle does not split the template;
* ``bands``: band keys of a 64-bit SimHash of the frame's word bigrams (Charikar 2002; Manku, Jain & Das Sarma,
  WWW 2007), shared by near-duplicates whose edges differ;
* ``content``: a keyed hash of the exact (sampled) bytes, for counting distinct fillers per template.

The text is first normalised (:mod:`patternlimit.fingerprint.normalise`: NFKC, invisible characters removed,
Unicode spaces and TR39 look-alikes folded, case folded, common indentation removed), so that mutations a reader
does not see do not change the keys; ASCII text pays only for the case and indentation steps. Then the whole
computation is one numba pass over the bytes (:mod:`patternlimit._kernels.text`, which states every
masking rule; :mod:`patternlimit.fingerprint.tokens` states them in plain Python for labels); inputs longer than
``max_bytes`` are sampled to their first and last ``max_bytes / 2`` bytes, so the cost is capped. See
``docs/fingerprints.md`` for the thresholds and the measured collision rates.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import xxhash

from patternlimit._kernels import text as kernels
from patternlimit._kernels.entry import direct
from patternlimit._kernels.simhash import PLANES, simhash_band_keys
from patternlimit.errors import ConfigurationError
from patternlimit.fingerprint.normalise import normalise, normalise_bytes
from patternlimit.fingerprint.tokens import tokenize
from patternlimit.keying import Keyring

TextInput = str | bytes | bytearray | memoryview

BAND_CHOICES = (1, 2, 4, 8)
"""Allowed ``bands``: blocks of 64, 32, 16 or 8 bits. Narrower blocks collide at random too often to be keys."""

MAX_EDGE_TOKENS = 64
MIN_MAX_BYTES = 64
MAX_MAX_BYTES = 1 << 26

_PLACEHOLDERS = {
    kernels.KIND_NUMBER: "{n}",
    kernels.KIND_IDENTIFIER: "{id}",
    kernels.KIND_STRING: "{str}",
    kernels.KIND_URL: "{url}",
    kernels.KIND_CODE: "{code}",
}
_MAX_LABEL_WORDS = 200
_MAX_LABEL_TOKEN_CHARS = 32
_BATCH_BYTES = 1 << 18
"""Bytes that :meth:`TextFingerprinter.fingerprint_many` hands the kernel per call: few enough to stay in the L2
cache between the copy that joins them and the kernel that reads them, and to bound the memory of a huge batch."""


class TextFingerprint(NamedTuple):
    """The pattern keys of one text. Every key is a keyed hash in ``[0, 2**63)``."""

    template: int
    """Key of the frame's structural template (first and last ``edge_tokens`` frame tokens and the number of
    payload runs, capped at 3); 0 exactly when the text has no frame tokens (nothing to key on)."""
    bands: tuple[int, ...]
    """Near-duplicate band keys (``bands`` blocks of the frame's SimHash, each keyed with its block index); empty
    when the frame has fewer than 2 tokens (no bigram to hash)."""
    content: int
    """Keyed xxh3-64 of the exact sampled bytes of the normalised text, top bit dropped: equal texts (after
    normalisation), equal keys."""
    frame_tokens: int
    """Frame tokens seen in the sample, after consecutive identical placeholders collapse."""
    edges: tuple[int, ...] = ()
    """The opening and closing keys (first and last ``edge_tokens`` frame tokens, each keyed on its own) when the
    frame is longer than ``2 * edge_tokens`` tokens, else empty: a template whose filler sits near one end keeps
    the other end's key."""


# Module-level aliases for the hot path: one global lookup instead of an attribute chain per use.
_text_many_kernel = kernels.text_fingerprint_many
_xxh3 = xxhash.xxh3_64_intdigest
_new_fingerprint = TextFingerprint._make
_OUT_TEMPLATE = kernels.OUT_TEMPLATE
_OUT_FRAME_TOKENS = kernels.OUT_FRAME_TOKENS
_OUT_BANDS = kernels.OUT_BANDS
_OUT_OPENING = kernels.OUT_OPENING
_OUT_CLOSING = kernels.OUT_CLOSING


class _Buffers(threading.local):
    """Per-thread ``out`` and ``scratch`` arrays: allocated once per thread, so a call allocates no array and
    threads never share one (the kernel releases the GIL, and the limiter fingerprints outside its lock)."""

    def __init__(self, bands: int, edge_tokens: int) -> None:
        self.out = np.zeros(kernels.OUT_BANDS + bands, dtype=np.uint64)
        self.scratch = np.zeros(PLANES + edge_tokens, dtype=np.uint64)


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigurationError(f"{name} must be an int in [{low}, {high}], got {value!r}")
    return value


class TextFingerprinter:
    """Turns prompt text into :class:`TextFingerprint` keys under one deployment's :class:`Keyring`.

    ``max_bytes`` (64 to 2**26, default 64 KiB) caps the bytes hashed: longer inputs are sampled to their first and
    last ``max_bytes // 2`` bytes. ``edge_tokens`` (1 to 64, default 8) is how many frame tokens at each end make
    the template. ``bands`` (1, 2, 4 or 8, default 4) is how many band keys the 64-bit SimHash is cut into.

    Thread-safe: each thread gets its own kernel buffers. The cost, wrapper included, is linear in the sampled bytes
    and stops growing at ``max_bytes``; :meth:`fingerprint_many` saves numba's dispatch per text.
    ``pytest benchmarks/test_fingerprint.py`` measures both (docs/fingerprints.md has a run's figures).
    """

    __slots__ = (
        "_buffers",
        "_content_seed",
        "_half",
        "_kernel",
        "_seeds",
        "_unsampled_chars",
        "bands",
        "edge_tokens",
        "max_bytes",
    )

    def __init__(self, keyring: Keyring, *, max_bytes: int = 65536, edge_tokens: int = 8, bands: int = 4) -> None:
        if not isinstance(keyring, Keyring):
            raise ConfigurationError(f"keyring must be a patternlimit.Keyring, got {type(keyring).__name__}")
        self.max_bytes = _check_int("max_bytes", max_bytes, MIN_MAX_BYTES, MAX_MAX_BYTES)
        self.edge_tokens = _check_int("edge_tokens", edge_tokens, 1, MAX_EDGE_TOKENS)
        if not isinstance(bands, int) or isinstance(bands, bool) or bands not in BAND_CHOICES:
            raise ConfigurationError(f"bands must be one of {BAND_CHOICES} (blocks of 64 // bands bits), got {bands!r}")
        self.bands = bands
        self._half = max_bytes // 2
        self._unsampled_chars = max_bytes // 4
        seeds = np.zeros(kernels.SEEDS, dtype=np.uint64)
        seeds[kernels.SEED_TOKEN] = keyring.seed("fingerprint:token")
        seeds[kernels.SEED_TEMPLATE] = keyring.seed("fingerprint:template")
        seeds[kernels.SEED_SHINGLE] = keyring.seed("fingerprint:shingle")
        seeds[kernels.SEED_BAND] = keyring.seed("fingerprint:band")
        self._seeds = seeds
        self._content_seed = keyring.seed("fingerprint:content")
        self._buffers = _Buffers(bands, edge_tokens)
        # Every call passes bytes and this thread's buffers (same types in every thread): the compiled entry, without
        # numba's per-call type dispatch (patternlimit._kernels.entry).
        buffers = self._buffers
        self._kernel = direct(kernels.text_fingerprint, b"", seeds, buffers.out, buffers.scratch)

    def __repr__(self) -> str:
        return f"TextFingerprinter(max_bytes={self.max_bytes}, edge_tokens={self.edge_tokens}, bands={self.bands})"

    def sample(self, text: TextInput) -> bytes:
        """The bytes that are fingerprinted: the UTF-8 (lone surrogates kept) of ``text`` normalised
        (:func:`~patternlimit.fingerprint.normalise.normalise`), capped at ``max_bytes`` by keeping the first and
        last ``max_bytes // 2`` bytes; a longer input is normalised only at those two ends. Raises ``TypeError``
        for anything but text or bytes."""
        half = self._half
        if isinstance(text, str):
            if len(text) > self.max_bytes:
                # Every character encodes to at least one byte, so the sample's head and tail come from at most
                # ``half`` characters at each end: normalise and encode only those, not a megabyte of text.
                head = normalise(text[:half]).encode("utf-8", "surrogatepass")[:half]
                return head + normalise(text[-half:]).encode("utf-8", "surrogatepass")[-half:]
            data = normalise(text).encode("utf-8", "surrogatepass")
        elif isinstance(text, bytes | bytearray | memoryview):
            view = memoryview(text)
            view = view.cast("B") if view.c_contiguous else memoryview(view.tobytes())
            if len(view) > self.max_bytes:
                return normalise_bytes(bytes(view[:half]))[:half] + normalise_bytes(bytes(view[-half:]))[-half:]
            data = normalise_bytes(bytes(view))
        else:
            raise TypeError(f"text must be str, bytes, bytearray or memoryview, got {type(text).__name__}")
        if len(data) > self.max_bytes:
            # NFKC can lengthen a text (a ligature becomes several letters).
            return data[:half] + data[-half:]
        return data

    def fingerprint(self, text: TextInput) -> TextFingerprint:
        """The pattern keys of ``text``. Never raises on any content (invalid UTF-8, NUL bytes, lone surrogates);
        raises ``TypeError`` only when ``text`` is not ``str``, ``bytes``, ``bytearray`` or ``memoryview``."""
        # The common case inline: a str short enough that its UTF-8 (at most 4 bytes a character) fits max_bytes.
        # Each Python call and lookup here costs 30-60 ns, and this wrapper is a fifth of the cost of a 2 KB prompt.
        # Only non-ASCII text can grow under normalisation (NFKC), so only it needs the length check of sample().
        if type(text) is str and len(text) <= self._unsampled_chars and text.isascii():
            data = normalise(text).encode("ascii")
        else:
            data = self.sample(text)
        buffers = self._buffers
        out = buffers.out
        self._kernel(data, self._seeds, out, buffers.scratch)
        values = out.tolist()
        frame_tokens = values[_OUT_FRAME_TOKENS]
        opening = values[_OUT_OPENING]
        return _new_fingerprint(
            (
                values[_OUT_TEMPLATE],
                tuple(values[_OUT_BANDS:]) if frame_tokens >= 2 else (),
                _xxh3(data, self._content_seed) >> 1,
                frame_tokens,
                (opening, values[_OUT_CLOSING]) if opening else (),
            )
        )

    def fingerprint_many(self, texts: Iterable[TextInput]) -> list[TextFingerprint]:
        """The pattern keys of each of ``texts``, in order: ``[self.fingerprint(text) for text in texts]``, key for
        key, at a lower cost per text.

        The samples are joined into one buffer and fingerprinted by one kernel call per 256 KiB of samples, so the
        numba dispatch (about 0.4 us) is paid once per call rather than once per text. Never raises on any content;
        raises ``TypeError`` naming the position of the first element that is not ``str``, ``bytes``,
        ``bytearray`` or ``memoryview``, before any kernel runs for its chunk.
        """
        unsampled = self._unsampled_chars
        results: list[TextFingerprint] = []
        samples: list[bytes] = []
        pending_bytes = 0
        for index, text in enumerate(texts):
            if type(text) is str and len(text) <= unsampled and text.isascii():
                data = normalise(text).encode("ascii")
            else:
                try:
                    data = self.sample(text)
                except TypeError as exc:
                    raise TypeError(f"texts[{index}]: {exc}") from None
            samples.append(data)
            pending_bytes += len(data)
            if pending_bytes >= _BATCH_BYTES:
                results += self._fingerprint_samples(samples)
                samples = []
                pending_bytes = 0
        if samples:
            results += self._fingerprint_samples(samples)
        return results

    def _fingerprint_samples(self, samples: list[bytes]) -> list[TextFingerprint]:
        """:meth:`fingerprint` of each already-sampled text, in one kernel call over their concatenation."""
        offsets = np.zeros(len(samples) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, samples), dtype=np.int64, count=len(samples)), out=offsets[1:])
        out = np.empty((len(samples), kernels.OUT_BANDS + self.bands), dtype=np.uint64)
        _text_many_kernel(b"".join(samples), offsets, self._seeds, out, self._buffers.scratch)
        # Columns as lists, then one tuple per text: a third of the cost of indexing a list per row.
        columns = out.T.tolist()
        content_seed = self._content_seed
        return [
            _new_fingerprint(
                (
                    template,
                    bands if frame_tokens >= 2 else (),
                    _xxh3(data, content_seed) >> 1,
                    frame_tokens,
                    (opening, closing) if opening else (),
                )
            )
            for template, frame_tokens, opening, closing, bands, data in zip(
                columns[_OUT_TEMPLATE],
                columns[_OUT_FRAME_TOKENS],
                columns[_OUT_OPENING],
                columns[_OUT_CLOSING],
                map(tuple, out[:, _OUT_BANDS:].tolist()),
                samples,
                strict=True,
            )
        ]

    def simhash(self, text: TextInput) -> int:
        """The 64-bit SimHash of the frame's bigrams (0 with fewer than 2 frame tokens); for analysis and tests."""
        buffers = self._buffers
        kernels.text_fingerprint(self.sample(text), self._seeds, buffers.out, buffers.scratch)
        return int(buffers.out[kernels.OUT_SIMHASH])

    def band_keys(self, simhash: int) -> tuple[int, ...]:
        """The band keys :meth:`fingerprint` derives from a SimHash value (an int in ``[0, 2**64)``)."""
        if not isinstance(simhash, int) or isinstance(simhash, bool) or not 0 <= simhash < 1 << 64:
            raise ValueError(f"simhash must be an int in [0, 2**64), got {simhash!r}")
        out = np.zeros(self.bands, dtype=np.uint64)
        simhash_band_keys(np.uint64(simhash), self._seeds[kernels.SEED_BAND], out)
        return tuple(out.tolist())

    def label(self, text: TextInput, *, words: int = 12) -> str:
        """A short, ASCII-only, human-readable form of the template, for logs and status pages.

        The first ``words`` frame tokens, `` ... ``, and the last ``min(words, edge_tokens)``, with the same masking
        as the key (``{n}``, ``{id}``, ``{str}``, ``{url}``, and ``{code}`` where payload sits), lower-cased;
        non-ASCII is shown as ``\\x..``/``\\u....`` escapes. Uses the plain-Python tokenizer
        (:mod:`patternlimit.fingerprint.tokens`) that the kernel is tested against, so the label shows exactly the
        tokens the key was made from. Texts longer than
        ``2 * LABEL_BYTES`` are read only at their first and last ``LABEL_BYTES`` (the tokenizer is plain Python:
        about 1 ms per KiB), so a label costs at most a couple of milliseconds; the engine labels a pattern once.
        Never raises on any content.
        """
        _check_int("words", words, 1, _MAX_LABEL_WORDS)
        sample = self.sample(text)
        tail = min(words, self.edge_tokens)
        if len(sample) > 2 * LABEL_BYTES:
            head_parts = [_display(kind, token) for kind, token in tokenize(sample[:LABEL_BYTES])][:words]
            tail_parts = [_display(kind, token) for kind, token in tokenize(sample[-LABEL_BYTES:])][-tail:]
            return " ".join([*head_parts, "...", *tail_parts])
        parts = [_display(kind, token) for kind, token in tokenize(sample)]
        if len(parts) <= words + tail:
            return " ".join(parts)
        skipped = parts[words:-tail]
        middle = "... {code} ..." if "{code}" in skipped else "..."
        return " ".join([*parts[:words], middle, *parts[-tail:]])


LABEL_BYTES = 768
"""Bytes read at each end of a long text by :meth:`TextFingerprinter.label`."""


def _display(kind: int, token: bytes) -> str:
    if kind != kernels.KIND_WORD:
        return _PLACEHOLDERS[kind]
    shown = token.decode("utf-8", "replace").encode("ascii", "backslashreplace").decode("ascii")
    return shown if len(shown) <= _MAX_LABEL_TOKEN_CHARS else shown[: _MAX_LABEL_TOKEN_CHARS - 1] + "~"
