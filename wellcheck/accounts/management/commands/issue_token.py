"""``wellcheck issue-token USERNAME``: print a new API token for a user (shown once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wellcheck.accounts.models import User
from wellcheck.accounts.services import token_issue


class Command(BaseCommand):
    help = "Issue an API token for a user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="script", help="What the token is for.")
        parser.add_argument(
            "--days", type=int, default=365, help="Days until it expires (0: never)."
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {opts['username']!r}.")
        _, raw = token_issue(actor=None, user=user, name=opts["name"], days=opts["days"] or None)
        self.stdout.write(raw)
