"""Names for people to read: approval items (事项) and service centres (中心) by code.

The read model keeps codes only; the wall and the applicant's progress page show names too. The
names come from the operators' catalog and centres files that the settings point at, read once
per app on first use (a file that fails to load leaves the codes to speak for themselves).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from monitor.config import ConfigError, load_catalog, load_centers
from monitor.settings import Settings

log = logging.getLogger(__name__)


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


def load_directory(settings: Settings) -> Directory:
    """The names in the files ``settings`` points at."""
    try:
        items = {code: item.name for code, item in load_catalog(settings.catalog).items()}
        centers = (
            {code: center.name for code, center in load_centers(settings.centres).items()}
            if settings.centres is not None
            else {}
        )
    except (ConfigError, OSError) as exc:
        # the worker refuses to start on a bad file; here names are a courtesy, codes suffice
        log.warning("names unavailable, showing codes: %s", exc)
        return Directory()
    return Directory(items, centers)


def _directory(request: Request) -> Directory:
    state = request.app.state
    found: Directory | None = getattr(state, "directory", None)
    if found is None:
        found = state.directory = load_directory(state.settings)
    return found


DirectoryDep = Annotated[Directory, Depends(_directory)]
