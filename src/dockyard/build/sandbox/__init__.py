"""Running RUN steps: an overlay root filesystem over cached layer trees, executed by runc (or bwrap)."""
