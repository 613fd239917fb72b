"""Execution windows of the emulated QPUs: when each one runs tasks (protocol §1.8-1.9).

QCaaS runs a QPU's tasks only inside its execution windows; outside them tasks stay SUBMITTED
(the service's "accepted and queued" status) and run when the next window opens. An emulated QPU
with no windows configured is always open (the default for every QPU, simulators included).

A window is given as ``"HH:MM-HH:MM"`` (UTC, every day; an end before the start crosses midnight)
or as a ``(start, end)`` pair of datetimes (naive ones are read as UTC).

Example:
    >>> from datetime import datetime, timezone
    >>> schedule = WindowSchedule(["09:00-10:30"])
    >>> now = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    >>> schedule.current(now) is None
    True
    >>> schedule.opens_at(now).isoformat()
    '2026-01-05T09:00:00+00:00'
    >>> [span.start.strftime("%d %H:%M") for span in schedule.upcoming(now, 3)]
    ['05 09:00', '06 09:00', '07 09:00']
    >>> parse_window_option("Lucy=22:00-01:00")
    ('Lucy', '22:00-01:00')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from oqc_provider.devices import DeviceSpec
from oqc_provider.errors import OqcProviderError

#: One window as settings give it: ``"HH:MM-HH:MM"`` (UTC, daily) or a ``(start, end)`` pair.
WindowSpec = str | tuple[datetime, datetime]

_DAILY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class WindowSpecError(OqcProviderError, ValueError):
    """A window setting that cannot be read; the message says what form it takes."""


@dataclass(frozen=True)
class WindowSpan:
    """One opening of a QPU: tasks run from ``start`` (inclusive) to ``end`` (exclusive), UTC."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """Whether the QPU is open at ``moment``."""
        return self.start <= moment < self.end


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _daily(text: str) -> tuple[time, time]:
    match = _DAILY.match(text)
    if match is None:
        raise WindowSpecError(
            f"Cannot read the window {text!r}: write it as HH:MM-HH:MM in UTC, e.g. 09:00-10:30 "
            "(an end before the start crosses midnight)."
        )
    hour_a, minute_a, hour_b, minute_b = (int(part) for part in match.groups())
    try:
        start, end = time(hour_a, minute_a), time(hour_b, minute_b)
    except ValueError as exc:
        raise WindowSpecError(f"Cannot read the window {text!r}: {exc}.") from None
    if start == end:
        raise WindowSpecError(f"The window {text!r} is empty: its start and end are the same time.")
    return start, end


def parse_window_option(text: str) -> tuple[str, str]:
    """Split ``QPU=HH:MM-HH:MM`` (the ``--window`` option) into the QPU and a checked daily window."""
    qpu, sep, window = text.partition("=")
    if not sep or not qpu.strip():
        raise WindowSpecError(
            f"Cannot read --window {text!r}: write QPU=HH:MM-HH:MM (UTC), e.g. 'Lucy=09:00-10:30'."
        )
    _daily(window)
    return qpu.strip(), window.strip()


class WindowSchedule:
    """The windows of one QPU: daily ones and dated ones together."""

    def __init__(self, specs: Iterable[WindowSpec]) -> None:
        self._daily: list[tuple[time, time]] = []
        self._dated: list[WindowSpan] = []
        for spec in specs:
            if isinstance(spec, str):
                self._daily.append(_daily(spec))
                continue
            try:
                start, end = (_utc(moment) for moment in spec)
            except (TypeError, ValueError, AttributeError):
                raise WindowSpecError(
                    f"Cannot read the window {spec!r}: give 'HH:MM-HH:MM' or a (start, end) datetime pair."
                ) from None
            if end <= start:
                raise WindowSpecError(f"The window {start} - {end} ends before it starts.")
            self._dated.append(WindowSpan(start, end))

    def _spans_around(self, moment: datetime, days: int) -> list[WindowSpan]:
        """Every opening that ends after ``moment``, over the next ``days`` days, merged and sorted."""
        spans = [span for span in self._dated if span.end > moment]
        midnight = datetime.combine(moment.date(), time(0), tzinfo=timezone.utc)
        for offset in range(-1, days + 1):
            day = midnight + timedelta(days=offset)
            for start, end in self._daily:
                opens = day.replace(hour=start.hour, minute=start.minute)
                closes = day.replace(hour=end.hour, minute=end.minute)
                if closes <= opens:
                    closes += timedelta(days=1)
                if closes > moment:
                    spans.append(WindowSpan(opens, closes))
        merged: list[WindowSpan] = []
        for span in sorted(spans, key=lambda s: s.start):
            if merged and span.start <= merged[-1].end:
                merged[-1] = WindowSpan(merged[-1].start, max(merged[-1].end, span.end))
            else:
                merged.append(span)
        return merged

    def upcoming(self, moment: datetime, count: int) -> list[WindowSpan]:
        """The window open at ``moment`` (if any) and the ones after it, ``count`` in all at most."""
        moment = _utc(moment)
        days = max(2, count + 1) if self._daily else 0
        return self._spans_around(moment, days)[:count]

    def current(self, moment: datetime) -> WindowSpan | None:
        """The window open at ``moment``, or None when the QPU is closed."""
        first = self.upcoming(moment, 1)
        return first[0] if first and first[0].contains(_utc(moment)) else None

    def opens_at(self, moment: datetime) -> datetime | None:
        """When tasks can next run: ``moment`` itself when open, None when no window is left."""
        first = self.upcoming(moment, 1)
        if not first:
            return None
        return max(_utc(moment), first[0].start)


def by_qpu_id(
    windows: Mapping[str, Sequence[WindowSpec]], devices: Iterable[DeviceSpec]
) -> dict[str, list[WindowSpec]]:
    """``windows`` keyed by QPU id, from keys that name a QPU by id or name (any case), each window
    checked; a key naming no QPU raises :class:`WindowSpecError` listing the known ones."""
    devices = list(devices)
    keyed: dict[str, list[WindowSpec]] = {}
    for key, specs in windows.items():
        match = [d.qpu_id for d in devices if key.strip().lower() in (d.qpu_id.lower(), d.name.lower())]
        if not match:
            known = ", ".join(f"{d.name} ({d.qpu_id})" for d in devices)
            raise WindowSpecError(f"Windows were given for {key!r}, which is no emulated QPU ({known}).")
        WindowSchedule(specs)  # each window checked here, before anything starts
        keyed.setdefault(match[0], []).extend(specs)
    return keyed


class Windows:
    """Every QPU's schedule; a QPU without one is always open."""

    def __init__(self, schedules: Mapping[str, Sequence[WindowSpec]] | None = None) -> None:
        self._schedules = {qpu: WindowSchedule(specs) for qpu, specs in (schedules or {}).items()}

    def schedule(self, qpu_id: str) -> WindowSchedule | None:
        """The QPU's schedule, or None when it is always open."""
        return self._schedules.get(qpu_id)

    def closed(self, moment: datetime) -> list[str]:
        """The QPUs closed at ``moment``."""
        return [qpu for qpu, schedule in self._schedules.items() if schedule.current(moment) is None]

    def next_opening(self, qpu_ids: Iterable[str], moment: datetime) -> datetime | None:
        """The earliest moment one of ``qpu_ids`` opens (None: none of them ever will again)."""
        openings = [
            opens
            for qpu in qpu_ids
            if (schedule := self._schedules.get(qpu)) is not None
            and (opens := schedule.opens_at(moment)) is not None
        ]
        return min(openings, default=None)
