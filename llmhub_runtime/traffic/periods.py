"""Budget periods aligned to UTC (weeks from Monday, months from the 1st), the same arithmetic as the Lua side."""

from __future__ import annotations

__all__ = ["period_of"]

_DAY = 86400.0


def _civil_from_days(days: int) -> tuple[int, int]:
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month


def _days_from_civil(year: int, month: int, day: int) -> int:
    year -= 1 if month <= 2 else 0
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def period_of(period: str, now: float) -> tuple[int, float]:
    """The index of the period containing unix time ``now`` and the unix time it ends."""
    seconds = int(now // 1)
    if period == "minute":
        index = seconds // 60
        return index, (index + 1) * 60.0
    if period == "hour":
        index = seconds // 3600
        return index, (index + 1) * 3600.0
    day = seconds // 86400
    if period == "day":
        return day, (day + 1) * _DAY
    if period == "week":
        index = (day + 3) // 7
        return index, (index * 7 + 4) * _DAY
    year, month = _civil_from_days(day)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return year * 12 + month - 1, _days_from_civil(*following, 1) * _DAY
