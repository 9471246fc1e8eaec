"""The ASGI application factory (placeholder until the server lands)."""
