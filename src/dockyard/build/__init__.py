"""`dockyard build`: Dockerfiles to OCI images with no daemon (planner, context, sandbox, snapshot, cache)."""
