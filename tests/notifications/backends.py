"""An e-mail backend whose mail server is always down, for the retry tests."""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class MailServerDown(ConnectionError):
    pass


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise MailServerDown("the mail server refused the connection")
