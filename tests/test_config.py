from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.config import Settings, load_settings
from summarizer.defaults import DEFAULTS
from summarizer.errors import ConfigError


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    config = tmp_path / "summarizer.toml"
    config.write_text('model = "from-file"\ntimeout = 11\ntemperature = 0.5\n', encoding="utf-8")
    env = {"SUMMARIZER_MODEL": "from-env", "SUMMARIZER_TIMEOUT": "22"}
    settings = load_settings(config_file=config, environ=env, model="from-flag")
    assert settings.model == "from-flag"
    assert settings.timeout == 22
    assert settings.temperature == 0.5
    assert settings.max_reasks == 2  # default


def test_config_file_found_in_working_directory(tmp_path: Path) -> None:
    (tmp_path / "summarizer.toml").write_text('[summarizer]\nmodel = "here"\n', encoding="utf-8")
    assert load_settings(environ={}).model == "here"


def test_api_key_comes_from_environment_and_stays_secret() -> None:
    settings = load_settings(environ={"OPENAI_API_KEY": "secret-test-key-123"})
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "secret-test-key-123"
    assert "secret-test-key-123" not in repr(settings)
    assert "secret-test-key-123" not in settings.model_dump_json()


def test_api_key_in_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('api_key = "test-key"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_settings(config_file=config, environ={})


def test_bad_value_names_its_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment: temperature"):
        load_settings(environ={"SUMMARIZER_TEMPERATURE": "hot"})
    config = tmp_path / "c.toml"
    config.write_text("model = [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(config_file=config, environ={})


def test_max_article_chars_default_environment_and_floor() -> None:
    assert load_settings(environ={}).max_article_chars == 100_000
    assert load_settings(environ={"SUMMARIZER_MAX_ARTICLE_CHARS": "250000"}).max_article_chars == 250_000
    with pytest.raises(ConfigError, match=r"environment: max_article_chars"):
        load_settings(environ={"SUMMARIZER_MAX_ARTICLE_CHARS": "10"})


def test_the_defaults_help_shows_are_the_settings_defaults() -> None:
    fields = Settings.model_fields
    assert set(DEFAULTS) == set(fields) - {"api_key", "cache_dir"}
    assert {name: fields[name].default for name in DEFAULTS} == DEFAULTS
