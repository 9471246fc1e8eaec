"""Sources and sinks of images: OCI layouts, docker/oci archives, the local store, (later) registries."""
