"""Registry services: blobs, uploads, manifests, referrers and listings over storage and metadata (no HTTP)."""
