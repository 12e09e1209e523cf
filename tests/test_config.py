"""Server settings: flag > environment variable > default; bad values stop the start with the
variable's name and the form it accepts; the documented list is the one the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bianmin.config import VARIABLES, ConfigError, Settings, parse_size, pool_from_env
from bianmin.store.db import tortoise_config

KEY = "k" * 40
ROOT = Path(__file__).resolve().parents[1]


def test_defaults_without_environment(tmp_path):
    settings = Settings.from_env({"BIANMIN_HOME": str(tmp_path)})
    assert settings.db_url == f"sqlite://{tmp_path / 'var' / 'bianmin.sqlite3'}"
    assert settings.policies == tmp_path / "policies"
    assert (settings.port, settings.workers, settings.sweep_interval) == (8000, 1, 300)
    assert settings.max_body == 1024 * 1024 and settings.log_format == "text"
    assert settings.secret_key is None


def test_environment_then_flags():
    env = {"BIANMIN_PORT": "9000", "BIANMIN_WORKERS": "3", "BIANMIN_SECRET_KEY": KEY,
           "BIANMIN_LOG_FORMAT": "JSON", "BIANMIN_MAX_BODY": "2M", "BIANMIN_SWEEP_INTERVAL": "0",
           "BIANMIN_DB_URL": "postgres://app@db.internal:5432/bianmin", "BIANMIN_HTTPS_ONLY": "yes"}
    settings = Settings.from_env(env)
    assert (settings.port, settings.workers, settings.log_format) == (9000, 3, "json")
    assert settings.max_body == 2 * 1024 * 1024 and settings.sweep_interval == 0 and settings.https_only
    flagged = Settings.from_env(env, port=8100, workers=None, db_url="sqlite:///tmp/x.sqlite3")
    assert flagged.port == 8100  # the flag wins
    assert flagged.workers == 3  # a flag not given leaves the variable
    assert flagged.db_url == "sqlite:///tmp/x.sqlite3"


def test_settings_survive_the_trip_to_the_workers():
    env = {"BIANMIN_SECRET_KEY": KEY, "BIANMIN_WORKERS": "4", "BIANMIN_FORWARDED_ALLOW_IPS": "127.0.0.1, 10.0.0.5",
           "BIANMIN_DB_COMMAND_TIMEOUT": "12.5", "BIANMIN_POLICIES": "/srv/policies"}
    settings = Settings.from_env(env)
    assert Settings.from_env(settings.to_env()) == settings
    assert settings.forwarded_allow_ips == "127.0.0.1,10.0.0.5"


@pytest.mark.parametrize("name, value, form", [
    ("BIANMIN_PORT", "eighty", "a port number 1-65535"),
    ("BIANMIN_PORT", "70000", "a port number 1-65535"),
    ("BIANMIN_WORKERS", "0", "a whole number 1-64"),
    ("BIANMIN_SWEEP_INTERVAL", "-5", "seconds, a whole number; 0 disables"),
    ("BIANMIN_LOG_FORMAT", "xml", "json or text"),
    ("BIANMIN_MAX_BODY", "1.5M", "bytes, or with K/M"),
    ("BIANMIN_HTTPS_ONLY", "maybe", "1/0, true/false, yes/no"),
    ("BIANMIN_DB_CONNECT_TIMEOUT", "0", "seconds, a number > 0"),
    ("BIANMIN_FORWARDED_ALLOW_IPS", "proxy.example", "comma-separated proxy addresses"),
])
def test_bad_value_names_the_variable_and_the_form(name, value, form):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}: expected {form}")
    assert repr(value) in message


def test_short_secret_is_refused_without_printing_it():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"BIANMIN_SECRET_KEY": "hunter2"})
    assert "BIANMIN_SECRET_KEY" in str(caught.value) and "hunter2" not in str(caught.value)


def test_several_workers_need_a_shared_secret():
    with pytest.raises(ConfigError, match="BIANMIN_SECRET_KEY is required with 2 workers"):
        Settings.from_env({"BIANMIN_WORKERS": "2"})
    with pytest.raises(ConfigError, match="required with 4 workers"):
        Settings.from_env({}, workers=4)
    assert Settings.from_env({"BIANMIN_WORKERS": "2", "BIANMIN_SECRET_KEY": KEY}).workers == 2


def test_older_names_still_work_but_may_not_contradict():
    assert Settings.from_env({"BIANMIN_DB": "sqlite:///a.sqlite3"}).db_url == "sqlite:///a.sqlite3"
    assert Settings.from_env({"BIANMIN_SECRET": KEY}).secret_key == KEY
    with pytest.raises(ConfigError, match="BIANMIN_DB_URL and BIANMIN_DB .* unset BIANMIN_DB"):
        Settings.from_env({"BIANMIN_DB_URL": "sqlite:///a.sqlite3", "BIANMIN_DB": "sqlite:///b.sqlite3"})


def test_inconsistent_settings():
    with pytest.raises(ConfigError, match="BIANMIN_DB_URL: unsupported database URL"):
        Settings.from_env({"BIANMIN_DB_URL": "mysql://root@localhost/x"})
    with pytest.raises(ConfigError, match="BIANMIN_DB_POOL_MIN \\(20\\) is larger than BIANMIN_DB_POOL_MAX \\(10\\)"):
        Settings.from_env({"BIANMIN_DB_POOL_MIN": "20"})
    with pytest.raises(ConfigError, match="BIANMIN_MAX_UPLOAD"):
        Settings.from_env({"BIANMIN_MAX_BODY": "16M"})


def test_sizes():
    assert [parse_size(t) for t in ("1M", "1MiB", "8m", "512K", "2048", "64kb")] == \
        [1 << 20, 1 << 20, 8 << 20, 512 << 10, 2048, 64 << 10]
    assert [parse_size(t) for t in ("", "M", "1.5M", "1G", "-1")] == [None] * 5


def test_pool_settings_reach_tortoise(monkeypatch):
    monkeypatch.setenv("BIANMIN_DB_POOL_MAX", "25")
    monkeypatch.setenv("BIANMIN_DB_COMMAND_TIMEOUT", "7")
    credentials = tortoise_config("postgres://app@127.0.0.1:5432/bianmin")["connections"]["postgres"]["credentials"]
    assert (credentials["minsize"], credentials["maxsize"]) == (1, 25)
    assert credentials["command_timeout"] == 7.0 and credentials["timeout"] == 5.0
    # The URL's own pool size wins over the environment.
    credentials = tortoise_config("postgres://app@127.0.0.1:5432/bianmin?maxsize=3")["connections"]["postgres"]["credentials"]
    assert int(credentials["maxsize"]) == 3
    monkeypatch.setenv("BIANMIN_DB_POOL_MAX", "lots")
    with pytest.raises(ConfigError, match="BIANMIN_DB_POOL_MAX: expected a whole number"):
        pool_from_env()


def test_every_variable_is_documented():
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(BIANMIN_[A-Z_]+)` \|", text, re.MULTILINE))
    assert {v.name for v in VARIABLES} <= documented, "add the missing variables to docs/deploy.md"
