"""``patternlimit top``: the heaviest patterns of a running limiter, read from its shared storage.

The command joins the shared log as one more process would (the latest snapshot, then every record after it),
writes nothing of its own (no snapshot, no records), prints :meth:`Limiter.top_patterns
<patternlimit.Limiter.top_patterns>` and leaves. It needs the deployment's secret (``PATTERNLIMIT_SECRET`` or
``--secret-file``: the sketches are keyed by it) and, when the running processes use a policy of their own, the
same policy file (its capacity, window and buckets give the sketches their shape). The figures are as fresh as
the records the processes have shipped (``sync_interval``). A label is made by a serving process from a sample
of the pattern it keeps (when the pattern is flagged, or on its own ``top_patterns`` or metrics scrape) and
shared from then on; before that, ``top`` shows the kind of the rule that flagged the pattern, if any.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from patternlimit.errors import ConfigurationError, StorageError

if TYPE_CHECKING:
    from patternlimit.engine import Limiter, TopPattern

DESCRIPTION = (
    "Print the heaviest patterns (hits in the window, distinct and young accounts, the rule that flagged them) "
    "of a running limiter, read from its shared Redis storage. The secret comes from PATTERNLIMIT_SECRET or "
    "--secret-file; the policy must be the running one's (default: distillation-defense)."
)

_LABEL_WIDTH = 60

UNLABELLED = "(not labelled yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage", required=True, help="the running limiter's storage URI, e.g. redis://localhost:6379/0"
    )
    parser.add_argument("--policy", help="the running limiter's policy file or preset (default: distillation-defense)")
    parser.add_argument("--secret-file", help="file holding the deployment secret (else PATTERNLIMIT_SECRET)")
    parser.add_argument("-n", "--count", type=int, default=20, help="patterns to print (default 20, at most 1000)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def run(arguments: argparse.Namespace) -> int:
    """Print the top patterns; 2 with a one-line reason when the storage, secret or policy will not do."""
    from patternlimit.engine import Limiter

    if not 1 <= arguments.count <= 1000:
        raise ConfigurationError(f"--count must be in [1, 1000], got {arguments.count}")
    storage = arguments.storage
    if not storage.startswith(("redis://", "rediss://", "redis+cluster://", "unix://")):
        raise ConfigurationError(
            f"--storage must be the shared storage of a running limiter (redis://...), not {storage!r}: a "
            "memory:// limiter's state lives inside its own process (use Limiter.top_patterns or its metrics)"
        )
    limiter = Limiter(
        arguments.policy,
        storage=storage,
        # A reader writes nothing: no snapshot of its own (and it counts nothing, so it ships no records).
        storage_options={"snapshot_interval": 0.0},
        secret=_secret(arguments.secret_file),
        production=True,
    )
    try:
        status = limiter.storage_status
        if status is not None and (not status.healthy or status.failures):
            raise ConfigurationError(f"could not read the shared state from {_shown(storage)}: {status.last_error}")
        rows = _with_kinds(limiter.top_patterns(arguments.count), limiter)
    except StorageError as exc:
        raise ConfigurationError(f"could not read the shared state from {_shown(storage)}: {exc}") from None
    finally:
        limiter.close()
    if arguments.json:
        print(json.dumps([row._asdict() for row in rows], indent=2))
        return 0
    print(table(rows, storage=_shown(storage), secret_id=limiter.secret_id))
    return 0


def table(rows: Sequence[TopPattern], *, storage: str, secret_id: str) -> str:
    """The plain-text table ``top`` prints: one line per pattern, heaviest first."""
    lines = [
        f"top patterns in {storage} (secret {secret_id}); hits, accounts and young accounts are sketch estimates",
        f"{'#':>3}  {'kind':<16} {'hits':>9} {'±':>6} {'accounts':>9} {'young':>7}  {'flagged by':<22} label",
    ]
    for rank, row in enumerate(rows, 1):
        lines.append(
            f"{rank:>3}  {row.kind:<16} {row.hits:>9} {row.error:>6} {row.accounts:>9.0f} {row.young_accounts:>7.0f}"
            f"  {row.flagged_by or '-':<22} {_clip(row.label)}"
        )
    if not rows:
        lines.append("  (no patterns counted in the window)")
    return "\n".join(lines)


def _with_kinds(rows: list[TopPattern], limiter: Limiter) -> list[TopPattern]:
    """Rows whose key no serving process has labelled yet (labels are made from the samples a serving process
    keeps, and only shared once made) take their kind from the pattern rule that flagged them, if one did."""
    kinds = {rule.name: rule.pattern for rule in limiter.policy.rules if rule.type == "pattern"}
    return [
        row._replace(kind=kinds.get(row.flagged_by or "", "?"), label=UNLABELLED) if row.kind == "?" else row
        for row in rows
    ]


def _secret(path: str | None) -> bytes:
    if path is not None:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise ConfigurationError(f"--secret-file: cannot read {path!r}: {exc.strerror}") from None
    else:
        secret = os.environ.get("PATTERNLIMIT_SECRET", "").encode()
    if not secret:
        raise ConfigurationError(
            "top needs the deployment's secret: set PATTERNLIMIT_SECRET or pass --secret-file (the sketches are "
            "keyed by it)"
        )
    return secret


def _shown(storage: str) -> str:
    """The URI without a password."""
    scheme, _, rest = storage.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{'***@' if at and credentials else ''}{host}"


def _clip(label: str) -> str:
    """A label on one line of at most ``_LABEL_WIDTH`` characters: control characters escaped, the rest cut."""
    text = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in label)
    return text if len(text) <= _LABEL_WIDTH else text[: _LABEL_WIDTH - 1] + "…"
