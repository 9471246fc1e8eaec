"""Layer tars: compression streams, OCI whiteouts, safe extraction and normalized (reproducible) writing.

The only package that knows `.wh.` rules and path safety.
"""
