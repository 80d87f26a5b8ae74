"""Create the admin from DJANGO_SUPERUSER_USERNAME/EMAIL/PASSWORD, once; safe to run every start."""

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the superuser named by DJANGO_SUPERUSER_* if it does not exist yet."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip()
        if not username:
            self.stdout.write("DJANGO_SUPERUSER_USERNAME is not set: no admin user created.")
            return
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user {username!r} already exists.")
            return
        if not password:
            raise CommandError("DJANGO_SUPERUSER_PASSWORD must be set to create the admin user.")
        try:
            # The same rules as a password set in the admin: no "admin"/"admin" on a live shop.
            validate_password(password, user=user_model(username=username, email=email))
        except ValidationError as exc:
            reasons = " ".join(exc.messages)
            raise CommandError(
                f"DJANGO_SUPERUSER_PASSWORD is too weak for the admin user: {reasons}"
            ) from exc
        user_model.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"Created admin user {username!r}.")
