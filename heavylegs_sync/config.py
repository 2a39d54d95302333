"""Typed settings: command-line flag > environment variable > TOML file > default.

Every key is optional. The file is read once into frozen dataclasses; nothing else in the
package reads the environment or the settings file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from heavylegs_sync.errors import ConfigError

APP_NAME = "heavylegs"
ENV_CONFIG = "HEAVYLEGS_CONFIG"
ENV_DB = "HEAVYLEGS_DB"


@dataclass(frozen=True)
class AthleteSettings:
    """Who the data belongs to; the time zone places activities that carry no offset."""

    timezone: str | None = None  # IANA name; None = this machine's zone
    max_hr: float | None = None
    resting_hr: float | None = None
    lthr: float | None = None


@dataclass(frozen=True)
class ImportSettings:
    """How files are read."""

    gpx_sport: str | None = None  # force the sport of GPX files that carry no <type>


@dataclass(frozen=True)
class Settings:
    """All settings, resolved."""

    db_path: Path
    config_path: Path | None
    athlete: AthleteSettings = field(default_factory=AthleteSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)
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
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    elif explicit:
        raise ConfigError(f"{path}: settings file not found")
    else:
        config_path = None

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
    db_value = db or environ.get(ENV_DB) or _opt_str(store, "path", path)
    db_path = Path(db_value).expanduser() if db_value else default_db_path()
    return Settings(
        db_path=db_path,
        config_path=config_path,
        athlete=athlete_settings,
        imports=ImportSettings(gpx_sport=_opt_str(imports, "gpx_sport", path)),
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
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from exc


def _section(data: Mapping[str, Any], name: str, path: Path | None) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


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
