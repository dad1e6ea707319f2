"""Schema revisions, oldest first by ``down_revision``; made with ``make migration m="…"``."""
