"""Value conversion and canonical forms shared by the SQLite migration and its verification.

SQLite stores whatever it was given: dates as ISO text or epoch numbers (seconds, or
milliseconds as the legacy Prisma application wrote them), decimals as REAL or TEXT, booleans as
0/1 or 'true'/'false'. :func:`converter_for` turns such a value into the Python value of the
target column's type; :func:`canonical` renders a value identically whichever side it came from
(None -> null, Decimal at the column's scale, dates ``YYYY-MM-DD``, datetimes ISO-8601 in UTC,
booleans true/false), so an ordered hash over canonical rows proves two tables hold the same
data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Optional, Sequence

from sqlalchemy import types as satypes

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

_DT_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


class ConversionError(ValueError):
    pass


def _epoch_to_datetime(value: Any) -> dt.datetime:
    number = Decimal(str(value))
    # Milliseconds (the legacy application's storage) are distinguishable from seconds by size:
    # 1e11 seconds is the year 5138, 1e11 milliseconds is 1973.
    if abs(number) >= Decimal(100_000_000_000):
        micros = int((number * 1000).to_integral_value(rounding=ROUND_HALF_UP))
    else:
        micros = int((number * 1_000_000).to_integral_value(rounding=ROUND_HALF_UP))
    return EPOCH + dt.timedelta(microseconds=micros)


def _tz(text: Optional[str]) -> Optional[dt.tzinfo]:
    if not text:
        return None
    if text in ("Z", "z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def parse_datetime(value: Any) -> dt.datetime:
    """Aware UTC datetime from text, epoch number or datetime; naive input is taken as UTC."""
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, bool):
        raise ConversionError("boolean is not a timestamp")
    elif isinstance(value, (int, float, Decimal)):
        result = _epoch_to_datetime(value)
    else:
        text = _text(value).strip()
        if _NUMBER_RE.match(text):
            result = _epoch_to_datetime(text)
        else:
            match = _DT_RE.match(text)
            if not match:
                raise ConversionError("not a timestamp")
            frac = (match.group("f") or "")[:6].ljust(6, "0")
            result = dt.datetime(
                int(match.group("y")),
                int(match.group("m")),
                int(match.group("d")),
                int(match.group("H") or 0),
                int(match.group("M") or 0),
                int(match.group("S") or 0),
                int(frac),
                tzinfo=_tz(match.group("tz")),
            )
    if result.tzinfo is None:
        result = result.replace(tzinfo=UTC)
    return result.astimezone(UTC)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date() if value.tzinfo is None else value.astimezone(UTC).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _epoch_to_datetime(value).date()
    text = _text(value).strip()
    if _NUMBER_RE.match(text):
        return _epoch_to_datetime(text).date()
    match = _DT_RE.match(text)
    if not match:
        raise ConversionError("not a date")
    # The calendar date as written (a date stored with a time and offset keeps its own day).
    return dt.date(int(match.group("y")), int(match.group("m")), int(match.group("d")))


def parse_decimal(value: Any, scale: Optional[int]) -> Decimal:
    if isinstance(value, bool):
        raise ConversionError("boolean is not a number")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, int):
            number = Decimal(value)
        else:
            number = Decimal(_text(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ConversionError("not a number") from None
    if not number.is_finite():
        raise ConversionError("not a finite number")
    if scale is not None:
        number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    return number


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ConversionError("not an integer")
    text = _text(value).strip()
    try:
        return int(text)
    except ValueError:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ConversionError("not an integer") from None
        if number == number.to_integral_value():
            return int(number)
        raise ConversionError("not an integer") from None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value)
        raise ConversionError("not a boolean")
    text = _text(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConversionError("not a boolean")


def parse_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _text(value: Any) -> str:
    return parse_text(value)


def _scale(sa_type: Any) -> Optional[int]:
    scale = getattr(sa_type, "scale", None)
    return int(scale) if scale is not None else None


def converter_for(sa_type: Any) -> Callable[[Any], Any]:
    """Function turning a raw SQLite value into the target column's Python value (None stays
    None; an empty string is NULL for every non-text type)."""
    text_type = isinstance(sa_type, (satypes.String, satypes.Text, satypes.Enum))

    if isinstance(sa_type, satypes.Boolean):
        inner: Callable[[Any], Any] = parse_bool
    elif isinstance(sa_type, satypes.DateTime):
        if getattr(sa_type, "timezone", False):
            inner = parse_datetime
        else:

            def inner(v: Any) -> Any:
                return parse_datetime(v).replace(tzinfo=None)
    elif isinstance(sa_type, satypes.Date):
        inner = parse_date
    elif isinstance(sa_type, satypes.Numeric) and not isinstance(sa_type, satypes.Float):
        scale = _scale(sa_type)

        def inner(v: Any) -> Any:
            return parse_decimal(v, scale)
    elif isinstance(sa_type, satypes.Float):

        def inner(v: Any) -> Any:
            return float(parse_decimal(v, None))
    elif isinstance(sa_type, satypes.Integer):
        inner = parse_int
    elif isinstance(sa_type, satypes.LargeBinary):

        def inner(v: Any) -> Any:
            return bytes(v) if not isinstance(v, str) else v.encode("utf-8")
    else:
        inner = parse_text

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if not text_type and isinstance(value, str) and value.strip() == "":
            return None
        return inner(value)

    return convert


def canonical_for(sa_type: Any) -> Callable[[Any], Any]:
    """Function giving a JSON-ready canonical form of a value of this column type."""
    scale = _scale(sa_type) if isinstance(sa_type, satypes.Numeric) else None

    def canon(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, Decimal):
            if scale is not None:
                return str(value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP))
            return format(value.normalize(), "f")
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value).hex()
        if isinstance(value, float):
            return repr(value)
        return value

    return canon


class RowHasher:
    """sha256 over canonical rows (one compact JSON array per line), in the order fed."""

    def __init__(self, canonicals: Sequence[Callable[[Any], Any]]) -> None:
        self._canon = list(canonicals)
        self._digest = hashlib.sha256()
        self.rows = 0

    def add(self, row: Iterable[Any]) -> None:
        values = [c(v) for c, v in zip(self._canon, row)]
        line = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
        self._digest.update(line.encode("utf-8"))
        self._digest.update(b"\n")
        self.rows += 1

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
