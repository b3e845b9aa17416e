"""Shared fixtures of the engine's unit tests: the test catalog, a fresh engine, a story."""

from __future__ import annotations

from pathlib import Path

import pytest
from timeline import CATALOG_YAML, Story

from monitor.calendar import load_calendars
from monitor.clock import Timelines
from monitor.config import Config, ConfigFiles
from monitor.engine import Engine
from monitor.timeutil import zone


@pytest.fixture(scope="session")
def catalog_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test catalog (timeline.CATALOG_YAML) as a file."""
    path = tmp_path_factory.mktemp("config") / "catalog.yaml"
    path.write_text(CATALOG_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def config(catalog_path: Path) -> Config:
    """The configuration loaded once: shipped calendars 2020–2026, the test catalog."""
    return ConfigFiles(catalog_path).load()


@pytest.fixture
def engine(config: Config) -> Engine:
    """A fresh engine with no cases."""
    return Engine(config)


@pytest.fixture
def story(engine: Engine) -> Story:
    """Case CASE-1 of item T5 (5wd promised, 10wd statutory) at centre C1."""
    return Story(engine)


@pytest.fixture(scope="session")
def timelines() -> Timelines:
    """Beijing time and the shipped cn calendar, as `redline deadline` builds them."""
    return Timelines(zone("Asia/Shanghai"), load_calendars().get("cn"))
