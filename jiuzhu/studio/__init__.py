"""The process designer studio (issue 14, 流程设计): drafts, lint, publish, catalog, diff, rules as tests."""
