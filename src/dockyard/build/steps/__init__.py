"""One module per Dockerfile instruction family: how each step changes a stage."""
