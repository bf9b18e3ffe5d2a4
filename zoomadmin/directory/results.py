"""A line of the search results, whether Zoom just sent it or the directory holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zoomadmin.directory.models import DirectoryUser
from zoomadmin.helpdesk.targets import Target
from zoomadmin.zoom.client import SSO_LOGIN_TYPE, ZoomUser


@dataclass(frozen=True)
class ResultRow:
    id: str
    email: str
    name: str
    status: str
    dept: str
    login_types: tuple[int, ...] | None  # None: unknown (the directory has no fresh lookup)
    last_login_time: datetime | None
    fresh: bool  # Zoom sent it for this search
    target: Target  # what the row's "Force log out of Zoom" form carries, signed

    @property
    def login_types_known(self) -> bool:
        return self.login_types is not None

    @property
    def signs_in_with_sso(self) -> bool:
        return self.login_types is not None and SSO_LOGIN_TYPE in self.login_types

    @classmethod
    def from_zoom(cls, user: ZoomUser) -> ResultRow:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            status=user.status,
            dept=user.dept,
            login_types=user.login_types,
            last_login_time=user.last_login_time,
            fresh=True,
            target=Target.from_user(user),
        )

    @classmethod
    def from_directory(cls, row: DirectoryUser) -> ResultRow:
        stored = row.login_types
        known = isinstance(stored, list)
        login_types = tuple(int(t) for t in stored) if isinstance(stored, list) else None
        return cls(
            id=row.zoom_id,
            email=row.email,
            name=row.name,
            status=row.status,
            dept=row.dept,
            login_types=login_types,
            last_login_time=row.last_login_time,
            fresh=False,
            target=Target(
                zoom_id=row.zoom_id,
                email=row.email,
                name=row.name,
                status=row.status,
                login_types=login_types or (),
                login_types_known=known,
            ),
        )

    def same_user(self, row: DirectoryUser) -> bool:
        return (bool(self.id) and self.id == row.zoom_id) or self.email.lower() == row.email_key
