"""HTTP routes of the distribution API: thin handlers over services."""
