"""The HTTP API and the agents' web page (the `[api]` extra)."""
