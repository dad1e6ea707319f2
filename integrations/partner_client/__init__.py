"""Reference partner client for Jiuzhu's external-task API and webhooks.

Standard library only, so a partner's IT can copy this directory and run it:
``python -m integrations.partner_client --help``.
"""
