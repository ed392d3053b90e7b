"""Load generator and benchmark of Yjs WebSocket servers: ``python -m bench --help``."""
