"""Human-readable labels of pattern keys, for reasons, logs and :meth:`Limiter.top_patterns`.

A key is labelled from a sample of a request that carried it: a clipped copy of what a label reads. A label costs
about a millisecond (the text's frame is rebuilt), so it is made only when a decision reports the key, or when
``top_patterns`` asks; a busy key keeps a sample until then. Labels and samples are bounded tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from patternlimit._kernels.layout import HITS
from patternlimit._tables import BoundedTable
from patternlimit.engine.facts import RequestFacts
from patternlimit.fingerprint import TextFingerprinter

LABEL_AFTER_HITS = 8
"""A key keeps a sample of its request once it has this many hits, to be labelled on demand."""

SAMPLES = 4096
"""Keys whose sample (a clipped copy of what a label needs, at most about 5 KiB) is kept for labelling."""

LABEL_STRIDE = 16
"""Keys are considered for a kept sample on one request in this many: a busy key is still sampled within a few
dozen of its requests (top_patterns lists keys with hundreds), and when more keys pass ``LABEL_AFTER_HITS`` than
``SAMPLES`` holds, the table's churn (a copy of the request and an eviction per key) is paid a sixteenth as
often."""

_CLIP = 768
"""Bytes (or characters) of a sample's text kept at each end: what a label reads anyway."""

_SHORT = 60
"""Characters kept of the other facts of a sample (client, route, account, attributes)."""


class Sample(NamedTuple):
    """What a label needs of a request, copied and clipped so that a kept sample is at most a few KiB."""

    text: str | bytes
    network: str
    account: str
    client: str
    route: str
    attributes: dict[str, str]

    @classmethod
    def of(cls, facts: RequestFacts) -> Sample:
        request = facts.request
        text = request.text
        if len(text) > 2 * _CLIP:
            text = text[:_CLIP] + text[-_CLIP:]  # type: ignore[operator]  # both halves are str, or both bytes
        attributes = {
            str(name)[:_SHORT]: str(value)[:_SHORT] for name, value in list(request.attributes.items())[:_SHORT]
        }
        return cls(
            text,
            facts.network or "(invalid)",
            facts.account_name[:_SHORT],
            request.client[:_SHORT],
            request.route[:_SHORT],
            attributes,
        )


class Labels:
    """Labels by key (``(kind, label)``) and the samples kept to make them. ``on_label(key, kind, label)`` is told
    of every label made here (the limiter shares them: other processes may lack a sample of the key)."""

    def __init__(
        self,
        text: TextFingerprinter,
        kinds: tuple[str, ...],
        capacity: int,
        on_label: Callable[[int, str, str], None] | None = None,
    ) -> None:
        self._text = text
        self._kinds = kinds
        self.labels: BoundedTable[int, tuple[str, str]] = BoundedTable(capacity)
        self.samples: BoundedTable[int, tuple[str, Sample]] = BoundedTable(SAMPLES)
        self._on_label = on_label
        self._tick = 0

    def rebound(self, text: TextFingerprinter, kinds: tuple[str, ...], *, keep_labels: bool) -> Labels:
        """Labels for a reloaded policy: the same tables (labels only if the fingerprints are made alike)."""
        fresh = Labels(text, kinds, self.labels.capacity, self._on_label)
        if keep_labels:
            fresh.labels, fresh.samples = self.labels, self.samples
        return fresh

    def label(self, facts: RequestFacts, kind: str, key: int) -> str:
        """The label of ``key``, made from this request if none is known."""
        known = self.labels.get(key)
        if known is not None:
            return known[1]
        return self._labelled(key, kind, Sample.of(facts))

    def known(self, key: int) -> tuple[str, str]:
        """``(kind, label)`` of ``key`` if known, else made now from its kept sample (off the hot path)."""
        known = self.labels.get(key)
        if known is not None:
            return known
        sample = self.samples.get(key)
        if sample is None:
            return ("?", "(no sample kept)")
        kind, kept = sample
        return kind, self._labelled(key, kind, kept)

    def put(self, key: int, kind: str, label: str) -> None:
        """A label made elsewhere (another process, a snapshot)."""
        self.labels.put(key, (kind, label))

    def observe(self, facts: RequestFacts, out: np.ndarray, start: int) -> None:
        """Keep a sample for busy keys of ``facts`` that have none, on one request in ``LABEL_STRIDE``
        (``out[start:]`` are the request's rows of the observe kernel's output; read only then)."""
        self._tick += 1
        if self._tick < LABEL_STRIDE:
            return
        self._tick = 0
        counts = out[start : start + len(facts.keys), HITS].tolist()
        sample: Sample | None = None
        labels, samples = self.labels, self.samples
        for kind, (start, end) in zip(self._kinds, facts.spans, strict=True):
            for position in range(start, end):
                key = facts.keys[position]
                if counts[position] >= LABEL_AFTER_HITS and key not in labels and key not in samples:
                    sample = sample or Sample.of(facts)
                    samples.put(key, (kind, sample))

    def _labelled(self, key: int, kind: str, sample: Sample) -> str:
        label = self.describe(sample, kind)
        self.labels.put(key, (kind, label))
        if self._on_label is not None:
            self._on_label(key, kind, label)
        self.samples.pop(key)
        return label

    def describe(self, sample: Sample, kind: str) -> str:
        parts = []
        for part in kind.split("+"):
            if part in ("template", "near_duplicate"):
                parts.append(self._text.label(sample.text))
            elif part == "network":
                parts.append(sample.network)
            elif part == "client":
                parts.append(sample.client)
            elif part == "route":
                parts.append(sample.route)
            elif part == "account":
                parts.append(sample.account)
            else:
                parts.append(sample.attributes.get(part.removeprefix("attribute:"), ""))
        return " + ".join(parts)
