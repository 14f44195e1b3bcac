"""The late policy of an assignment (``[late]`` in assignment.toml, registry.LatePolicy).

A submission is late when it arrives more than ``grace_minutes`` after the due date.  It
then loses ``percent_per_day`` percent of its score for every started day after the end of
the grace period, at most ``max_percent``; submitted after the late due date (plus the same
grace) it scores 0 when ``zero_after_late_due`` is set.  The penalty is written into the
student's ``output`` (first line) and into ``extra_data["late"]``; ``score`` is the penalised
score.  Applying the policy again (new dates) starts from the score before the penalty, so
it is never applied twice.

Times are ISO 8601 strings or datetimes; a time without a UTC offset is taken as UTC.
Gradescope passes the dates in ``submission_metadata.json`` (``created_at``,
``assignment.due_date``, ``assignment.late_due_date``, and per student ``users[].assignment``
when the student has an extension): :func:`from_gradescope_metadata` reads them.

This module only uses the standard library: it runs inside the Gradescope archive.
"""
from __future__ import annotations

import copy
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

LATE_PREFIX = "Late submission:"


class Deadlines(NamedTuple):
    submitted_at: datetime | None
    due: datetime | None
    late_due: datetime | None


def parse_time(value) -> datetime | None:
    """An aware datetime from an ISO 8601 string or a datetime (naive = UTC); None for empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date and time: {value!r} (e.g. 2025-03-14T23:59:00+09:00)") from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def _policy_value(policy, name, default):
    if isinstance(policy, dict):
        return policy.get(name, default)
    return getattr(policy, name, default)


def _duration(seconds: float) -> str:
    minutes = int(math.ceil(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{mins} min"] if mins or not parts else []
    return " ".join(parts)


def _when(dt: datetime) -> str:
    return dt.isoformat(timespec="minutes")


def late_penalty(policy, submitted_at, due, late_due=None) -> dict:
    """The penalty, without touching any results: minutes late, started days counted,
    percent taken off, and whether the submission came after the late due date."""
    submitted, due_dt, late_dt = parse_time(submitted_at), parse_time(due), parse_time(late_due)
    if submitted is None or due_dt is None:
        raise ValueError("both the submission time and the due date are needed")
    grace = float(_policy_value(policy, "grace_minutes", 0.0)) * 60
    per_day = float(_policy_value(policy, "percent_per_day", 0.0))
    cap = float(_policy_value(policy, "max_percent", 100.0))
    zero_after = bool(_policy_value(policy, "zero_after_late_due", True))
    late_seconds = (submitted - due_dt).total_seconds()
    days = int(math.ceil((late_seconds - grace) / 86400)) if late_seconds > grace else 0
    percent = min(days * per_day, cap)
    past_late_due = late_dt is not None and (submitted - late_dt).total_seconds() > grace
    if past_late_due and zero_after:
        percent = 100.0
    return {"submitted_at": _when(submitted), "due": _when(due_dt),
            "late_due": _when(late_dt) if late_dt else None,
            "minutes_late": round(max(late_seconds, 0.0) / 60, 2), "grace_minutes": grace / 60,
            "days_late": days, "percent_per_day": per_day, "max_percent": cap,
            "past_late_due": past_late_due, "percent": round(percent, 6)}


def apply_late_policy(results: dict, policy, submitted_at, due, late_due=None) -> dict:
    """A copy of ``results`` with the late policy applied (see the module docstring).
    Without a policy, a submission time or a due date, the results come back unchanged."""
    results = copy.deepcopy(results)
    if policy is None or submitted_at in (None, "") or due in (None, ""):
        return results
    extra = results.setdefault("extra_data", {})
    previous = extra.get("late") if isinstance(extra.get("late"), dict) else None
    before = float(previous["score_before"]) if previous and "score_before" in previous else float(results["score"])
    info = late_penalty(policy, submitted_at, due, late_due)
    after = round(before * (1 - info["percent"] / 100), 6)
    info.update(score_before=before, score_after=after)
    extra["late"] = info
    results["score"] = after
    lines = [line for line in str(results.get("output", "")).split("\n") if not line.startswith(LATE_PREFIX)]
    message = _message(info, before, after)
    results["output"] = "\n".join(([message] if message else []) + lines).strip("\n")
    return results


def _message(info: dict, before: float, after: float) -> str:
    minutes = info["minutes_late"]
    if info["past_late_due"] and info["percent"] >= 100:
        return (f"{LATE_PREFIX} handed in after the late due date ({info['late_due']}), so it scores 0 "
                f"(tests: {before:g} points). Talk to the course staff if you had an extension.")
    if info["days_late"] == 0:
        return ""                         # on time, or within the grace period: nothing to say
    capped = info["percent"] < info["days_late"] * info["percent_per_day"]
    return (f"{LATE_PREFIX} {_duration(minutes * 60)} after the due date ({info['due']}); "
            f"{info['days_late']} started day(s) x {info['percent_per_day']:g}% = "
            f"{info['days_late'] * info['percent_per_day']:g}%"
            + (f", capped at {info['max_percent']:g}%" if capped else "")
            + f": score {before:g} -> {after:g}.")


def from_gradescope_metadata(path) -> Deadlines:
    """(submitted_at, due, late_due) from Gradescope's submission_metadata.json.  A student's
    own dates (``users[].assignment``, set by an extension) win over the assignment's; for a
    group, the most lenient member's."""
    meta = json.loads(Path(path).read_text(encoding="utf-8"))
    assignment = meta.get("assignment") or {}
    due, late_due = parse_time(assignment.get("due_date")), parse_time(assignment.get("late_due_date"))
    own = [u.get("assignment") or {} for u in meta.get("users") or [] if isinstance(u, dict)]
    own_due = [parse_time(a.get("due_date")) for a in own if a.get("due_date")]
    own_late = [parse_time(a.get("late_due_date")) for a in own if a.get("late_due_date")]
    if own_due:
        due = max(own_due)
    if own_late:
        late_due = max(own_late)
    return Deadlines(parse_time(meta.get("created_at")), due, late_due)


def apply_gradescope_late_policy(metadata_path, assignment_id: str, results_path) -> dict | None:
    """On Gradescope (dl_run.py): when ``metadata_path`` exists and the assignment has a late
    policy, apply it to ``results_path`` in place.  Returns the new results, or None when
    there was nothing to do."""
    metadata_path, results_path = Path(metadata_path), Path(results_path)
    if not metadata_path.is_file() or not results_path.is_file():
        return None
    from autograder import registry
    policy = registry.get(assignment_id).late
    if policy is None:
        return None
    deadlines = from_gradescope_metadata(metadata_path)
    results = json.loads(results_path.read_text(encoding="utf-8"))
    new = apply_late_policy(results, policy, deadlines.submitted_at, deadlines.due, deadlines.late_due)
    from autograder.results import write_json
    write_json(results_path, new)
    return new
