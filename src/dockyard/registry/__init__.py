"""`dockyard serve`: an OCI distribution v1.1 registry (app, routes, services, storage drivers, metadata)."""
