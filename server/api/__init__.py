"""The REST API on FastAPI: one route module per feature (``*_routes.py``), which only
translates HTTP to calls of the services (:mod:`server.services`); the request checks and
dependencies they share (``routing``, ``dependencies``, ``errors``); the pydantic models of
the bodies and answers (``models``, ``thread_models``, ``version_models``, ``fields``).

:mod:`server.api.routes` gathers the routes and describes them (``/openapi.json``).
"""
