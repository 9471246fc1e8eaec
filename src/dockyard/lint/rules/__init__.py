"""The rule families, one module each; `dockyard.lint.registry` lists them explicitly."""
