"""The process designer studio (issue 14): drafts, lint, publish, and what the editor offers."""
