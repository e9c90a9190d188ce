"""Writes to accounts."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onething.accounts.models import User
from onething.audit.services import audit_record


@transaction.atomic
def user_real_name_verified(*, actor: str, user: User) -> User:
    """An identity provider vouched for the person's real name now: record when, and by whom."""
    user.id_verified_at = timezone.now()
    user.save(update_fields=["id_verified_at"])
    audit_record(
        actor=actor,
        action="user.real_name_verified",
        stream=f"user:{user.pk}",
        subject=f"user:{user.pk}",
        purpose="sign-in",
    )
    return user
