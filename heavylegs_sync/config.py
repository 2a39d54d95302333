"""Typed settings: command-line flag > environment variable > TOML file > default.

Every key is optional. The file is read once into frozen dataclasses; nothing else in the
package reads the environment or the settings file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from heavylegs_sync.errors import ConfigError
from heavylegs_sync.importers.common import DEFAULT_MAX_ARCHIVE_MB, DEFAULT_MAX_FILE_MB

APP_NAME = "heavylegs"
ENV_CONFIG = "HEAVYLEGS_CONFIG"
ENV_DB = "HEAVYLEGS_DB"
ENV_STRAVA_URL = "HEAVYLEGS_STRAVA_API_URL"
ENV_STRAVA_API_BASE = "HEAVYLEGS_STRAVA_API_BASE"
ENV_STRAVA_OAUTH_BASE = "HEAVYLEGS_STRAVA_OAUTH_BASE"
ENV_STRAVA_TOKEN = "HEAVYLEGS_STRAVA_TOKEN"


@dataclass(frozen=True)
class AthleteSettings:
    """Who the data belongs to; the time zone places activities that carry no offset."""

    timezone: str | None = None  # IANA name; None = this machine's zone
    max_hr: float | None = None
    resting_hr: float | None = None
    lthr: float | None = None


@dataclass(frozen=True)
class ZoneSettings:
    """Which heart-rate zone model to use; None means the best the known values allow."""

    method: str | None = None
    bounds: tuple[float, ...] | None = None  # upper bounds of zones 1-4 in bpm (method "bpm")


@dataclass(frozen=True)
class SeasonSettings:
    """Inclusive date ranges of peak training; every other week is off-season."""

    peak: tuple[tuple[date, date], ...] = ()

    def is_peak(self, day: date) -> bool:
        """Whether a day lies in a peak range."""
        return any(first <= day <= last for first, last in self.peak)


@dataclass(frozen=True)
class RuleSettings:
    """Every threshold of the four checks; docs/rules.md explains each."""

    min_rest_days: int = 1
    max_days_without_rest: int = 7
    max_hard_share: float = 0.20
    min_hr_coverage: float = 0.6
    hard_run_min_seconds: float = 600.0
    hard_run_min_share: float = 0.25
    long_run_min_seconds: float = 4500.0
    long_run_week_min_seconds: float = 3600.0
    long_run_median_factor: float = 1.5
    min_strength_off_season: int = 2
    max_strength_off_season: int = 3
    min_strength_peak: int = 1
    max_strength_peak: int = 2
    leg_heavy_share: float = 0.5
    max_gap_s: float = 30.0
    # heavylegs today (docs/today.md): windows in local days before day D.
    recent_days: int = 7
    strength_window_days: int = 14
    acute_days: int = 7
    chronic_days: int = 28
    max_acute_chronic_ratio: float = 1.5


#: Strava's API base until its announced successor (``https://www.api-v3.strava.com``)
#: resolves; docs/strava.md says how to switch with ``[strava] api_base``.
STRAVA_API_BASE = "https://www.strava.com/api/v3"
STRAVA_OAUTH_BASE = "https://www.strava.com"


@dataclass(frozen=True)
class StravaSettings:
    """The runner's own Strava API application and how hard the sync may use it."""

    client_id: str | None = None
    client_secret: str | None = None
    #: Scheme and host that replace ``https://www.strava.com`` for every call (the API
    #: under ``/api/v3``, OAuth under ``/oauth``); the older, coarser setting.
    api_url: str | None = None
    #: Where API paths (``/athlete/activities``) are appended; wins over ``api_url``.
    api_base: str | None = None
    #: Where ``/oauth/...`` paths are appended; wins over ``api_url``.
    oauth_base: str | None = None
    token_file: Path | None = None  # default: beside the store
    per_page: int = 200
    reserve: int = 3  # requests left unused in each rate-limit window
    max_retries: int = 3
    timeout_s: float = 30.0
    redirect_port: int = 8765

    def token_path(self, db_path: Path) -> Path:
        """Where the tokens live: the setting, else next to the store."""
        return self.token_file or db_path.with_name("strava-token.json")

    @property
    def api_root(self) -> str:
        """The API base URL in force: ``api_base``, else ``api_url`` + ``/api/v3``."""
        if self.api_base:
            return self.api_base.rstrip("/")
        if self.api_url:
            return self.api_url.rstrip("/") + "/api/v3"
        return STRAVA_API_BASE

    @property
    def oauth_root(self) -> str:
        """The OAuth base URL in force: ``oauth_base``, else ``api_url``."""
        return (self.oauth_base or self.api_url or STRAVA_OAUTH_BASE).rstrip("/")


@dataclass(frozen=True)
class ImportSettings:
    """How files are read."""

    gpx_sport: str | None = None  # force the sport of GPX files that carry no <type>
    max_file_mb: float = DEFAULT_MAX_FILE_MB  # larger files, plain or decompressed, fail
    max_archive_mb: float = DEFAULT_MAX_ARCHIVE_MB  # inflated from one zip archive in all

    @property
    def max_bytes(self) -> int:
        """The size cap in bytes."""
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_archive_bytes(self) -> int:
        """The cap on one archive's inflated content, in bytes."""
        return int(self.max_archive_mb * 1024 * 1024)


@dataclass(frozen=True)
class Settings:
    """All settings, resolved."""

    db_path: Path
    config_path: Path | None
    athlete: AthleteSettings = field(default_factory=AthleteSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)
    zones: ZoneSettings = field(default_factory=ZoneSettings)
    season: SeasonSettings = field(default_factory=SeasonSettings)
    rules: RuleSettings = field(default_factory=RuleSettings)
    strava: StravaSettings = field(default_factory=StravaSettings)
    raw: Mapping[str, Any] = field(default_factory=dict)  # the whole TOML, for later sections

    def zoneinfo(self) -> ZoneInfo:
        """The configured time zone, or this machine's, or UTC when neither is known."""
        if self.athlete.timezone:
            return _zone(self.athlete.timezone)
        return local_zone()


def default_config_path() -> Path:
    """Where the settings file lives when neither flag nor environment names one."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_db_path() -> Path:
    """Where the store lives when neither flag, environment nor file names one."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "heavylegs.sqlite"


def load_settings(
    config: Path | str | None = None,
    db: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from a flag value, the environment and the TOML file.

    A file named by flag or environment must exist; the default file may be absent.
    """
    environ = os.environ if env is None else env
    explicit = config or environ.get(ENV_CONFIG) or None
    path = Path(explicit).expanduser() if explicit else default_config_path()
    data: dict[str, Any] = {}
    config_path: Path | None = path
    if path.is_file():
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset"
                f" {exc.start}); save it as UTF-8"
            ) from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    elif explicit:
        raise ConfigError(f"{path}: settings file not found")
    else:
        config_path = None

    unknown = set(data) - _SECTIONS
    if unknown:
        raise ConfigError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))}"
            f" (known: {', '.join(sorted(_SECTIONS))})"
        )
    for name, keys in _KEYS.items():
        _check_keys(_section(data, name, path), keys, name, path)
    athlete = _section(data, "athlete", path)
    imports = _section(data, "import", path)
    store = _section(data, "store", path)

    timezone = _opt_str(athlete, "timezone", path)
    if timezone:
        _zone(timezone)  # fail now, not at the first GPX file
    athlete_settings = AthleteSettings(
        timezone=timezone,
        max_hr=_opt_number(athlete, "max_hr", path),
        resting_hr=_opt_number(athlete, "resting_hr", path),
        lthr=_opt_number(athlete, "lthr", path),
    )
    zones = _section(data, "zones", path)
    bounds = zones.get("bounds")
    if bounds is not None and (
        not isinstance(bounds, list)
        or len(bounds) != 4
        or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
    ):
        raise ConfigError(
            f"{path}: [zones] bounds must be four numbers (upper bounds of zones 1-4)"
        )
    zone_settings = ZoneSettings(
        method=_opt_str(zones, "method", path),
        bounds=tuple(float(b) for b in bounds) if bounds is not None else None,
    )
    db_value = db or environ.get(ENV_DB) or _opt_str(store, "path", path)
    db_path = Path(db_value).expanduser() if db_value else default_db_path()
    return Settings(
        db_path=db_path,
        config_path=config_path,
        athlete=athlete_settings,
        imports=ImportSettings(
            gpx_sport=_gpx_sport(_opt_str(imports, "gpx_sport", path), path),
            max_file_mb=_opt_number(imports, "max_file_mb", path) or DEFAULT_MAX_FILE_MB,
            max_archive_mb=_opt_number(imports, "max_archive_mb", path) or DEFAULT_MAX_ARCHIVE_MB,
        ),
        zones=zone_settings,
        season=_season(_section(data, "season", path), path),
        rules=_rules(_section(data, "rules", path), path),
        strava=_strava(_section(data, "strava", path), environ, path),
        raw=data,
    )


def local_zone() -> ZoneInfo:
    """This machine's IANA zone (DST-aware, unlike a fixed offset), UTC if unknown."""
    import tzlocal

    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # tzlocal raises several kinds when the machine's zone is unset
        name = None
    return _zone(name or "UTC")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Europe" is a folder
        raise ConfigError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from exc


_KEYS: dict[str, set[str]] = {
    "athlete": {"timezone", "max_hr", "resting_hr", "lthr"},
    "import": {"gpx_sport", "max_file_mb", "max_archive_mb"},
    "store": {"path"},
    "zones": {"method", "bounds"},
    "season": {"peak"},
    "strava": {
        "client_id", "client_secret", "api_url", "api_base", "oauth_base", "token_file",
        "per_page", "reserve",
        "max_retries", "timeout_s", "redirect_port",
    },
}  # fmt: skip
_SECTIONS = {*_KEYS, "rules"}
_SHARES = {"max_hard_share", "min_hr_coverage", "hard_run_min_share", "leg_heavy_share"}
#: Windows in days: an empty window would judge nothing.
_DAYS = {"recent_days", "strength_window_days", "acute_days", "chronic_days"}


def _check_keys(section: Mapping[str, Any], keys: set[str], name: str, path: Path | None) -> None:
    """A mistyped key must not be silently ignored (a peak season would vanish)."""
    unknown = set(section) - keys
    if unknown:
        raise ConfigError(
            f"{path}: [{name}] has no setting {', '.join(repr(k) for k in sorted(unknown))}"
            f" (known: {', '.join(sorted(keys))})"
        )


def _section(data: Mapping[str, Any], name: str, path: Path | None) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


def _gpx_sport(value: str | None, path: Path | None) -> str | None:
    from heavylegs_sync.categories import known_sport

    if value is not None and not known_sport(value):
        raise ConfigError(f"{path}: [import] gpx_sport {value!r} is not a sport heavylegs knows")
    return value


def _season(section: Mapping[str, Any], path: Path | None) -> SeasonSettings:
    ranges = section.get("peak", [])
    if not isinstance(ranges, list):
        raise ConfigError(f"{path}: [season] peak must be a list of [first, last] date pairs")
    parsed: list[tuple[date, date]] = []
    for item in ranges:
        if not isinstance(item, list) or len(item) != 2:
            raise ConfigError(f"{path}: [season] peak entry {item!r} is not a [first, last] pair")
        first, last = (_date(value, path) for value in item)
        if last < first:
            raise ConfigError(
                f"{path}: [season] peak range {first} .. {last} ends before it starts"
            )
        parsed.append((first, last))
    return SeasonSettings(peak=tuple(parsed))


def _date(value: Any, path: Path | None) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{path}: {value!r} is not a date (YYYY-MM-DD)")


def _rules(section: Mapping[str, Any], path: Path | None) -> RuleSettings:
    """Thresholds from [rules]; an unknown key is an error, so a typo cannot go unnoticed."""
    known = {f.name: f for f in fields(RuleSettings)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in known:
            raise ConfigError(f"{path}: [rules] has no setting {key!r}")
        wants_int = known[key].type in (int, "int")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{path}: [rules] {key} must be a number >= 0, not {value!r}")
        if wants_int and not isinstance(value, int):
            raise ConfigError(f"{path}: [rules] {key} must be a whole number, not {value!r}")
        if key in _SHARES and value > 1:
            raise ConfigError(f"{path}: [rules] {key} is a share from 0 to 1, not {value!r}")
        if key in _DAYS and value < 1:
            raise ConfigError(f"{path}: [rules] {key} is a number of days >= 1, not {value!r}")
        values[key] = int(value) if wants_int else float(value)
    rules = RuleSettings(**values)
    if rules.acute_days > rules.chronic_days:
        raise ConfigError(
            f"{path}: [rules] acute_days ({rules.acute_days}) must not exceed"
            f" chronic_days ({rules.chronic_days})"
        )
    return rules


def _strava(
    section: Mapping[str, Any], environ: Mapping[str, str], path: Path | None
) -> StravaSettings:
    """[strava] settings; the client id and secret may come from STRAVA_CLIENT_ID/SECRET.

    Each URL comes from its environment variable, else the file. ``api_base`` and
    ``oauth_base`` (wherever given) win over ``api_url``, which replaces only the host.
    """
    client_id = environ.get("STRAVA_CLIENT_ID") or section.get("client_id")
    secret = environ.get("STRAVA_CLIENT_SECRET") or _opt_str(section, "client_secret", path)
    token = environ.get(ENV_STRAVA_TOKEN) or _opt_str(section, "token_file", path)
    urls: dict[str, str | None] = {}
    for key, variable in (
        ("api_url", ENV_STRAVA_URL),
        ("api_base", ENV_STRAVA_API_BASE),
        ("oauth_base", ENV_STRAVA_OAUTH_BASE),
    ):
        value = environ.get(variable) or _opt_str(section, key, path)
        if value and not value.startswith(("http://", "https://")):
            raise ConfigError(
                f"{path}: [strava] {key} (or {variable}) must start with http:// or https://,"
                f" not {value!r}"
            )
        urls[key] = value.rstrip("/") if value else None
    numbers: dict[str, Any] = {}
    for key, kind in (
        ("per_page", int),
        ("reserve", int),
        ("max_retries", int),
        ("timeout_s", float),
        ("redirect_port", int),
    ):
        value = section.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{path}: [strava] {key} must be a number >= 0, not {value!r}")
        numbers[key] = kind(value)
    if not 1 <= numbers.get("per_page", 200) <= 200:
        raise ConfigError(f"{path}: [strava] per_page must be from 1 to 200")
    return StravaSettings(
        client_id=None if client_id is None else str(client_id),
        client_secret=secret,
        api_url=urls["api_url"],
        api_base=urls["api_base"],
        oauth_base=urls["oauth_base"],
        token_file=Path(token).expanduser() if token else None,
        **numbers,
    )


def _opt_str(section: Mapping[str, Any], key: str, path: Path | None) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string, not {value!r}")
    return value


def _opt_number(section: Mapping[str, Any], key: str, path: Path | None) -> float | None:
    value = section.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{path}: {key} must be a positive number, not {value!r}")
    return float(value)
