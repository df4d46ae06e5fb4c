"""Portal pages (stub; see below)."""
RULES = []
