"""The JSON API for wellness checks (``/api/v1/checks/``): thin views over the door and services."""
