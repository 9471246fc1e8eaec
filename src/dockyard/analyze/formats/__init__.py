"""Output formats of `dockyard analyze`: JSON (a superset of dive's export), self-contained HTML, rich TTY."""
