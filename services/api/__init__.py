"""The HTTP API and dashboard (``drawdown api``): JSON over the database, OpenAPI-described.

``create_app`` (app.py) builds the application from settings and an engine;
``serve`` (role.py) runs it with uvicorn until a stop event is set. Each
resource has a module of its own: response models, query builders, routes.
"""
