"""A line of the search results, whether Zoom just sent it or the directory holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zoomadmin.directory.models import DirectoryUser
from zoomadmin.helpdesk.targets import Target
from zoomadmin.zoom.client import ZoomUser


@dataclass(frozen=True)
class ResultRow:
    # Who the row shows (id, email, name, status, sign-in methods), and what its
    # "Force log out of Zoom" form carries, signed: one value, so the two cannot differ.
    target: Target
    last_login_time: datetime | None
    fresh: bool  # Zoom sent it for this search

    @classmethod
    def from_zoom(cls, user: ZoomUser) -> ResultRow:
        return cls(target=Target.from_user(user), last_login_time=user.last_login_time, fresh=True)

    @classmethod
    def from_directory(cls, row: DirectoryUser) -> ResultRow:
        stored = row.login_types  # None: unknown (only a fresh lookup stores them)
        login_types = tuple(int(t) for t in stored) if isinstance(stored, list) else None
        target = Target(
            zoom_id=row.zoom_id,
            email=row.email,
            name=row.name,
            status=row.status,
            login_types=login_types or (),
            login_types_known=login_types is not None,
        )
        return cls(target=target, last_login_time=row.last_login_time, fresh=False)

    def same_user(self, row: DirectoryUser) -> bool:
        target = self.target
        if target.zoom_id and target.zoom_id == row.zoom_id:
            return True
        return target.email.lower() == row.email_key
