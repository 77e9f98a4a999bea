import pytest

from ad_platform.settings import Settings, SettingsError, parse_duration


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.port == 8080
    assert settings.app_version == "dev"
    assert settings.error_rate == 0
    assert settings.fail_readiness is False
    assert dict(settings.tokens) == {}
    assert (settings.connection_max_age, settings.shutdown_drain) == (5.0, 2.0)


def test_connection_knobs_come_from_the_environment() -> None:
    settings = Settings.from_env({"CONNECTION_MAX_AGE": "0", "SHUTDOWN_DRAIN": "500ms"})
    assert (settings.connection_max_age, settings.shutdown_drain) == (0.0, 0.5)
    with pytest.raises(SettingsError, match="SHUTDOWN_DRAIN: 'soon' is not a duration"):
        Settings.from_env({"SHUTDOWN_DRAIN": "soon"})


def test_release_knobs_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "APP_VERSION": "v2",
            "STARTUP_DELAY": "1.5s",
            "FAIL_READINESS": "true",
            "ERROR_RATE": "0.25",
            "EXTRA_LATENCY": "250ms",
            "API_TOKENS": "alice=alice-token-0123456789, bob=bob-token-0123456789ab",
            "PORT": "9000",
        }
    )
    assert settings.app_version == "v2"
    assert settings.startup_delay == 1.5
    assert settings.fail_readiness is True
    assert settings.error_rate == 0.25
    assert settings.extra_latency == 0.25
    assert settings.port == 9000
    assert dict(settings.tokens) == {"alice-token-0123456789": "alice", "bob-token-0123456789ab": "bob"}


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0.0), ("2", 2.0), ("250ms", 0.25), ("1.5s", 1.5), ("1m", 60.0)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration("X", text) == seconds


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ERROR_RATE": "1.5"}, "ERROR_RATE: '1.5' is not between 0 and 1"),
        ({"ERROR_RATE": "lots"}, "ERROR_RATE: 'lots' is not a number"),
        ({"EXTRA_LATENCY": "fast"}, "EXTRA_LATENCY: 'fast' is not a duration"),
        ({"FAIL_READINESS": "maybe"}, "FAIL_READINESS: 'maybe' is not a boolean"),
        ({"PORT": "70000"}, "PORT: '70000' is not a port number"),
        ({"API_TOKENS": "alice"}, "API_TOKENS: entry 1 is not owner=token"),
        ({"API_TOKENS": "al ice=0123456789abcdef"}, "API_TOKENS: entry 1 has an owner"),
        ({"API_TOKENS": "alice=short"}, "API_TOKENS: the token of 'alice' is shorter than 16 characters"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    assert message in str(error.value)


def test_a_token_never_appears_in_an_error() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"API_TOKENS": "alice=secret-but-short"[:12]})
    assert "secret" not in str(error.value)
