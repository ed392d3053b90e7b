"""The service layer: the features' rules, one module per feature, beneath the REST routes.

A service works on the node's services (:class:`server.services.context.ApiServices`: the
database, the live rooms, the settings), not on HTTP requests. Services import no route module
and no web framework (an import contract says so); the sync side reaches them only through
the small protocols it declares (:class:`server.checkpoints.Checkpoints`).
"""
