"""The HTTP API and the agents' web page (the `[api]` extra): `create_app(settings)` builds the FastAPI app.

Routers per concern (analysis, feedback, meta, page); settings from the environment and a TOML file.
"""
