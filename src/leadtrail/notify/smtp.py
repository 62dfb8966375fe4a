"""SMTP_URL: sending one e-mail through the owner's mail server (aiosmtplib), and saying in
words why it failed.

smtp://[user:pass@]host[:port] (port 587 by default) upgrades with STARTTLS when the server
offers it; smtps://... (465) speaks TLS from the first byte. The server's certificate is always
verified against the system's trusted roots (a private CA: point SSL_CERT_FILE at its bundle, as
for any OpenSSL program). A password never crosses the network in clear: when the server offers
no STARTTLS, leadtrail refuses to log in, unless the server is on this machine (loopback).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
import aiosmtplib.protocol

from .mail import redact_addresses

ATTEMPT_TIMEOUT = 30.0  # seconds for each step (connect, each command) of one attempt
CLOSE_WAIT = 1.0  # seconds at most for the event loop to finish closing a connection


class SendFailed(Exception):
    """An e-mail did not go out. `reason` is for people and logs (no address in it); `permanent`
    when trying again cannot help (the server refused the message itself)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """From SMTP_URL (checked already by settings.py)."""
        parts = urlsplit(url)
        implicit = parts.scheme.lower() == "smtps"
        return cls(
            host=parts.hostname or "",
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _reason(exc: BaseException, server: SmtpServer) -> SendFailed:
    """An exception of one attempt in words a person can act on."""
    where = server.address
    if isinstance(exc, SendFailed):
        return exc
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendFailed(f"the SMTP server {where} refused the user name or password ({exc.code})")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({r.code for r in exc.recipients})
        return SendFailed(f"the SMTP server {where} refused every recipient ({', '.join(map(str, codes))})", True)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return SendFailed(f"the SMTP server {where} refused the sender address, SMTP_FROM ({exc.code})", True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = redact_addresses(" ".join(str(exc.message).split()))[:200]
        return SendFailed(f"the SMTP server {where} answered {exc.code} {text}", 500 <= exc.code < 600)
    cause: BaseException | None = exc
    while cause is not None:  # aiosmtplib wraps the socket's error
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SendFailed(
                f"the certificate of {where} could not be verified ({cause.verify_message}); "
                "for a private CA, point SSL_CERT_FILE at its certificate"
            )
        if isinstance(cause, ssl.SSLError):
            return SendFailed(f"TLS with {where} failed ({cause.reason or cause})")
        if isinstance(cause, ConnectionRefusedError):
            return SendFailed(f"cannot connect to the SMTP server {where}: connection refused")
        if isinstance(cause, socket.gaierror):
            return SendFailed(f"cannot find the SMTP server {server.host}: {cause.strerror}")
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, TimeoutError | aiosmtplib.SMTPTimeoutError):
        return SendFailed(f"the SMTP server {where} did not answer in time")
    if isinstance(exc, aiosmtplib.SMTPConnectError | OSError):
        text = redact_addresses(str(exc))[:200]
        return SendFailed(f"cannot connect to the SMTP server {where}: {text}")
    return SendFailed(f"sending through {where} failed: {redact_addresses(str(exc))[:200] or type(exc).__name__}")


async def send(server: SmtpServer, message: EmailMessage) -> bool:
    """Sends `message` to its To addresses in one connection; True when the connection was
    encrypted (TLS or STARTTLS). Raises SendFailed."""
    timeout = ATTEMPT_TIMEOUT
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=server.implicit_tls,
        start_tls=False if server.implicit_tls else None,  # None: STARTTLS when the server offers it
        validate_certs=True,
        timeout=timeout,
        local_hostname=socket.gethostname() or "localhost",
    )
    protocol: aiosmtplib.protocol.SMTPProtocol | None = None
    try:
        async with asyncio.timeout(timeout * 4):  # connect, hello, TLS, login, data: bounded as a whole too
            await client.connect()
            protocol = client.protocol
            try:
                encrypted = client.get_transport_info("sslcontext") is not None
                if server.username is not None:
                    if not encrypted and not server.loopback:
                        raise SendFailed(
                            f"the SMTP server {server.address} offers no STARTTLS: leadtrail will not send the "
                            "password unencrypted (use smtps:// or a server that offers STARTTLS)"
                        )
                    await client.login(server.username, server.password or "")
                await client.send_message(message)
                return encrypted
            finally:
                if client.is_connected:
                    try:
                        await client.quit()
                    except (aiosmtplib.SMTPException, OSError):
                        client.close()
    except Exception as exc:
        raise _reason(exc, server) from None
    finally:
        await _closed(protocol)


async def _closed(protocol: aiosmtplib.protocol.SMTPProtocol | None) -> None:
    """Gives the event loop the turns it needs to finish closing the connection (a TLS close takes
    several: close_notify, then the socket), so that a caller closing its loop right after
    (`asyncio.run` in `leadtrail notify test`) leaves no open socket to the garbage collector.
    Bounded by CLOSE_WAIT; the protocol drops its transport once the connection is lost."""
    if protocol is None:  # the connection failed: aiosmtplib closed a plain socket, one turn
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return
    deadline = asyncio.get_running_loop().time() + CLOSE_WAIT
    # aiosmtplib offers no event to await for "connection lost" (its callback belongs to the
    # client), so a bounded poll of the protocol's transport
    while protocol.transport is not None and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
