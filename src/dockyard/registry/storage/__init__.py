"""Storage drivers: where the registry keeps bytes (filesystem, in-memory; S3 later), behind one protocol."""
