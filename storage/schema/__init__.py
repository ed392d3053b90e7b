"""The database schema: every GESS table, as sqlmodel classes, and the migrations that build it.

One module per part of the product, all on one metadata (:data:`metadata`):

- :mod:`~storage.schema.log`: ``documents``, ``doc_updates``, ``doc_snapshots``,
  ``doc_edits``, the document log: all that the document store knows;
- :mod:`~storage.schema.refusals`: ``doc_refusals``, changes the sync side refused;
- :mod:`~storage.schema.accounts`: ``users``, ``api_tokens``, ``workspaces``,
  ``memberships``, ``invitations``, ``workspace_documents``, ``activities``;
- :mod:`~storage.schema.comments`: ``threads``, ``comments``, ``notifications``;
- :mod:`~storage.schema.versions`: ``doc_versions``.

Importing this package registers every table on :data:`metadata`. The schema of a live
database is changed only by the alembic migrations in ``storage/schema/migrations``; a test
checks that applying them yields exactly this metadata. A new table goes into the module of
its feature (or a new one imported here), with a new migration.
"""

from storage.schema._base import (
    ID_LENGTH,
    MAX_DOCUMENT_ID_LENGTH,
    NAMING_CONVENTION,
    Base,
    metadata,
)
from storage.schema.accounts import (
    Activity,
    ApiToken,
    Invitation,
    Membership,
    User,
    Workspace,
    WorkspaceDocument,
    activities,
    api_tokens,
    invitations,
    memberships,
    users,
    workspace_documents,
    workspaces,
)
from storage.schema.comments import Comment, Notification, Thread, comments, notifications, threads
from storage.schema.log import (
    DocEdit,
    DocSnapshot,
    Document,
    DocUpdate,
    doc_edits,
    doc_snapshots,
    doc_updates,
    documents,
)
from storage.schema.refusals import DocRefusal, doc_refusals
from storage.schema.versions import DocVersion, doc_versions

__all__ = [
    "ID_LENGTH",
    "MAX_DOCUMENT_ID_LENGTH",
    "NAMING_CONVENTION",
    "Activity",
    "ApiToken",
    "Base",
    "Comment",
    "DocEdit",
    "DocRefusal",
    "DocSnapshot",
    "DocUpdate",
    "DocVersion",
    "Document",
    "Invitation",
    "Membership",
    "Notification",
    "Thread",
    "User",
    "Workspace",
    "WorkspaceDocument",
    "activities",
    "api_tokens",
    "comments",
    "doc_edits",
    "doc_refusals",
    "doc_snapshots",
    "doc_updates",
    "doc_versions",
    "documents",
    "invitations",
    "memberships",
    "metadata",
    "notifications",
    "threads",
    "users",
    "workspace_documents",
    "workspaces",
]
