"""What a decision becomes while the shared storage fails: ``on_storage_error`` applied."""

from __future__ import annotations

import time

from patternlimit.policy.decision import Action, Decision


def fallback(decision: Decision, mode: str, last_error: str | None, retry_at: float) -> Decision:
    """``decision`` as ``on_storage_error=mode`` says: kept (``"local"``: decided on local state), replaced by an
    allow (``"allow"``: fail open) or by a throttle until the next attempt (``"deny"``: fail closed)."""
    if mode == "local":
        return decision
    if mode == "allow":
        return Decision(
            Action.ALLOW,
            rule="storage-unavailable",
            reason=f"shared storage unavailable ({last_error}); failing open",
        )
    return Decision(
        Action.THROTTLE,
        rule="storage-unavailable",
        reason=f"shared storage unavailable ({last_error}); failing closed",
        retry_after=max(1.0, retry_at - time.monotonic()),
    )
