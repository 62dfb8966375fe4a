"""Settings from flags and LEADTRAIL_* variables."""

from __future__ import annotations

import pytest

from leadtrail.settings import SettingsError, load_settings, to_env, with_secret_key


def test_defaults_match_the_contract():
    """Without flags or environment the defaults are the contract's."""
    s = load_settings({}, env={})
    assert s.database_url == "sqlite:///./leadtrail.db"
    assert (s.event_ttl, s.journey_retention, s.prune_probability, s.rate_limit) == (86400, None, 0.01, 600)
    assert s.allowed_origins == () and s.trusted_proxies == () and s.honor_gpc is True


def test_flags_win_over_environment():
    """A flag beats LEADTRAIL_<OPTION>, which beats the default."""
    env = {
        "LEADTRAIL_PORT": "9000",
        "LEADTRAIL_DATABASE_URL": "sqlite:///env.db",
        "LEADTRAIL_HONOR_GPC": "false",
        "LEADTRAIL_ALLOWED_ORIGINS": "https://A.example.com, https://b.example.com/",
        "LEADTRAIL_JOURNEY_RETENTION": "30",
    }
    s = load_settings({"port": 7000, "database_url": None}, env=env)
    assert s.port == 7000 and s.database_url == "sqlite:///env.db" and s.honor_gpc is False
    assert s.allowed_origins == ("https://a.example.com", "https://b.example.com")
    assert s.journey_retention == 30


@pytest.mark.parametrize(
    "name,value",
    [
        ("LEADTRAIL_PORT", "eighty"),
        ("LEADTRAIL_EVENT_TTL", "0"),
        ("LEADTRAIL_PRUNE_PROBABILITY", "2"),
        ("LEADTRAIL_HONOR_GPC", "maybe"),
        ("LEADTRAIL_TRUSTED_PROXIES", "not-an-ip"),
        ("LEADTRAIL_ALLOWED_ORIGINS", "example.com"),
        ("LEADTRAIL_RATE_LIMIT", "-1"),
        ("LEADTRAIL_DATABASE_URL", "mysql://db.example/leadtrail"),
        ("LEADTRAIL_DATABASE_URL", "sqlite://relative.db"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(name, value):
    """A value leadtrail cannot use raises SettingsError naming the variable."""
    with pytest.raises(SettingsError, match=name):
        load_settings({}, env={name: value})


def test_secret_key_required_outside_demo_and_made_in_demo(tmp_path):
    """No key outside demo mode is refused; a demo run makes one, keeps it beside the database and reuses it."""
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        with_secret_key(load_settings({"database_url": f"sqlite:///{tmp_path}/a.db"}, env={}))
    demo = load_settings({"database_url": f"sqlite:///{tmp_path}/a.db", "demo": True}, env={})
    first = with_secret_key(demo).secret_key
    assert len(first) >= 32 and (tmp_path / "a.db.secret").exists()
    assert with_secret_key(demo).secret_key == first


def test_to_env_round_trips():
    """The variables written for worker processes rebuild the same settings."""
    s = load_settings(
        {"port": 1234, "allowed_origins": "https://x.example", "journey_retention": 7, "secret_key": "k" * 20}, env={}
    )
    assert load_settings({}, env=to_env(s)) == s


def test_log_level_and_format_are_checked_words():
    """LOG_LEVEL and LOG_FORMAT take one of a few words (any case); anything else names the choices."""
    settings = load_settings(env={"LEADTRAIL_LOG_LEVEL": "WARNING", "LEADTRAIL_LOG_FORMAT": "Json"})
    assert (settings.log_level, settings.log_format) == ("warning", "json")
    assert (load_settings(env={}).log_level, load_settings(env={}).log_format) == ("info", "text")
    for name, value in (("LEADTRAIL_LOG_LEVEL", "loud"), ("LEADTRAIL_LOG_FORMAT", "xml")):
        with pytest.raises(SettingsError, match=name):
            load_settings(env={name: value})


def test_timezone_is_an_iana_name_checked_at_load_time():
    """TIMEZONE defaults to UTC, takes IANA names (any case), and an unknown zone is refused by name."""
    assert load_settings({}, env={}).timezone == "UTC"
    london = load_settings({}, env={"LEADTRAIL_TIMEZONE": "europe/london"})
    assert london.timezone == "Europe/London" and london.tz.key == "Europe/London"
    assert load_settings({}, env=to_env(london)) == london
    for bad in ("Europe/Londn", "GMT+25", "../etc/passwd"):
        with pytest.raises(SettingsError, match="LEADTRAIL_TIMEZONE.*IANA"):
            load_settings({}, env={"LEADTRAIL_TIMEZONE": bad})
