"""Registry metadata: the `MetadataStore` contract and its SQLite implementation."""
