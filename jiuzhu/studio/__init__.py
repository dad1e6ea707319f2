"""The process designer's studio (流程设计): drafts, diff, rules as tests."""
