"""Settings are declared once: the loader, the sample file and docs/settings.md follow them."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from heavylegs_sync.config import (
    SECTIONS,
    Settings,
    default_of,
    kind_of,
    load_settings,
    specs,
)
from heavylegs_sync.config_docs import sample_toml
from heavylegs_sync.errors import ConfigError
from heavylegs_sync.limits import MAX_GAP_S
from tests.conftest import heavylegs_cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Every section's settings, as (section, name) pairs.
ALL = [(section, item.name) for section in SECTIONS for item, _ in specs(section)]


def sections(settings: Settings) -> dict[str, Any]:
    """The parsed tables of a Settings, keyed by their TOML names."""
    by_type = {type(getattr(settings, f.name)): f.name for f in fields(Settings)}
    return {
        name: getattr(settings, by_type[cls]) for name, cls in SECTIONS.items() if cls in by_type
    }


def load(tmp_path: Path, toml: str, **env: str) -> Settings:
    path = tmp_path / "settings.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings(config=path, env=env)


def test_the_committed_reference_is_what_the_code_declares() -> None:
    """docs/settings.md is `heavylegs config --docs`; regenerate it when a setting changes."""
    done = heavylegs_cli("config", "--docs", env={})
    assert done.returncode == 0, done.stderr
    committed = (DOCS / "settings.md").read_text(encoding="utf-8")
    assert done.stdout == committed, (
        "docs/settings.md is stale: heavylegs config --docs > docs/settings.md"
    )
    for section, name in ALL:
        assert f"`{name}`" in committed.split(f"## [{section}]")[1].split("\n## ")[0]


def test_the_sample_holds_every_setting_and_loads_to_the_defaults(tmp_path: Path) -> None:
    done = heavylegs_cli("config", "--sample", env={})
    assert done.returncode == 0, done.stderr
    sample = done.stdout
    for section, name in ALL:
        block = sample.split(f"\n[{section}]\n")[1].split("\n[")[0]
        assert re.search(rf"^(# )?{name} = ", block, re.MULTILINE), (section, name)
    assert sections(load(tmp_path, sample)) == sections(load(tmp_path, ""))
    assert load(tmp_path, sample).rules.max_gap_s == MAX_GAP_S


def test_every_example_in_the_sample_is_a_valid_value_that_is_read(tmp_path: Path) -> None:
    """Uncomment every example: the file still loads, and each example changed its setting."""
    examples = re.sub(r"^# (\w+ = )", r"\1", sample_toml(), flags=re.MULTILINE)
    got = sections(load(tmp_path, examples))
    defaults = sections(load(tmp_path, ""))
    changed = 0
    for section, name in ALL:
        if section == "store":
            continue  # read into Settings.db_path, checked below
        item = next(f for f, _ in specs(section) if f.name == name)
        if default_of(item) is None:
            assert getattr(got[section], name) is not None, (section, name)
            assert getattr(got[section], name) != getattr(defaults[section], name)
            changed += 1
    assert changed >= 10
    assert load(tmp_path, examples).db_path == Path("~/training/heavylegs.sqlite").expanduser()


def test_flag_beats_environment_beats_file_beats_default(tmp_path: Path) -> None:
    toml = f'[store]\npath = "{tmp_path / "file.sqlite"}"\n'
    assert load(tmp_path, "").db_path.name == "heavylegs.sqlite"
    assert load(tmp_path, toml).db_path == tmp_path / "file.sqlite"
    env = {"HEAVYLEGS_DB": str(tmp_path / "env.sqlite")}
    assert load(tmp_path, toml, **env).db_path == tmp_path / "env.sqlite"
    path = tmp_path / "settings.toml"
    flag = load_settings(config=path, db=tmp_path / "flag.sqlite", env=env)
    assert flag.db_path == tmp_path / "flag.sqlite"


@pytest.mark.parametrize(
    ("section", "name", "env"),
    [(s, f.name, spec.env) for s in SECTIONS for f, spec in specs(s) if spec.env],
)
def test_each_environment_variable_beats_the_file(
    tmp_path: Path, section: str, name: str, env: str
) -> None:
    is_path = kind_of(SECTIONS[section], name) is Path
    first, second = (
        (str(tmp_path / "from-file"), str(tmp_path / "from-env"))
        if is_path
        else ("http://from-file.example", "http://from-env.example")
    )
    toml = f'[{section}]\n{name} = "{first}"\n'
    parse = Path if is_path else str
    if section == "store":
        assert load(tmp_path, toml).db_path == Path(first)
        assert load(tmp_path, toml, **{env: second}).db_path == Path(second)
        return
    assert getattr(sections(load(tmp_path, toml))[section], name) == parse(first)
    from_env = sections(load(tmp_path, toml, **{env: second}))[section]
    assert getattr(from_env, name) == parse(second)
    alone = sections(load(tmp_path, "", **{env: second}))[section]
    assert getattr(alone, name) == parse(second)


NUMBERS = [
    (section, item.name)
    for section, cls in SECTIONS.items()
    for item, spec in specs(section)
    if spec.parse is None and kind_of(cls, item.name) in (int, float)
]


@pytest.mark.parametrize(("section", "name"), NUMBERS)
def test_numbers_out_of_range_are_refused_with_the_setting_named(
    tmp_path: Path, section: str, name: str
) -> None:
    for bad in ("-1", '"7"', "true"):
        with pytest.raises(ConfigError, match=re.escape(f"[{section}] {name}")) as caught:
            load(tmp_path, f"[{section}]\n{name} = {bad}\n")
        assert str(caught.value).startswith(str(tmp_path / "settings.toml") + ": ")
        assert "\n" not in str(caught.value)
    if kind_of(SECTIONS[section], name) is int:
        with pytest.raises(ConfigError, match="whole number"):
            load(tmp_path, f"[{section}]\n{name} = 2.5\n")


def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"\[rules\] has no setting 'max_hard_shar' \(did you mean 'max_hard_share'\?\)",
    ):
        load(tmp_path, "[rules]\nmax_hard_shar = 0.3\n")
    with pytest.raises(
        ConfigError, match=r"\[athlete\] has no setting 'zzz' \(known: lthr, max_hr"
    ):
        load(tmp_path, "[athlete]\nzzz = 1\n")


def test_an_environment_mistake_without_a_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    done = heavylegs_cli(
        "config",
        env={"XDG_CONFIG_HOME": str(tmp_path), "HEAVYLEGS_STRAVA_API_BASE": "www.example.com"},
    )
    assert not missing.exists()
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Error: settings: [strava] api_base (or HEAVYLEGS_STRAVA_API_BASE) must start with"
        " http:// or https://, not 'www.example.com'"
    )


def test_config_checks_the_file_in_use(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(sample_toml(), encoding="utf-8")
    done = heavylegs_cli("--config", str(good), "config", env={})
    assert (done.returncode, done.stdout) == (0, f"settings file: {good}: ok\n")
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules]\nrecent_days = 0\n", encoding="utf-8")
    done = heavylegs_cli("--config", str(bad), "config", env={})
    assert done.returncode == 1
    assert done.stderr == f"Error: {bad}: [rules] recent_days is a number of days >= 1, not 0\n"


def _defaults() -> dict[str, Any]:
    return {
        item.name: default_of(item)
        for section in SECTIONS
        for item, _ in specs(section)
        if isinstance(default_of(item), int | float)
    }


#: "`max_hard_share` (0.20)", "`[strava] reserve` (3)", "(`recent_days`, 7)", "(20%)".
_QUOTED = re.compile(
    r"`(?:\[\w+\] )?(?P<key>[a-z_]+)`(?:,\s*|\s+\()(?P<number>\d+(?:\.\d+)?)(?P<percent>%)?"
)


@pytest.mark.parametrize("page", ["rules.md", "today.md", "strava.md", "zones.md", "store.md"])
def test_defaults_quoted_in_the_prose_docs_are_the_code_defaults(page: str) -> None:
    """The prose pages quote defaults beside the setting's name; they must not drift."""
    defaults = _defaults()
    text = (DOCS / page).read_text(encoding="utf-8")
    quoted = [m for m in _QUOTED.finditer(text) if m["key"] in defaults]
    for match in quoted:
        number = float(match["number"]) / (100 if match["percent"] else 1)
        assert number == pytest.approx(defaults[match["key"]]), match.group(0)
    if page in ("rules.md", "today.md"):
        assert len(quoted) >= 10


def test_the_readme_points_to_the_generated_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/settings.md)" in readme and "heavylegs config --sample" in readme


def _pages_with_settings() -> list[str]:
    """The pages that hold a settings example (a page without one has nothing to test)."""
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    found = [p.name for p in pages if "```toml\n" in p.read_text(encoding="utf-8")]
    assert found, "no settings example in the docs"
    return found


@pytest.mark.parametrize("page", _pages_with_settings())
def test_every_settings_example_in_the_docs_loads(tmp_path: Path, page: str) -> None:
    path = ROOT / page if page == "README.md" else DOCS / page
    blocks = re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks
    for block in blocks:
        load(tmp_path, block)


def test_the_architecture_page_names_every_module() -> None:
    """docs/architecture.md is the module map: a new module must find its line there."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "heavylegs_sync"
    modules = [m.relative_to(package) for m in package.rglob("*.py")]
    named = 0
    for module in sorted(m for m in modules if m.name not in ("__init__.py", "__main__.py")):
        if module.parent == Path("."):
            assert f"| `{module}` |" in text, module
        else:
            paragraph = text.split(f"`{module.parent}/`")[1].split("\n\n")[0]
            assert f"`{module.name}`" in paragraph, module
        named += 1
    assert named >= 45


@pytest.mark.parametrize("command", [["config"], ["report"], ["today"], ["info"]])
def test_an_unknown_zone_method_is_refused_on_load_naming_the_file(
    tmp_path: Path, command: list[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[zones]\nmethod = "hrmx"\n', encoding="utf-8")
    env = {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite")}
    done = heavylegs_cli("--config", str(bad), *command, env=env)
    assert done.returncode == 1
    assert done.stderr == (
        f'Error: {bad}: [zones] method: unknown zone method "hrmx": use one of "hrmax",'
        ' "hrr", "lthr", "bpm" (or "auto")\n'
    )
    assert not (tmp_path / "store.sqlite").exists()  # refused before anything is opened


@pytest.mark.parametrize("method", ["auto", "HRMAX", "hrmax"])
def test_every_zone_method_heavylegs_knows_loads(tmp_path: Path, method: str) -> None:
    assert load(tmp_path, f'[zones]\nmethod = "{method}"\n').zones.method == method
