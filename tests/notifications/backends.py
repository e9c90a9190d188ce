"""E-mail backends whose mail server fails, for the retry and masking tests."""

from __future__ import annotations

from smtplib import SMTPRecipientsRefused

from django.core.mail.backends.base import BaseEmailBackend


class MailServerDown(ConnectionError):
    pass


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise MailServerDown("the mail server refused the connection")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the recipient, quoting the address as real servers do."""

    def send_messages(self, email_messages):
        address = email_messages[0].to[0]
        raise SMTPRecipientsRefused(
            {address: (550, f"5.1.1 <{address}>: Recipient address rejected".encode())}
        )
