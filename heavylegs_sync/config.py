"""Typed settings: command-line flag > environment variable > TOML file > default.

Every key is optional. Each setting is declared once, as a field of a frozen dataclass with
its default and a :func:`setting` spec (documentation, environment variable, bounds); the
allowed keys, the checks, ``heavylegs config --sample`` and docs/settings.md all come from
those fields (:mod:`heavylegs_sync.config_docs` renders them). Nothing else in the package
reads the environment or the settings file.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from types import UnionType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from heavylegs_sync.environment import (
    ENV_CONFIG,
    ENV_DB,
    ENV_STRAVA_API_BASE,
    ENV_STRAVA_CLIENT_ID,
    ENV_STRAVA_CLIENT_SECRET,
    ENV_STRAVA_OAUTH_BASE,
    ENV_STRAVA_TOKEN,
    ENV_STRAVA_URL,
)
from heavylegs_sync.errors import ConfigError
from heavylegs_sync.limits import (
    BYTES_PER_MB,
    DEFAULT_MAX_ARCHIVE_MB,
    DEFAULT_MAX_EXPORT_ROWS,
    DEFAULT_MAX_FILE_MB,
    MAX_GAP_S,
    SETTING_HR_RANGE,
)

APP_NAME = "heavylegs"

#: Strava's API base until its announced successor (``https://www.api-v3.strava.com``)
#: resolves; docs/strava.md says how to switch with ``[strava] api_base``.
STRAVA_API_BASE = "https://www.strava.com/api/v3"
STRAVA_OAUTH_BASE = "https://www.strava.com"

#: Heart rates a setting may hold, bpm (outside: a typo, not a person).
HR_BETWEEN = (int(SETTING_HR_RANGE[0]), int(SETTING_HR_RANGE[1]))

#: Parses one value of a setting (already known to be present); ``where`` names it for the
#: error (``[strava] api_base (or HEAVYLEGS_STRAVA_API_BASE)``).
Parser = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Spec:
    """What the code and the docs need to know about one setting besides its default."""

    doc: str
    env: str | None = None  # an environment variable that beats the file
    flag: str | None = None  # a command-line option that beats the environment
    default_doc: str | None = None  # the default in words, when it is None or computed
    example: Any = None  # a value for the sample file, when the default is None
    positive: bool = False  # numbers: above zero (else: zero or more)
    share: bool = False  # numbers: a share from 0 to 1
    days: bool = False  # numbers: a window of whole days, at least 1
    between: tuple[int, int] | None = None  # numbers: an inclusive range
    parse: Parser | None = None  # a value's own check (zones, dates, URLs ...)


def setting(default: Any, doc: str, **spec: Any) -> Any:
    """A dataclass field that carries its :class:`Spec` (typed ``Any`` like ``field()``)."""
    return field(default=default, metadata={"spec": Spec(doc=doc, **spec)})


def _check_store(value: Any, where: str) -> str:
    """A file path (``~`` expanded) or a server URL, kept as text: a URL is no path."""
    text = _string(value, where)
    return text if is_server_url(text) else str(Path(text).expanduser())


def is_server_url(target: object) -> bool:
    """Whether a store target names a PostgreSQL database rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def _check_zone(value: Any, where: str) -> str:
    text = _string(value, where)
    _zone(text)  # fail now, not at the first GPX file
    return text


def check_zone_name(name: str) -> str:
    """An IANA zone name as given to ``athletes add --timezone``: checked now."""
    _zone(name)
    return name


def _check_method(value: Any, where: str) -> str:
    """A zone model heavylegs knows (or "auto"): a typo fails at load, in every command."""
    from heavylegs_sync.hr.zones import ZoneError, parse_method

    text = _string(value, where)
    try:
        parse_method(text)
    except ZoneError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return text


def _check_sport(value: Any, where: str) -> str:
    from heavylegs_sync.categories import known_sport

    text = _string(value, where)
    if not known_sport(text):
        raise ConfigError(f"{where} {text!r} is not a sport heavylegs knows")
    return text


def _check_bounds(value: Any, where: str) -> tuple[float, ...]:
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in value)
    ):
        raise ConfigError(f"{where} must be four numbers (upper bounds of zones 1-4)")
    return tuple(float(b) for b in value)


def _check_peak(value: Any, where: str) -> tuple[tuple[date, date], ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list of [first, last] date pairs")
    parsed: list[tuple[date, date]] = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise ConfigError(f"{where} entry {item!r} is not a [first, last] pair")
        first, last = (_date(day, where) for day in item)
        if last < first:
            raise ConfigError(f"{where} range {first} .. {last} ends before it starts")
        parsed.append((first, last))
    return tuple(parsed)


def _check_url(value: Any, where: str) -> str:
    text = _string(value, where)
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{where} must start with http:// or https://, not {text!r}")
    return text.rstrip("/")


def _check_client_id(value: Any, where: str) -> str:
    """Strava shows the id as a number; written unquoted in TOML it is one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _string(value, where)


@dataclass(frozen=True)
class StoreSettings:
    """Where the store lives."""

    path: str | None = setting(
        None,
        "The store: an SQLite file, or a PostgreSQL database as `postgresql://user@host/dbname`.",
        parse=_check_store,
        env=ENV_DB,
        flag="--db",
        default_doc="`heavylegs.sqlite` in the user data folder"
        " (`~/.local/share/heavylegs/` on Linux)",
        example="~/training/heavylegs.sqlite",
    )


@dataclass(frozen=True)
class AthleteSettings:
    """Who the data belongs to; the time zone places activities that carry no offset."""

    timezone: str | None = setting(
        None,
        "IANA time zone that places activities whose file carries no UTC offset (GPX, TCX,"
        " a Strava export's rows); beats what the other activities say.",
        default_doc="the zone the nearest activity with an offset says, else this machine's",
        example="Europe/Berlin",
        parse=_check_zone,
    )
    max_hr: float | None = setting(
        None,
        "Maximum heart rate, bpm; beats the watch's setting, Strava's zones and the estimate.",
        default_doc="the watch's, else Strava's, else an estimate",
        example=190,
        between=HR_BETWEEN,
    )
    resting_hr: float | None = setting(
        None, "Resting heart rate, bpm (method `hrr`).", example=50, between=HR_BETWEEN
    )
    lthr: float | None = setting(
        None, "Lactate-threshold heart rate, bpm (method `lthr`).", example=172, between=HR_BETWEEN
    )


@dataclass(frozen=True)
class ZoneSettings:
    """Which heart-rate zone model to use; unset, the best the known values allow."""

    method: str | None = setting(
        None,
        'Zone model: "hrmax", "hrr", "lthr" or "bpm".',
        default_doc="the best the known values allow",
        example="hrmax",
        parse=_check_method,
    )
    bounds: tuple[float, ...] | None = setting(
        None,
        'Upper bounds of zones 1-4 in bpm, for method "bpm".',
        example=[123, 153, 169, 184],
        parse=_check_bounds,
    )


@dataclass(frozen=True)
class SeasonSettings:
    """Inclusive date ranges of peak training; every other week is off-season."""

    peak: tuple[tuple[date, date], ...] = setting(
        (),
        "Inclusive [first, last] date ranges of peak training; every other week is off-season.",
        example=[["2026-02-16", "2026-03-29"]],
        parse=_check_peak,
    )

    def is_peak(self, day: date) -> bool:
        """Whether a day lies in a peak range."""
        return any(first <= day <= last for first, last in self.peak)


@dataclass(frozen=True)
class RuleSettings:
    """Every threshold of the checks; docs/rules.md explains each (docs/wellness.md the
    sleep, resting-HR and HRV ones)."""

    min_rest_days: int = setting(1, "Fewest rest days a complete week needs (cause 1).")
    max_days_without_rest: int = setting(
        7, "Most training days in a row before a rest day is due (cause 1)."
    )
    max_hard_share: float = setting(
        0.20, "Largest share of running time in hard zones 3-5 (cause 2).", share=True
    )
    min_hr_coverage: float = setting(
        0.6, "Share of running time with heart rate needed to judge the hard share.", share=True
    )
    hard_run_min_seconds: float = setting(
        600.0, "A run with at least this many seconds in hard zones is a hard run."
    )
    hard_run_min_share: float = setting(
        0.25, "A run with at least this share of its time in hard zones is a hard run.", share=True
    )
    long_run_min_seconds: float = setting(4500.0, "A run at least this long (s) is a long run.")
    long_run_week_min_seconds: float = setting(
        3600.0, "The week's longest run is long from this duration (s) ..."
    )
    long_run_median_factor: float = setting(
        1.5, "... when it is also this many times the week's median run."
    )
    min_strength_off_season: int = setting(
        2, "Fewest strength sessions in an off-season week (cause 5)."
    )
    max_strength_off_season: int = setting(
        3, "Most strength sessions in an off-season week (cause 6)."
    )
    min_strength_peak: int = setting(1, "Fewest strength sessions in a peak week (cause 5).")
    max_strength_peak: int = setting(2, "Most strength sessions in a peak week (cause 6).")
    leg_heavy_share: float = setting(
        0.5, "A strength session with more than this share of leg sets is leg-heavy.", share=True
    )
    min_activity_seconds: float = setting(
        300.0,
        "Activities shorter than this (s) are listed but not judged: an accidental recording"
        " of a few minutes makes no training day and no week with running.",
    )
    max_gap_s: float = setting(
        MAX_GAP_S, "A gap between samples longer than this (s) counts as no data in zone times."
    )
    # heavylegs today: windows in local days before day D.
    recent_days: int = setting(
        7,
        "`today`: the days before D that rest, hard share and strength are counted over.",
        days=True,
    )
    strength_window_days: int = setting(
        14, "`today`: the days cause 5 counts strength sessions over.", days=True
    )
    acute_days: int = setting(
        7, "`today`: the acute window of the load ratio (at most `chronic_days`).", days=True
    )
    chronic_days: int = setting(
        28,
        "`today`: the chronic window of the load ratio; also the history it needs.",
        days=True,
    )
    max_acute_chronic_ratio: float = setting(
        1.5, "`today`: the largest acute:chronic load ratio (cause 1)."
    )
    # Sleep, resting heart rate and HRV (docs/wellness.md); judged only where such data is.
    min_sleep_hours: float = setting(
        7.0,
        "Shortest average sleep, hours asleep a night, before it counts as too little (cause 10).",
        positive=True,
    )
    sleep_nights_today: int = setting(
        3,
        "`today`: the nights before D that sleep is averaged over, D's own night"
        " included (3: the nights ending on D-2, D-1 and D).",
        days=True,
    )
    min_sleep_nights_today: int = setting(
        2, "`today`: fewest of those nights recorded for sleep to be judged.", days=True
    )
    min_sleep_nights_week: int = setting(
        4,
        "Fewest nights of a week (wake dates Monday to Sunday) recorded for its average"
        " sleep to be judged.",
        between=(1, 7),
    )
    min_short_night_key_runs: int = setting(
        2,
        "A week's hard or long runs on a day whose night was shorter than min_sleep_hours"
        " that make it cause 10 on their own.",
        days=True,
    )
    max_resting_hr_rise: float = setting(
        5.0,
        "Largest rise of the recent mean resting heart rate over its baseline (the"
        " median), bpm, before it is a sign of too little recovery (cause 1).",
        positive=True,
    )
    min_resting_hr_days: int = setting(
        4,
        "Fewest days of the recent window (D-7..D-1, or the week) with a resting heart"
        " rate for it to be judged.",
        days=True,
    )
    min_resting_hr_baseline_days: int = setting(
        14, "Fewest days of the baseline with a resting heart rate.", days=True
    )
    hrv_drop_sd: float = setting(
        1.0,
        "How many standard deviations of the baseline's ln(HRV) the recent mean of"
        " ln(HRV) may fall below the baseline's mean (cause 1).",
        positive=True,
    )
    min_hrv_nights: int = setting(
        3,
        "Fewest nights of the recent window (D-7..D-1, or the week) with an HRV for it"
        " to be judged.",
        days=True,
    )
    min_hrv_baseline_nights: int = setting(
        14, "Fewest nights of the baseline with an HRV.", days=True
    )
    baseline_first_day: int = setting(
        60,
        "The resting-HR and HRV baseline begins this many days before D (`today`) or"
        " before the week's Monday (the report).",
        days=True,
    )
    baseline_last_day: int = setting(
        8,
        "`today`: the baseline ends this many days before D; the recent window is the"
        " days after it up to D-1 (8: the baseline D-60..D-8, the recent window D-7..D-1)."
        " In the report the recent window is the week and the baseline ends the day"
        " before it.",
        between=(2, 365),
    )


#: The id of a store's first athlete, who keeps the token file of a one-runner store.
FIRST_ATHLETE_ID = 1


@dataclass(frozen=True)
class StravaSettings:
    """The runner's own Strava API application and how hard the sync may use it."""

    client_id: str | None = setting(
        None,
        "Client ID of your Strava API application.",
        env=ENV_STRAVA_CLIENT_ID,
        example="12345",
        parse=_check_client_id,
    )
    client_secret: str | None = setting(
        None,
        "Client secret of that application; keep this file readable by you alone.",
        env=ENV_STRAVA_CLIENT_SECRET,
        example="…",
    )
    api_url: str | None = setting(
        None,
        "Scheme and host that replace `https://www.strava.com` for every call (API under"
        " `/api/v3`, OAuth under `/oauth`); `api_base` and `oauth_base` win over it.",
        env=ENV_STRAVA_URL,
        example="http://127.0.0.1:8000",
        parse=_check_url,
    )
    api_base: str | None = setting(
        None,
        "Where API paths are appended (`{api_base}/athlete/activities`).",
        env=ENV_STRAVA_API_BASE,
        default_doc=f"`{STRAVA_API_BASE}`",
        example="https://api-v3.strava.com",
        parse=_check_url,
    )
    oauth_base: str | None = setting(
        None,
        "Where OAuth paths are appended (`{oauth_base}/oauth/token`, `/oauth/revoke`, ...).",
        env=ENV_STRAVA_OAUTH_BASE,
        default_doc=f"`{STRAVA_OAUTH_BASE}`",
        example=STRAVA_OAUTH_BASE,
        parse=_check_url,
    )
    token_file: Path | None = setting(  # noqa: RUF009 (setting() is a field())
        None,
        "Where the Strava tokens are kept (mode 0600); a store of several athletes keeps"
        " each one's apart and refuses this setting.",
        env=ENV_STRAVA_TOKEN,
        default_doc="`strava-token.json` beside the store (other athletes:"
        " `strava-tokens/athlete-ID.json`)",
        example="~/.local/share/heavylegs/strava-token.json",
    )
    per_page: int = setting(200, "Activities asked for per list request.", between=(1, 200))
    reserve: int = setting(3, "Requests left unused in each rate-limit window.")
    max_retries: int = setting(3, "Retries of a timeout or server error (5xx), with backoff.")
    timeout_s: float = setting(
        30.0,
        "Seconds a request may take in all (connecting, waiting and reading the answer),"
        " however slowly the server sends it.",
        positive=True,
    )
    max_requests: int = setting(
        1000,
        "Most API requests one sync run makes, whatever Strava's rate-limit headers say;"
        " the next run goes on from there.",
        between=(1, 1_000_000),
    )
    max_run_minutes: float = setting(
        30.0,
        "Longest one sync run may go on making requests, in minutes; the next run goes on.",
        positive=True,
    )
    max_answer_mb: float = setting(
        64.0, "Largest answer read from Strava, in MB; a larger one stops the run.", positive=True
    )
    redirect_port: int = setting(
        8765,
        "Port on 127.0.0.1 that catches the browser's return from Strava (0: any free port).",
        between=(0, 65535),
    )

    @property
    def max_answer_bytes(self) -> int:
        """The cap on one answer's body, in bytes."""
        return int(self.max_answer_mb * BYTES_PER_MB)

    def token_path(self, db_path: Path, athlete_id: int | None = None) -> Path:
        """Where an athlete's tokens live: the setting, else next to the store.

        The store's first athlete (id 1: the one every store made before athletes existed
        holds, or None: no athlete yet) keeps ``strava-token.json``; every other athlete
        has a file of their own, named by their id, which a rename does not change."""
        if self.token_file:
            return self.token_file
        if athlete_id is None or athlete_id == FIRST_ATHLETE_ID:
            return db_path.with_name("strava-token.json")
        return db_path.with_name("strava-tokens") / f"athlete-{athlete_id}.json"

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

    gpx_sport: str | None = setting(
        None,
        "Sport of GPX files that carry no `<type>`.",
        flag="import --gpx-sport",
        default_doc="inferred from pace",
        example="running",
        parse=_check_sport,
    )
    max_file_mb: float = setting(
        DEFAULT_MAX_FILE_MB,
        "Largest file read, in MB, plain or decompressed; larger ones fail.",
        positive=True,
    )
    max_archive_mb: float = setting(
        DEFAULT_MAX_ARCHIVE_MB,
        "Most read from one zip archive in all, in MB, decompressed; the rest of a larger"
        " archive is not read.",
        positive=True,
    )
    max_export_rows: int = setting(
        DEFAULT_MAX_EXPORT_ROWS,
        "Most rows read from a Strava export's activities.csv; the rest are left out, with"
        " one line saying so.",
        positive=True,
    )

    @property
    def max_bytes(self) -> int:
        """The size cap in bytes."""
        return int(self.max_file_mb * BYTES_PER_MB)

    @property
    def max_archive_bytes(self) -> int:
        """The cap on one archive's inflated content, in bytes."""
        return int(self.max_archive_mb * BYTES_PER_MB)


def _check_notify_urls(value: Any, where: str) -> tuple[str, ...]:
    """A list of Apprise addresses (``ntfy://topic``, ``mailto://...``, ``json://host``)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} must be a list of notification addresses")
    for url in value:
        if "://" not in url:
            raise ConfigError(
                f"{where}: an address looks like 'ntfy://my-topic', not a value without '://'"
            )
    return tuple(v.strip() for v in value)


@dataclass(frozen=True)
class NotifySettings:
    """Where `watch` and `strava sync` send a short message when a new cause appears."""

    urls: tuple[str, ...] = setting(
        (),
        "Apprise addresses (ntfy, e-mail, Telegram, Matrix, Slack, a JSON webhook ...) that"
        " get one short message per new cause of heavy legs; `--notify URL` adds more.",
        example=["ntfys://my-heavylegs-topic"],
        flag="--notify",
        parse=_check_notify_urls,
    )


#: The tables of the settings file, in the order the sample and the docs show them.
SECTIONS: dict[str, type[Any]] = {
    "store": StoreSettings,
    "athlete": AthleteSettings,
    "zones": ZoneSettings,
    "season": SeasonSettings,
    "rules": RuleSettings,
    "import": ImportSettings,
    "strava": StravaSettings,
    "notify": NotifySettings,
}


@dataclass(frozen=True)
class Settings:
    """All settings, resolved."""

    db_path: Path  # the SQLite file; for a server, a local folder's file for its locks, tokens
    config_path: Path | None
    athlete: AthleteSettings = field(default_factory=AthleteSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)
    zones: ZoneSettings = field(default_factory=ZoneSettings)
    season: SeasonSettings = field(default_factory=SeasonSettings)
    rules: RuleSettings = field(default_factory=RuleSettings)
    strava: StravaSettings = field(default_factory=StravaSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    raw: Mapping[str, Any] = field(default_factory=dict)  # the whole TOML, for later sections
    db_url: str | None = None  # a PostgreSQL database, when the store is one
    athlete_name: str | None = None  # --athlete; None: the store's only athlete

    @property
    def db_target(self) -> Path | str:
        """What :meth:`heavylegs_sync.store.Store.open` opens: the server or the file."""
        return self.db_url or self.db_path

    @property
    def db_shown(self) -> str:
        """The store as messages name it (a server's URL without its password)."""
        if self.db_url is None:
            return str(self.db_path)
        from heavylegs_sync.store.postgres import shown_url

        return shown_url(self.db_url)

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


#: The tables an athlete may set for themselves under ``[athletes.NAME]``.
ATHLETE_SECTIONS = ("athlete", "zones", "season", "rules")


def load_settings(
    config: Path | str | None = None,
    db: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    athlete: str | None = None,
) -> Settings:
    """Resolve settings from a flag value, the environment and the TOML file.

    A file named by flag or environment must exist; the default file may be absent.
    ``athlete``: their own tables (``[athletes.NAME.rules]`` ...) over the shared ones.
    """
    environ = os.environ if env is None else env
    explicit = config or environ.get(ENV_CONFIG) or None
    path = Path(explicit).expanduser() if explicit else default_config_path()
    data: dict[str, Any] = {}
    config_path: Path | None = path
    if path.is_file():
        data = _read_toml(path)
    elif explicit:
        raise ConfigError(f"{path}: settings file not found")
    else:
        config_path = None
    unknown = set(data) - set(SECTIONS) - {"athletes"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))}"
            f" (known: {', '.join(sorted(SECTIONS))})"
        )
    try:
        own = _athlete_tables(data, athlete)
        merged = {
            name: {**_table(data, name), **own.get(name, {})} if name in own else data.get(name, {})
            for name in SECTIONS
        }
        parsed = {name: _read_section(name, merged, environ) for name in SECTIONS}
        _check_together(parsed["rules"])
        _check_zones(parsed["athlete"], parsed["zones"])
    except ConfigError as exc:  # name the file; with none, the environment was wrong
        raise ConfigError(f"{path if config_path else 'settings'}: {exc}") from exc
    store: StoreSettings = parsed["store"]
    target = str(db) if db else store.path
    db_url = target if is_server_url(target) else None
    if db_url is not None:
        db_path = server_folder(db_url) / "store"
    else:
        db_path = Path(target).expanduser() if target else default_db_path()
    return Settings(
        db_url=db_url,
        athlete_name=athlete,
        db_path=db_path,
        config_path=config_path,
        athlete=parsed["athlete"],
        imports=parsed["import"],
        zones=parsed["zones"],
        season=parsed["season"],
        rules=parsed["rules"],
        strava=parsed["strava"],
        notify=parsed["notify"],
        raw=data,
    )


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"[{name}] must be a table")
    return section


def _athlete_tables(data: Mapping[str, Any], athlete: str | None) -> dict[str, dict[str, Any]]:
    """``[athletes.NAME.*]``: every athlete's tables checked (a typo must not wait for
    the day that athlete is named), the named athlete's returned."""
    squad = data.get("athletes", {})
    if not isinstance(squad, dict):
        raise ConfigError("[athletes] must hold one table per athlete ([athletes.NAME.rules])")
    for name, tables in squad.items():
        if not isinstance(tables, dict):
            raise ConfigError(
                f"[athletes.{name}] must be a table of tables ([athletes.{name}.rules])"
            )
        wrong = sorted(set(tables) - set(ATHLETE_SECTIONS))
        if wrong:
            raise ConfigError(
                f"[athletes.{name}] has no table {', '.join(repr(w) for w in wrong)}"
                f" (an athlete may set: {', '.join(ATHLETE_SECTIONS)})"
            )
        for section, values in tables.items():
            if not isinstance(values, dict):
                raise ConfigError(f"[athletes.{name}.{section}] must be a table")
            try:
                _read_section(section, {section: values}, {})
            except ConfigError as exc:
                raise ConfigError(f"[athletes.{name}] {exc}") from exc
    own = squad.get(athlete, {}) if athlete is not None else {}
    return dict(own)


def server_folder(url: str) -> Path:
    """The local folder for what a server's store keeps on this machine (the Strava
    tokens, the sync's lock), one per server and database."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = f"{parts.hostname or 'local'}-{parts.port or 5432}-{parts.path.strip('/') or 'db'}"
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in name)
    return Path(platformdirs.user_data_dir(APP_NAME)) / "servers" / safe


def local_zone() -> ZoneInfo:
    """This machine's IANA zone (DST-aware, unlike a fixed offset), UTC if unknown."""
    import tzlocal

    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # tzlocal raises several kinds when the machine's zone is unset
        name = None
    return _zone(name or "UTC")


def specs(section: str) -> list[tuple[Field[Any], Spec]]:
    """A section's settings in declaration order, each with its spec."""
    return [(f, f.metadata["spec"]) for f in fields(SECTIONS[section])]


def default_of(item: Field[Any]) -> Any:
    """A setting's default value."""
    return item.default if item.default is not MISSING else None


def kind_of(cls: type[Any], name: str) -> type[Any]:
    """The type a setting holds, None left out (``float | None`` -> ``float``)."""
    hint = typing.get_type_hints(cls)[name]
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    origin = typing.get_origin(hint)
    return typing.cast(type[Any], origin or hint)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Europe" is a folder
        raise ConfigError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from exc


#: A settings file is a few kilobytes, three tables deep at most; these caps refuse a
#: hostile one before it costs memory or Python's recursion limit (tomllib recurses).
MAX_SETTINGS_BYTES = 1 << 20
MAX_SETTINGS_DEPTH = 16


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only with a settings file: a start-up without one never loads it

    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SETTINGS_BYTES + 1)
        if len(raw) > MAX_SETTINGS_BYTES:
            raise ConfigError(
                f"{path}: larger than {MAX_SETTINGS_BYTES >> 10} KB: not a settings file"
            )
        _refuse_deep_nesting(path, raw)
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:  # the scan below already refuses what could get here
        raise ConfigError(f"{path}: nested too deeply to read") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset"
            f" {exc.start}); save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return data


def _refuse_deep_nesting(path: Path, raw: bytes) -> None:
    """Refuse arrays and inline tables nested deeper than :data:`MAX_SETTINGS_DEPTH`, and
    long chains of dotted keys, before tomllib sees them. Brackets and dots inside strings
    and comments are counted too, so the count can only overstate the depth: a real
    settings file stays far below the caps."""
    depth = 0
    deepest = 0
    for byte in raw:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth = max(0, depth - 1)
    # Dotted keys (a.b.c = 1) nest too, and tomllib's time grows with the square of them.
    dots = max((line.count(b".") for line in raw.splitlines()), default=0)
    if dots > 4 * MAX_SETTINGS_DEPTH:
        raise ConfigError(
            f"{path}: a line with {dots} dots (dotted keys nest tables; at most"
            f" {4 * MAX_SETTINGS_DEPTH} a line); not a heavylegs settings file"
        )
    if deepest > MAX_SETTINGS_DEPTH:
        raise ConfigError(
            f"{path}: arrays or tables nested {deepest} deep (at most {MAX_SETTINGS_DEPTH});"
            " not a heavylegs settings file"
        )


def _read_section(name: str, data: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    """One table: known keys only, each value checked, the environment beating the file."""
    cls = SECTIONS[name]
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"[{name}] must be a table")
    declared = specs(name)
    known = [item.name for item, _ in declared]
    unknown = sorted(set(section) - set(known))
    if unknown:  # a mistyped key must not be silently ignored (a peak season would vanish)
        import difflib  # only for this message: every command reads the settings

        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known))}"
        raise ConfigError(f"[{name}] has no setting {', '.join(repr(k) for k in unknown)} ({hint})")
    values: dict[str, Any] = {}
    for item, spec in declared:
        value = (environ.get(spec.env) if spec.env else None) or section.get(item.name)
        if value is None:
            continue
        where = f"[{name}] {item.name}" + (f" (or {spec.env})" if spec.env else "")
        values[item.name] = _value(cls, item.name, spec, value, where)
    return cls(**values)


def _value(cls: type[Any], name: str, spec: Spec, value: Any, where: str) -> Any:
    if spec.parse is not None:
        return spec.parse(value, where)
    kind = kind_of(cls, name)
    if kind is Path:
        return Path(_string(value, where)).expanduser()
    if kind is str:
        return _string(value, where)
    return _number(value, kind is int, spec, where)


def _number(value: Any, whole: bool, spec: Spec, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a positive number" if spec.positive else "a number >= 0"
        raise ConfigError(f"{where} must be {kind}, not {value!r}")
    if spec.positive and not value > 0:
        raise ConfigError(f"{where} must be a positive number, not {value!r}")
    if value < 0:
        raise ConfigError(f"{where} must be a number >= 0, not {value!r}")
    if whole and not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, not {value!r}")
    if spec.share and value > 1:
        raise ConfigError(f"{where} is a share from 0 to 1, not {value!r}")
    if spec.days and value < 1:
        raise ConfigError(f"{where} is a number of days >= 1, not {value!r}")
    if spec.between and not spec.between[0] <= value <= spec.between[1]:
        low, high = spec.between
        raise ConfigError(f"{where} must be from {low} to {high}, not {value!r}")
    return int(value) if whole else float(value)


def _check_together(rules: RuleSettings) -> None:
    """Checks that span two settings."""
    if rules.acute_days > rules.chronic_days:
        raise ConfigError(
            f"[rules] acute_days ({rules.acute_days}) must not exceed"
            f" chronic_days ({rules.chronic_days})"
        )
    pairs = (
        ("min_sleep_nights_today", "sleep_nights_today"),
        ("baseline_last_day", "baseline_first_day"),
    )
    for small, large in pairs:
        if getattr(rules, small) > getattr(rules, large):
            raise ConfigError(
                f"[rules] {small} ({getattr(rules, small)}) must not exceed"
                f" {large} ({getattr(rules, large)})"
            )
    # The recent window: D-(baseline_last_day - 1)..D-1 for today, the week in a report.
    recent = min(7, rules.baseline_last_day - 1)
    for key in ("min_resting_hr_days", "min_hrv_nights"):
        if getattr(rules, key) > recent:
            raise ConfigError(
                f"[rules] {key} ({getattr(rules, key)}) must not exceed the recent window's"
                f" {recent} days (a week, and baseline_last_day - 1)"
            )
    for key in ("min_resting_hr_baseline_days", "min_hrv_baseline_nights"):
        span = rules.baseline_first_day - rules.baseline_last_day + 1
        if getattr(rules, key) > span:
            raise ConfigError(
                f"[rules] {key} ({getattr(rules, key)}) must not exceed the baseline's"
                f" {span} days (baseline_first_day - baseline_last_day + 1)"
            )


def _check_zones(athlete: AthleteSettings, zones: ZoneSettings) -> None:
    """Build the zones the settings ask for, so every mistake the settings alone make
    (an unknown method, "bpm" without bounds, resting HR above max HR) is found on load by
    every command, ``heavylegs config`` included, not later by the analysis. Without a
    max HR the estimate stands in later: the highest heart rate a setting may hold stands
    in for it here."""
    from heavylegs_sync.hr.zones import ZoneError, build_zone_model

    try:
        build_zone_model(
            zones.method,
            max_hr=athlete.max_hr,
            resting_hr=athlete.resting_hr,
            lthr=athlete.lthr,
            bounds=zones.bounds,
            estimated_max_hr=None if athlete.max_hr is not None else SETTING_HR_RANGE[1],
        )
    except ZoneError as exc:
        raise ConfigError(str(exc)) from exc


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, not {value!r}")
    return value


def _date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
