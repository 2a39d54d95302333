"""The fast FIT path: fitfast (Rust) decodes, values are given fitparse's conventions.

fitparse stays the reference. fitfast decodes a file some 20-40 times faster, but it
reports checksum errors on some valid files and can panic on malformed ones, and its
newer FIT profile names some enums fitparse does not know. So this module only adapts
fitfast's output to what fitparse would have said — enum names from fitparse's own
profile, timestamps as fitparse converts them — and any doubt (a decode error, a panic,
a chained file) makes the caller fall back to fitparse. A test decodes the whole real
corpus both ways and requires identical results.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fitparse import profile

_FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
_RELATIVE_LIMIT = 0x10000000  # FIT times below this count from device power-on
_ENUMS = {
    ("file_id", "type"): "file",
    ("file_id", "manufacturer"): "manufacturer",
    ("session", "sport"): "sport",
    ("session", "sub_sport"): "sub_sport",
    ("sport", "sport"): "sport",
    ("sport", "sub_sport"): "sub_sport",
    ("set", "set_type"): "set_type",
    ("set", "category"): "exercise_category",
    ("zones_target", "hr_calc_type"): "hr_zone_calc",
}
_DATE_TIMES = {"timestamp", "start_time", "time_created"}
_GARMIN_PRODUCT_MAKERS = {1, 15, 13}  # garmin, dynastream, dynastream_oem (fitparse's rule)
_WANTED = (
    "file_id", "sport", "record", "session", "set", "activity", "zones_target", "user_profile",
)  # fmt: skip
#: Fields the importer reads; a developer field of the same name would shadow it in
#: fitfast's dicts but not in fitparse, so such files go to fitparse.
_READ = {
    "timestamp", "heart_rate", "enhanced_speed", "speed", "distance", "cadence", "sport",
    "sub_sport", "start_time", "total_timer_time", "total_elapsed_time", "total_distance",
    "avg_heart_rate", "max_heart_rate", "local_timestamp", "type", "manufacturer", "product",
    "serial_number", "time_created", "set_type", "category", "repetitions", "weight",
    "duration", "threshold_heart_rate", "hr_calc_type",
    "resting_heart_rate", "default_max_heart_rate", "age",
}  # fmt: skip


def _scales() -> dict[tuple[str, str], float]:
    """Profile scales of the fields we read, to redo fitparse's ``raw / scale`` exactly."""
    result: dict[tuple[str, str], float] = {}
    for message in profile.MESSAGE_TYPES.values():
        if message.name in _WANTED:
            for item in message.fields.values():
                if item.name in _READ and item.scale and item.scale != 1:
                    result[message.name, item.name] = float(item.scale)
    return result


_SCALES = _scales()


class FastMessage:
    """A message with fitparse's ``name`` and ``get_value`` and fitparse's values."""

    __slots__ = ("name", "values")

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self.name = name
        self.values = values

    def get_value(self, key: str) -> Any:
        """The value fitparse would return for this field (None when absent)."""
        return self.values.get(key)


class Unsupported(Exception):
    """A file the fast path leaves to fitparse (e.g. chained files)."""


def fast_messages(data: bytes) -> list[FastMessage]:
    """All messages we read, in an order the importer accepts (file_id first).

    Raises whatever fitfast raises on a bad file (including a Rust panic, which is a
    BaseException), or :class:`Unsupported`.
    """
    import fitfast

    parsed = fitfast.parse(data, enum_names=False, datetimes=False)
    if len(parsed.get("file_id", [])) > 1:
        raise Unsupported("chained FIT file")
    if any("compressed_speed_distance" in r for r in parsed.get("record", [])):
        raise Unsupported("compressed speed/distance (fitparse accumulates it)")
    developer = {str(d.get("field_name")) for d in parsed.get("field_description", [])}
    if developer & _READ:
        raise Unsupported("developer fields named like standard ones")
    return list(_messages(parsed))


def _messages(parsed: dict[str, list[dict[str | int, Any]]]) -> Iterator[FastMessage]:
    for name in _WANTED:
        for raw in parsed.get(name, []):
            yield FastMessage(name, _convert(name, raw))


def _convert(name: str, raw: dict[str | int, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        if key in _DATE_TIMES:
            values[key] = _date_time(value)
        elif key == "local_timestamp":
            values[key] = None if value is None else datetime.utcfromtimestamp(value)
        elif (name, key) in _ENUMS:
            values[key] = _enum(_ENUMS[name, key], value)
        elif (name, key) in _SCALES and isinstance(value, float):
            scale = _SCALES[name, key]
            values[key] = round(value * scale) / scale  # fitparse divides the raw integer
        else:
            values[key] = value
    if name == "file_id":
        maker = raw.get("manufacturer")
        product = raw.get("product")
        if maker in _GARMIN_PRODUCT_MAKERS and product is not None:
            values["garmin_product"] = _enum("garmin_product", product)
            values.pop("product", None)
    if name == "record" and values.get("speed") is not None:
        # fitparse expands the 16-bit speed into enhanced_speed exactly; fitfast's own
        # expansion can be a thousandth off, so the speed itself is the value.
        values["enhanced_speed"] = values["speed"]
    return values


def _date_time(value: Any) -> Any:
    """fitparse's conversion: a datetime (naive UTC) unless the time is device-relative."""
    if value is None:
        return None
    raw = int(value) - _FIT_EPOCH
    if raw >= _RELATIVE_LIMIT:
        return datetime.utcfromtimestamp(_FIT_EPOCH + raw)
    return raw


def _enum(type_name: str, value: Any) -> Any:
    names = profile.FIELD_TYPES[type_name].values
    if isinstance(value, list | tuple):
        converted = [names.get(v, v) if isinstance(v, int) else v for v in value]
        return converted[0] if len(converted) == 1 else converted
    return names.get(value, value) if isinstance(value, int) else value
