"""The settings object: read from REDLINE_* variables, errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.settings import Settings, SettingsError


def test_defaults_point_at_the_local_stack_and_the_demo_files() -> None:
    settings = Settings.from_env({})
    assert settings.kafka_bootstrap == "127.0.0.1:9092" and settings.partitions == 8
    assert settings.catalog.name == "catalog.yaml" and settings.catalog.exists()
    settings.config_files().load()  # the demo configuration is valid


def test_variables_override_and_lists_split_on_colons() -> None:
    settings = Settings.from_env(
        {
            "REDLINE_PARTITIONS": "16",
            "REDLINE_CALENDARS": "/a/2027.yaml:/a/2028.yaml",
            "REDLINE_POLICY": "",
        }
    )
    assert settings.partitions == 16 and settings.policy is None
    assert settings.calendars == (Path("/a/2027.yaml"), Path("/a/2028.yaml"))


def test_a_bad_variable_is_named() -> None:
    with pytest.raises(SettingsError, match="REDLINE_PARTITIONS: Input should be greater than"):
        Settings.from_env({"REDLINE_PARTITIONS": "0"})
    with pytest.raises(SettingsError, match="REDLINE_STORE: Input should be 'rocksdb' or"):
        Settings.from_env({"REDLINE_STORE": "disk"})


def test_trusted_proxies_are_addresses_or_networks_and_none_by_default() -> None:
    assert Settings.from_env({}).trusted_proxies() == []  # X-Forwarded-For believed from no one
    listed = Settings.from_env({"REDLINE_API_TRUSTED_PROXIES": " 172.30.0.2, 10.1.0.0/16,::1"})
    assert listed.trusted_proxies() == ["172.30.0.2", "10.1.0.0/16", "::1"]
    with pytest.raises(
        SettingsError, match=r"REDLINE_API_TRUSTED_PROXIES: 'proxy\.local' is not an IP address"
    ):
        Settings.from_env({"REDLINE_API_TRUSTED_PROXIES": "proxy.local"})
