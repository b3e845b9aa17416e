"""Names for people to read: approval items (事项) and service centres (中心) by code.

The read model keeps codes only; the wall and the applicant's progress page show names too. The
names come from the running configuration's catalog and centres, built on first use and again
after each configuration switch (``monitor.api.configview``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from monitor.config import Config


@dataclass(frozen=True, slots=True)
class Directory:
    """Item and centre names by code."""

    items: dict[str, str] = field(default_factory=dict)
    centers: dict[str, str] = field(default_factory=dict)

    def item(self, code: object) -> str | None:
        """The item's name (e.g. 食品经营许可), None when unknown."""
        return self.items.get(code) if isinstance(code, str) else None

    def center(self, code: object) -> str | None:
        """The centre's name (e.g. 天河区政务服务中心), None when unknown."""
        return self.centers.get(code) if isinstance(code, str) else None


def directory_of(config: Config) -> Directory:
    """The names in the running configuration."""
    items = {code: item.name for code, item in config.catalog.items()}
    return Directory(items, {code: center.name for code, center in config.centers.items()})


def _directory(request: Request) -> Directory:
    state = request.app.state
    found: Directory | None = getattr(state, "directory", None)
    if found is None:
        found = state.directory = directory_of(state.config)
    return found


DirectoryDep = Annotated[Directory, Depends(_directory)]
