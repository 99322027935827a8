"""Request facts -> pattern keys: prompt text, network prefix, client program.

* :class:`TextFingerprinter` turns a prompt into a template key, near-duplicate band keys and a content key
  (:mod:`patternlimit.fingerprint.text`, one numba pass over the bytes; :mod:`patternlimit.fingerprint.tokens`
  gives the same tokens in plain Python, for labels);
* :func:`network_prefix` turns an IP address into its ``/24`` or ``/48`` network;
* :func:`client_fingerprint` turns the TLS fingerprint, or the header names and User-Agent, into a client string.

The engine hashes the strings with :func:`patternlimit.keying.keyed_hash`; the text keys are keyed already.
See ``docs/fingerprints.md``.
"""

from __future__ import annotations

from patternlimit.fingerprint.client import client_fingerprint
from patternlimit.fingerprint.network import network_prefix
from patternlimit.fingerprint.text import TextFingerprint, TextFingerprinter

__all__ = [
    "TextFingerprint",
    "TextFingerprinter",
    "client_fingerprint",
    "network_prefix",
]
