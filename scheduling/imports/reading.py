"""From the bytes of an uploaded file to rows of text, and from cells to values.

A file is UTF-8 (with or without a BOM), UTF-16 with a BOM (Excel's "Unicode text"), or
Windows-1251 (what Russian Excel saves as "CSV"). The delimiter is the one of `; , tab` that the
header line uses most. Every parser here raises CellError with a message for the owner.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

DELIMITERS = (";", ",", "\t")
MAX_PRICE = Decimal("99999999.99")  # Service.price_* hold 10 digits, 2 after the point


class FileError(Exception):
    """The file as a whole cannot be read (encoding, no header)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CellError(Exception):
    """One cell does not hold what its column needs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number of the row's first line, cells)
    delimiter: str
    encoding: str


def text_decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the encoding it was in."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise FileError("encoding", _("The file is not readable text.")) from error
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError as error:
        raise FileError("encoding", _("The file is neither UTF-8 nor Windows-1251 text: save "
                                      "it from the spreadsheet as “CSV UTF-8”.")) from error


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def table_read(data: bytes) -> Table:
    """The header and the non-blank rows, each with the file line it starts on (header = 1)."""
    text, encoding = text_decode(data)
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise FileError("empty", _("The file is empty."))
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if header is None:
                header = cells
                continue
            rows.append((start, cells))
    except csv.Error as error:
        raise FileError("csv", _("Line %(line)d cannot be read as CSV: %(error)s")
                        % {"line": reader.line_num, "error": error}) from error
    if header is None:
        raise FileError("empty", _("The file is empty."))
    return Table(header=header, rows=rows, delimiter=delimiter, encoding=encoding)


def name_key(text: str) -> str:
    """How names and headers are compared: case, "ё", spaces, "_" and "-" do not matter."""
    text = text.replace("\ufeff", "").casefold().replace("ё", "е")
    text = re.sub(r"[_\-]+", " ", text)
    return " ".join(text.split()).strip(" *:")


def list_parse(text: str) -> list[str]:
    """"терапевт, эндодонтист" -> ["терапевт", "эндодонтист"]; also ";" and new lines."""
    items: list[str] = []
    for part in re.split(r"[,;\n]", text):
        item = " ".join(part.split())
        if item and item not in items:
            items.append(item)
    return items


_TRUE = {"1", "yes", "y", "true", "+", "да", "д", "активен", "активна", "active"}
_FALSE = {"0", "no", "n", "false", "-", "нет", "н", "неактивен", "неактивна", "inactive"}


def bool_parse(text: str) -> bool:
    key = name_key(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError("invalid_bool", _("Write “yes” or “no” here, not “%(text)s”.")
                    % {"text": text})


_MINUTES = re.compile(r"^(\d{1,4})(?:[.,]0+)?\s*(?:min|mins|minutes?|мин|минут[аы]?)?\.?$")


def minutes_parse(text: str) -> int:
    match = _MINUTES.match(name_key(text))
    if not match:
        raise CellError("invalid_minutes", _("“%(text)s” is not a number of minutes.")
                        % {"text": text})
    return int(match.group(1))


_CURRENCY = re.compile(r"(₽|руб(лей|ля|ль)?\.?|р\.|rub\.?|rur)", re.IGNORECASE)


def money_parse(text: str) -> Decimal:
    cleaned = _CURRENCY.sub("", text)
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", cleaned)
    if "," in cleaned and "." in cleaned:
        raise CellError("invalid_price", _("“%(text)s” is not a price.") % {"text": text})
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        raise CellError("invalid_price", _("“%(text)s” is not a price.") % {"text": text})
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise CellError("invalid_price", _("“%(text)s” is not a price.")
                        % {"text": text}) from error
    if value > MAX_PRICE:
        raise CellError("invalid_price", _("“%(text)s” is too large a price.") % {"text": text})
    return value


_RANGE = re.compile(r"^(?:от|from)?\s*(.+?)\s*(?:[-–—]|\.\.|\bдо\b|\bto\b)\s*(.+)$",
                    re.IGNORECASE)


def price_parse(text: str) -> tuple[Decimal, Decimal]:
    """"5000" -> (5000, 5000); "5 000–8 000 ₽", "от 5000 до 8000" -> (5000, 8000)."""
    match = _RANGE.match(text.strip())
    if match is None:
        bare = re.sub(r"^(?:от|from)\s*", "", text.strip(), flags=re.IGNORECASE)
        if bare != text.strip():
            raise CellError("open_price_range",
                            _("Give the whole range, like 5000-8000, not only where it "
                              "starts."))
        value = money_parse(text)
        return value, value
    low, high = money_parse(match.group(1)), money_parse(match.group(2))
    if low > high:
        raise CellError("price_range_reversed",
                        _("The price range %(text)s goes down: write the lower price first.")
                        % {"text": text})
    return low, high


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


def _date_prefix(text: str) -> tuple[date, str] | None:
    """A date at the start of `text` (2026-12-01 or 01.12.2026 / 01/12/2026), and the rest."""
    iso = _ISO_DATE.match(text)
    dmy = _DMY_DATE.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
        rest = text[iso.end():]
    elif dmy:
        day, month, year = (int(g) for g in dmy.groups())
        rest = text[dmy.end():]
    else:
        return None
    try:
        return date(year, month, day), rest
    except ValueError:
        return None


def date_parse(text: str) -> date:
    """2026-12-01, 01.12.2026 or 01/12/2026 (day first); a midnight time after it is allowed."""
    parsed = _date_prefix(text.strip())
    if parsed is not None:
        day, rest = parsed
        rest = rest.strip().lstrip("T").strip()
        if not rest or re.fullmatch(r"0{1,2}:00(:00)?", rest):
            return day
    raise CellError("invalid_date", _("“%(text)s” is not a date like 2026-12-01 or 01.12.2026.")
                    % {"text": text})


def time_parse(text: str) -> tuple[int, int, int]:
    match = _TIME.match(text.strip())
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return hour, minute, second
    raise CellError("invalid_time", _("“%(text)s” is not a time like 10:30.") % {"text": text})


def local_datetime_parse(text: str, *, timezone: ZoneInfo) -> datetime:
    """"2026-12-01 10:30", "2026-12-01T10:30", "01.12.2026 10:30" in `timezone`, made aware."""
    parsed = _date_prefix(text.strip())
    if parsed is None:
        raise CellError("invalid_datetime",
                        _("“%(text)s” is not a date and time like 2026-12-01 10:30 or "
                          "01.12.2026 10:30.") % {"text": text})
    day, rest = parsed
    rest = rest.lstrip(",").strip()
    if rest.startswith("T"):
        rest = rest[1:]
    if not rest:
        raise CellError("no_time", _("“%(text)s” has a date but no time.") % {"text": text})
    return local_aware(day, time_parse(rest), timezone=timezone, text=text)


def local_aware(day: date, hms: tuple[int, int, int], *, timezone: ZoneInfo,
                text: str) -> datetime:
    naive = datetime(day.year, day.month, day.day, *hms)  # noqa: DTZ001 - made aware below
    aware = naive.replace(tzinfo=timezone)
    if aware.astimezone(UTC).astimezone(timezone).replace(tzinfo=None) != naive:
        raise CellError("nonexistent_time",
                        _("%(text)s does not exist in the clinic's time zone (the clocks "
                          "change then).") % {"text": text})
    return aware
