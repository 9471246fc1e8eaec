"""The command-line interface: thin verbs over the library."""
