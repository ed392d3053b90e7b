"""Roles and what each may do: ``owner ⊃ editor ⊃ commenter ⊃ viewer``.

Pure rules, imported by the rooms (to tell a client what it may do) and by the permission
checks alike.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["GUEST_ROLE", "Role", "at_least", "can_comment", "can_write"]

GUEST_ROLE = "guest"
"""The role a connection reports in anonymous mode, where nobody has an account."""


class Role(StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    COMMENTER = "commenter"
    VIEWER = "viewer"


_RANK = {Role.VIEWER: 0, Role.COMMENTER: 1, Role.EDITOR: 2, Role.OWNER: 3}


def at_least(role: str | None, minimum: Role) -> bool:
    """Whether ``role`` (None: not a member) includes the rights of ``minimum``."""
    if role is None:
        return False
    try:
        return _RANK[Role(role)] >= _RANK[minimum]
    except ValueError:
        return False


def can_write(role: str | None) -> bool:
    return at_least(role, Role.EDITOR)


def can_comment(role: str | None) -> bool:
    return at_least(role, Role.COMMENTER)
