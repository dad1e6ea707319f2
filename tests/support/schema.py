"""What the schema looked like before Alembic, for tests that make such a database."""

# Tables that revisions after the baseline create: no release before Alembic had them.
SINCE_BASELINE = frozenset({"applicant_case", "demo_clock", "api_token", "chain_digest"})
