"""A real SMTP server for the e-mail tests (aiosmtpd in a thread of its own): records every
message it accepts; optionally STARTTLS (a certificate from a throwaway CA made with trustme),
implicit TLS, and a login it checks. Stopped and started again on the same port, it plays a mail
server that goes down and comes back. No fixtures here (conftest.py and the test modules make them)."""

from __future__ import annotations

import email
import email.policy
import logging
import ssl
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pgserver import free_port

# aiosmtpd logs every connection from its own thread, also after a test's captured streams are
# closed (a CLI test's): kept out of the test run's handlers.
logging.getLogger("mail.log").propagate = False
logging.getLogger("mail.log").addHandler(logging.NullHandler())


class ThrowawayCA:
    """A certificate authority of the test run's own, and a server certificate for 127.0.0.1."""

    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = directory / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(context)
        return context


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.received.append(
                {
                    "message": message,
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "tls": session.ssl is not None,
                    "login": session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None,
                    "at": time.monotonic(),
                }
            )
        return "250 OK"


class SmtpSink:
    def __init__(
        self,
        ca: ThrowawayCA | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.ca = ca
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.login = login
        self.port = free_port()
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"{scheme}://{user}127.0.0.1:{self.port}"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self.login
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> SmtpSink:
        kwargs: dict = {}
        if self.starttls:
            assert self.ca is not None
            kwargs.update(tls_context=self.ca.server_context(), require_starttls=True)
        if self.login:
            # Implicit TLS is TLS from the start, but aiosmtpd only counts STARTTLS as TLS for AUTH.
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.starttls)
        self.controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=self.ca.server_context() if self.implicit_tls and self.ca else None,
            **kwargs,
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r["message"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict]:
        """The first `count` messages, waiting up to `timeout` seconds; fails the test otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            assert time.monotonic() < deadline, (
                f"{count} e-mail(s) expected, {len(self.received)} arrived in {timeout} s"
            )
            time.sleep(0.02)
