"""Roles, and who may open a document with which role.

Roles are ordered ``owner ⊃ editor ⊃ commenter ⊃ viewer``: each may do everything the next
one may. Editors and owners write; commenters and viewers get read-only connections. A
signed-in person who is not a member may read the *published* documents of a *public*
workspace, as a viewer.

Rights change while people are connected: :mod:`server.live` applies the changes to open
connections.
"""

from __future__ import annotations

import dataclasses

from crdt import DocumentNotFound
from server.connection import Principal
from server.errors import Forbidden
from server.roles import Role, at_least, can_write
from storage.catalog import AccessRow

__all__ = [
    "Role",
    "at_least",
    "can_write",
    "socket_role",
    "with_role",
]


def socket_role(row: AccessRow | None, user_id: str) -> str:
    """The role a user's connection to a document gets.

    Raises:
        DocumentNotFound: no such document, or it is in the trash.
        Forbidden: the user may not read it.
    """
    if row is None:
        raise DocumentNotFound("no such document")
    if row.document.trashed:
        raise DocumentNotFound("the document is in the trash")
    role = row.roles.get(user_id)
    if role is not None:
        return role
    if row.visibility == "public" and row.document.published:
        return Role.VIEWER.value
    raise Forbidden("you are not a member of this document's workspace")


def with_role(principal: Principal, role: str, *, member: bool = True) -> Principal:
    """The principal with another role, and the write right that goes with it."""
    return dataclasses.replace(principal, role=role, can_write=can_write(role), member=member)
