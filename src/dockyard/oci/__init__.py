"""The image core: digests, media types, descriptors, manifests, configs, platforms, references, protocols.

Stdlib only; no disk or network I/O. Everything else in dockyard is built on these values.
"""
