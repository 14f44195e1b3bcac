"""Gradescope's leaderboard from a submission's speed checks.

``leaderboard(results)`` returns ``[{"name": "conv2d", "value": 1.23, "order": "asc"}, ...]``:
one column per timed function, the value being the student / reference time ratio (lower
is better, hence ``asc``).  The engine puts it in results.json as ``"leaderboard"``.
A function timed more than once (CPU and CUDA) gets its worst ratio; checks that were
skipped or have no ratio (a wrong result is never timed) are left out.
"""
from __future__ import annotations

import math


def speed_ratios(results: dict) -> dict[str, list[float]]:
    """Function name -> the ratios of its counted speed checks."""
    found: dict[str, list[float]] = {}
    for test in (results or {}).get("tests", []):
        speed = (test.get("extra_data") or {}).get("speed") if isinstance(test, dict) else None
        if not isinstance(speed, dict) or test.get("status") == "skipped":
            continue
        function, ratio = speed.get("function"), speed.get("ratio")
        try:
            ratio = float(ratio)
        except (TypeError, ValueError):
            continue
        if function and math.isfinite(ratio) and ratio > 0:
            found.setdefault(str(function), []).append(ratio)
    return found


def leaderboard(results: dict) -> list[dict]:
    return [{"name": function, "value": round(max(ratios), 3), "order": "asc"}
            for function, ratios in sorted(speed_ratios(results).items())]
