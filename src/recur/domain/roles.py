"""Roles, shared by back-office users and API tokens."""

from enum import StrEnum


class Role(StrEnum):
    """What a principal may do: viewers read, operators bill, admins also run the catalogue and users."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"

    def allows(self, needed: "Role") -> bool:
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
