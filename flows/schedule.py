"""The served refresh's defaults (``kehoach serve``), in a module of their own:
the CLI's argument parser shows them before it imports Prefect (``flows.cli``)."""

DEPLOYMENT_NAME = "kehoach-refresh"
DEFAULT_CRON = "0 6 * * *"  # every day at 06:00
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
