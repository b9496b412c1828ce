"""Campaign schedules: occurrences of a cron expression or an RFC 5545 RRULE in the campaign's
time zone, mapped to UTC instants. Pure functions: no database, no clock (``now`` is passed in).

Occurrences are computed on the *local wall clock* (naive datetimes in the campaign's zone) and
then mapped to one UTC instant each, with two documented DST rules:

* **Skipped local time** (spring forward, e.g. 02:30 on the last Sunday of March in Berlin):
  the run happens at the first valid instant after it, i.e. the moment the clocks jump (03:00
  local). Several skipped occurrences (an hourly rule) collapse into that one instant.
* **Repeated local time** (fall back): the run happens once, at the *first* occurrence
  (``fold=0``, the summer-time offset); the second pass of the same wall time never runs.

Month days that do not exist are skipped (cron and RFC 5545 agree: ``0 9 31 * *`` and
``FREQ=MONTHLY;BYMONTHDAY=31`` run in the seven months that have a 31st). For "the last day of
every month" use cron ``0 9 L * *`` or ``BYMONTHDAY=-1``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError
from dateutil.rrule import MINUTELY, SECONDLY, rrule, rrulestr

CRON, RRULE = "cron", "rrule"
HORIZON = timedelta(days=5 * 366)  # an occurrence further away than this counts as "none"
_MAX_STEPS = 2000  # bound on iterations of one lookup (a rule that never fires cannot hang a tick)


class ScheduleError(ValueError):
    """The schedule cannot be used; the message is meant for the person who typed it."""


@dataclass(frozen=True)
class Schedule:
    kind: str                     # "cron" | "rrule"
    expression: str
    timezone: str = "UTC"
    starts_at: datetime | None = None   # aware; no occurrence before it
    ends_at: datetime | None = None     # aware; no occurrence after it

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin.") from exc


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    # Through UTC: astimezone() to the datetime's own tzinfo returns it unchanged.
    return _local(naive.replace(tzinfo=zone).astimezone(UTC), zone) == naive


def local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """Map a local wall time to one UTC instant with the DST rules of this module."""
    if _exists(naive, zone):
        return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    probe = naive.replace(second=0, microsecond=0)
    for _ in range(24 * 60):  # walk to the end of the gap (the moment the clocks jumped)
        probe += timedelta(minutes=1)
        if _exists(probe, zone):
            return probe.replace(tzinfo=zone, fold=0).astimezone(UTC)
    raise ScheduleError(f"{naive} does not exist in {zone.key} and no valid time follows within a day.")


_RRULE_PARTS = {"FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND", "COUNT",
                "UNTIL", "WKST", "DTSTART"}
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _rrule_precheck(expression: str) -> None:
    """Refuse rule parts we do not support and month/day combinations that never happen:
    dateutil would walk every period up to the year 9999 looking for them (tens of seconds)."""
    parts = {}
    for line in expression.upper().replace("RRULE:", "").replace("\n", ";").split(";"):
        if "=" in line:
            key, _, value = line.partition("=")
            parts[key.strip()] = value.strip()
        elif ":" in line and line.split(":", 1)[0].strip() == "DTSTART":
            parts["DTSTART"] = line
    unsupported = sorted(set(parts) - _RRULE_PARTS)
    if unsupported:
        raise ScheduleError(f"RRULE parts not supported here: {', '.join(unsupported)}.")
    try:
        months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else list(range(1, 13))
        days = [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else [1]
    except ValueError as exc:
        raise ScheduleError("BYMONTH and BYMONTHDAY take numbers.") from exc
    if not any(1 <= m <= 12 and (d < 0 and -d <= _MONTH_DAYS[m - 1] or 0 < d <= _MONTH_DAYS[m - 1])
               for m in months for d in days):
        raise ScheduleError("This rule names a day that never happens (e.g. 30 February).")


class _Iterator:
    """Naive local occurrences after/before a naive local time."""

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.zone = schedule.zone
        if schedule.kind == CRON:
            if not croniter.is_valid(schedule.expression):
                raise ScheduleError(f"Not a valid cron expression: {schedule.expression!r}.")
        elif schedule.kind == RRULE:
            _rrule_precheck(schedule.expression)
            anchor = _local(schedule.starts_at, self.zone) if schedule.starts_at else datetime(2000, 1, 1)
            # Whole hours unless the rule is MINUTELY/SECONDLY: a part a rule leaves out (BYMINUTE,
            # BYSECOND) is taken from DTSTART, and "daily at 09" must not mean 09:48:13.
            upper = schedule.expression.upper()
            anchor = anchor.replace(microsecond=0)
            if "SECONDLY" not in upper:
                anchor = anchor.replace(second=0)
            if "SECONDLY" not in upper and "MINUTELY" not in upper:
                anchor = anchor.replace(minute=0)
            try:
                rule = rrulestr(schedule.expression, dtstart=anchor, ignoretz=True)
            except (ValueError, TypeError) as exc:
                raise ScheduleError(f"Not a valid RRULE: {exc}.") from exc
            if not isinstance(rule, rrule):
                raise ScheduleError("Use a single RRULE (no RRULE sets, EXDATE or RDATE).")
            self.rule = rule
            self.subhourly = rule._freq in (MINUTELY, SECONDLY)
        else:
            raise ScheduleError(f"Unknown schedule kind {schedule.kind!r}; use 'cron' or 'rrule'.")

    def next(self, naive: datetime) -> datetime | None:
        if self.schedule.kind == CRON:
            try:
                return croniter(self.schedule.expression, naive).get_next(datetime)
            except CroniterError:  # e.g. "0 0 30 2 *" never matches
                return None
        # Search at most HORIZON ahead: dateutil walks every period from DTSTART, so a rule that
        # never matches (BYMONTH=2;BYMONTHDAY=30) would otherwise walk to the year 9999.
        until = naive + HORIZON
        if self.rule._until is not None and self.rule._until < until:
            until = self.rule._until
        return self.rule.replace(until=until).after(naive, inc=False)

    def prev(self, naive: datetime) -> datetime | None:
        if self.schedule.kind == CRON:
            try:
                return croniter(self.schedule.expression, naive).get_prev(datetime)
            except CroniterError:
                return None
        return self.rule.before(naive, inc=False)


def occurrence_next(schedule: Schedule, *, after: datetime) -> datetime | None:
    """The first occurrence strictly after ``after`` (aware), as an aware UTC instant, or None
    when the schedule has ended or never fires."""
    it = _Iterator(schedule)
    if schedule.starts_at and after < schedule.starts_at:
        after = schedule.starts_at - timedelta(microseconds=1)
    naive = _local(after, it.zone)
    for _ in range(_MAX_STEPS):
        naive = it.next(naive)
        if naive is None:
            return None
        instant = local_to_utc(naive, it.zone)
        if schedule.ends_at and instant > schedule.ends_at:
            return None
        if instant > after:
            return instant
    return None


def occurrence_latest(schedule: Schedule, *, at_or_before: datetime) -> datetime | None:
    """The last occurrence at or before ``at_or_before`` (catch-up: after downtime, only the
    latest missed occurrence runs). None when there is none since ``starts_at``."""
    it = _Iterator(schedule)
    limit = at_or_before
    if schedule.ends_at and limit > schedule.ends_at:
        limit = schedule.ends_at
    naive = _local(limit, it.zone) + timedelta(seconds=1)
    for _ in range(_MAX_STEPS):
        naive = it.prev(naive)
        if naive is None:
            return None
        instant = local_to_utc(naive, it.zone)
        if schedule.starts_at and instant < schedule.starts_at:
            return None
        if instant <= limit:
            return instant
    return None


def occurrences_between(schedule: Schedule, *, start: datetime, end: datetime, cap: int = 1000) -> list[datetime]:
    """Occurrences in (start, end], at most ``cap`` of them (for counting missed runs)."""
    out: list[datetime] = []
    current = start
    while len(out) < cap:
        current = occurrence_next(schedule, after=current)
        if current is None or current > end:
            break
        out.append(current)
    return out


def occurrences_preview(schedule: Schedule, *, after: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` occurrences after ``after`` (for the live preview)."""
    out: list[datetime] = []
    current = after
    for _ in range(count):
        current = occurrence_next(schedule, after=current)
        if current is None:
            break
        out.append(current)
    return out


def min_interval_s(schedule: Schedule, *, after: datetime, samples: int = 6) -> float | None:
    """Shortest gap between the next few occurrences (to refuse schedules denser than allowed)."""
    times = occurrences_preview(schedule, after=after, count=samples)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    return min(gaps) if gaps else None


def schedule_describe(schedule: Schedule) -> str:
    """Readable text: "At 09:00 AM, only on Monday (Europe/Berlin)" / the RRULE's own words."""
    if schedule.kind == CRON:
        from cron_descriptor import ExpressionDescriptor, Options

        options = Options()
        options.use_24hour_time_format = True
        options.verbose = False
        try:
            text = ExpressionDescriptor(schedule.expression, options).get_description()
        except Exception as exc:  # noqa: BLE001 - cron-descriptor raises several private types
            raise ScheduleError(f"Not a valid cron expression: {schedule.expression!r}.") from exc
    else:
        text = _rrule_words(schedule.expression)
    return f"{text} ({schedule.timezone})"


def _rrule_words(expression: str) -> str:
    parts = dict(p.split("=", 1) for p in expression.upper().replace("RRULE:", "").split(";") if "=" in p)
    freq = parts.get("FREQ", "").lower()
    interval = parts.get("INTERVAL", "1")
    unit = {"secondly": "second", "minutely": "minute", "hourly": "hour", "daily": "day",
            "weekly": "week", "monthly": "month", "yearly": "year"}.get(freq, freq)
    words = f"Every {unit}" if interval == "1" else f"Every {interval} {unit}s"
    if "BYDAY" in parts:
        words += f" on {parts['BYDAY']}"
    if "BYMONTHDAY" in parts:
        words += f" on day {parts['BYMONTHDAY']} of the month"
    if "BYHOUR" in parts:
        words += f" at {int(parts['BYHOUR'].split(',')[0]):02d}:{int(parts.get('BYMINUTE', '0').split(',')[0]):02d}"
    return words


def schedule_validate(schedule: Schedule, *, now: datetime, min_interval: float) -> None:
    """Raise ScheduleError unless the schedule parses, has a future occurrence and is not
    denser than ``min_interval`` seconds."""
    it = _Iterator(schedule)
    if schedule.kind == RRULE and it.subhourly and min_interval >= 60:
        raise ScheduleError("Use FREQ=HOURLY or longer (minute and second rules are for drills only).")
    if schedule.starts_at and schedule.ends_at and schedule.ends_at <= schedule.starts_at:
        raise ScheduleError("The end must be after the start.")
    if occurrence_next(schedule, after=now) is None:
        raise ScheduleError("This schedule has no future run.")
    gap = min_interval_s(schedule, after=now)
    if gap is not None and gap < min_interval:
        raise ScheduleError(f"Runs may be at most every {int(min_interval)} seconds; this schedule runs "
                            f"every {int(gap)} seconds.")
