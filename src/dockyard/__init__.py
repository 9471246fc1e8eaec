"""dockyard: daemonless container image management over open formats (OCI, Docker schema2)."""

__version__ = "0.1.0"
