"""The deployment secret, and every seed and keyed hash derived from it.

Sketch indices must be unpredictable to anyone who reads this code but lacks the secret; otherwise an adversary
can aim its keys at a chosen victim's cells (inflating the victim's counts) or spread its own keys so they never
collide (Markelon et al. 2023; for HyperLogLog, Paterson & Raynal 2021). So:

* a 32-byte *master key* is derived from the secret with BLAKE2b (personalised ``patternlimit``);
* each purpose (a sketch, a kind of pattern key) gets a 64-bit seed ``BLAKE2b(purpose, key=master)``: a PRF, so
  seeds for different purposes are independent and none reveals the secret;
* strings and bytes become pattern keys with xxh3-64 under such a seed, reduced to 63 bits so every key converts
  to a numba ``int64`` without a second compiled specialisation.

xxh3 with a seed is not a PRF; an attacker who could observe raw sketch counts could in principle learn about
collisions. patternlimit never returns raw counts to clients (decisions carry only coarse figures), and sketch
rows remix keys with seeds from the PRF above.

When no secret is given, ``PATTERNLIMIT_SECRET`` is read from the environment; failing that a random secret is
generated for this process and a warning is logged once: processes that share state (Redis) would then disagree on
every index. ``required=True`` (production configuration) turns the missing secret into a
:class:`~patternlimit.errors.ConfigurationError` instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading

import xxhash

from patternlimit.errors import ConfigurationError

logger = logging.getLogger("patternlimit")

SECRET_ENV = "PATTERNLIMIT_SECRET"
MIN_SECRET_BYTES = 16
KEY_BITS = 63

_warned_lock = threading.Lock()
_warned = False


def _warn_random_secret_once() -> None:
    global _warned
    with _warned_lock:
        if _warned:
            return
        _warned = True
    logger.warning(
        "patternlimit: no secret given (argument or %s); using a random per-process secret. Processes sharing "
        "state will not agree on sketch indices: set a secret of at least %d bytes in production.",
        SECRET_ENV,
        MIN_SECRET_BYTES,
    )


class Keyring:
    """Seeds and keyed hashes of one deployment, all derived from its secret.

    Equal secrets give equal seeds and keys in every process, on every host; different secrets give unrelated ones.
    """

    __slots__ = ("_master", "generated", "id")

    def __init__(self, secret: bytes | str | None = None, *, required: bool = False) -> None:
        if secret is None:
            secret = os.environ.get(SECRET_ENV) or None
        if secret is None:
            if required:
                raise ConfigurationError(
                    f"secret is required in production configuration: pass secret=... or set {SECRET_ENV} "
                    f"(at least {MIN_SECRET_BYTES} bytes)"
                )
            raw = secrets.token_bytes(32)
            self.generated = True
            _warn_random_secret_once()
        else:
            raw = secret.encode("utf-8") if isinstance(secret, str) else secret
            if not isinstance(raw, bytes | bytearray | memoryview):
                raise ConfigurationError(f"secret must be bytes or str, got {type(secret).__name__}")
            if len(raw) < MIN_SECRET_BYTES:
                raise ConfigurationError(f"secret must be at least {MIN_SECRET_BYTES} bytes, got {len(raw)}")
            self.generated = False
        self._master = hashlib.blake2b(bytes(raw), digest_size=32, person=b"patternlimit").digest()
        #: A short public identifier of the secret, safe to log: processes that share state must show the same one.
        self.id = hashlib.blake2b(b"id", key=self._master, digest_size=4).hexdigest()

    def seed(self, purpose: str) -> int:
        """A 64-bit seed for ``purpose`` (a PRF of the secret): the same purpose always gets the same seed."""
        return int.from_bytes(
            hashlib.blake2b(purpose.encode("utf-8"), key=self._master, digest_size=8).digest(), "little"
        )

    def __repr__(self) -> str:
        return f"Keyring(id={self.id!r}, generated={self.generated})"


def keyed_hash(data: bytes | str, seed: int) -> int:
    """The 63-bit pattern key of ``data`` under ``seed`` (xxh3-64, top bit dropped).

    ``str`` is encoded as UTF-8, with lone surrogates kept (``surrogatepass``) rather than raising.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return xxhash.xxh3_64_intdigest(data, seed) >> 1
