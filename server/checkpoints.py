"""What the room manager needs to save automatic checkpoints: a port, implemented by the
versions service (:class:`server.services.versions.Checkpointer`) and handed to the
:class:`server.rooms.RoomManager` when the app builds it.

The sync side never reaches up into the REST layer: it calls this, and sends the event it
answers to the document's clients through the room itself.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Checkpoints"]


class Checkpoints(Protocol):
    """Saves automatic versions of documents."""

    async def save_checkpoint(self, document_id: str) -> dict[str, object] | None:
        """Save an automatic version of a document if it changed since its last one.

        Called by the room manager once a room has been quiet for a while after edits, and
        when it unloads or shuts down with edits not yet checkpointed; never twice at once
        for one document.

        Returns:
            The server event announcing the version to the document's members, or None if
            nothing was saved.

        Raises:
            StorageError: the database failed; nothing was saved.
        """
        ...
