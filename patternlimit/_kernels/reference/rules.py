"""Twin of :mod:`patternlimit._kernels.rules`: the same conditions, evaluated in plain Python."""

from __future__ import annotations

import math

import numpy as np

from patternlimit._kernels.layout import ACCOUNTS, COHORT, CONCENTRATION, COPIES, HITS, NOVEL, YOUNG


def _value(code: int, row: list[float]) -> float | None:
    young = row[YOUNG]
    accounts = max(row[ACCOUNTS], young)
    if code == 0:
        return young
    if code == 1:
        return row[HITS]
    if code == 2:
        return accounts
    if code == 3:
        return row[COPIES]
    if code == 4:
        return young / accounts if accounts > 0 else 0.0
    if code == 5:
        hits = row[HITS]
        if hits <= 0:
            return 0.0
        share = row[NOVEL] / hits
        return share if share < 1.0 or math.isnan(share) else 1.0
    if code == 7:
        if not young > 0:
            return 0.0
        share = row[COHORT] / young
        return share if share < 1.0 or math.isnan(share) else 1.0
    if code == 8:
        return row[CONCENTRATION]
    return None  # pattern age: checked by the engine


def match_rules(
    out: np.ndarray, count: int, gate: float, conditions: np.ndarray, starts: np.ndarray, masks: np.ndarray
) -> None:
    rows = out[:count].tolist()
    for rule in range(masks.shape[0]):
        mask = 0
        for position, row in enumerate(rows):
            if not row[HITS] >= gate:
                continue
            met = True
            for code, low, high in conditions[starts[rule] : starts[rule + 1]].tolist():
                value = _value(int(code), row)
                if value is not None and not low <= value <= high:
                    met = False
                    break
            if met:
                mask |= 1 << position
        masks[rule] = mask
