"""Pure: how leadtrail's e-mails are written. Templates under templates/mail/ (autoescape for the
.html ones, none for the .txt ones), the channel colours of the dashboard as inline styles, and
one EmailMessage holding the plain text and the HTML as alternatives.

E-mail clients (Gmail, Outlook, Apple Mail) drop <style> blocks, SVG, scripts and often remote
images: the HTML is tables with inline styles, and every colour and size is written where used.
"""

from __future__ import annotations

import re
import socket
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

import jinja2

from ..charts.text import truncate
from ..templating import TEMPLATE_DIR

# The dashboard's channel colours (static/cp/cp.css, .ch-*); tests/test_notify_mail.py holds them equal.
CHANNEL_COLOURS = {
    "Direct": "#7b8794",
    "Organic Search": "#2f9e69",
    "Paid Search": "#e07b24",
    "Organic Social": "#3b82c4",
    "Paid Social": "#7c5cc4",
    "Email": "#c99a1a",
    "Referral": "#16958a",
    "Display": "#d0508a",
    "Affiliates": "#a0522d",
    "Organic Video": "#d64545",
    "Paid Video": "#b0306a",
    "SMS": "#5b6b7b",
    "AI Assistants": "#8b5cf6",
    "Cross-network": "#c2410c",
    "Paid Shopping": "#ca8a04",
    "Organic Shopping": "#65a30d",
    "Paid Other": "#be6d3a",
    "Audio": "#0e7490",
    "Mobile Push Notifications": "#4f46e5",
}
OTHER_COLOUR = "#a3acb3"


def channel_colour(channel: str | None) -> str:
    return CHANNEL_COLOURS.get(channel or "", OTHER_COLOUR)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR / "mail")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["colour"] = channel_colour
    env.filters["truncate_text"] = truncate
    return env


def _text_environment() -> jinja2.Environment:
    env = _environment()
    env.autoescape = False  # plain text: nothing to escape, and "&" must stay "&"
    return env


HTML = _environment()
TEXT = _text_environment()


FONTS = {
    "font": "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif",
    "mono": "ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace",
}


def render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    """(plain text, HTML) of templates/mail/<name>.txt and <name>.html."""
    context = {**FONTS, **context}
    text = TEXT.get_template(f"{name}.txt").render(context)
    html = HTML.get_template(f"{name}.html").render(context)
    return _tidy_text(text), html


def _tidy_text(text: str) -> str:
    """At most one blank line in a row, no trailing spaces: what the loops of a template leave."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def one_line(text: object, limit: int = 200) -> str:
    """Text fit for a header (a subject): printable, on one line, cut to `limit`."""
    return " ".join(truncate(text, limit).split())


def default_sender(smtp_user: str | None, smtp_host: str) -> str:
    """SMTP_FROM when unset: the SMTP user when it is an address (most providers insist on it),
    else leadtrail@<the SMTP server's host>."""
    if smtp_user and "@" in smtp_user:
        return f"leadtrail <{smtp_user}>"
    return f"leadtrail <leadtrail@{smtp_host}>"


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rsplit("@", 1)[1] if "@" in address else socket.gethostname()


def assemble(
    subject: str,
    text: str,
    html: str,
    sender: str,
    recipients: tuple[str, ...],
    now: datetime,
    reply_to: str | None = None,
) -> EmailMessage:
    """One e-mail: plain text first, HTML as its alternative (clients show the richest they can)."""
    message = EmailMessage()
    message["Subject"] = one_line(subject)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    if reply_to:
        try:
            message["Reply-To"] = Address(addr_spec=reply_to)
        except (ValueError, IndexError, TypeError):
            pass  # an address the e-mail header parser cannot take: no Reply-To, the body still says it
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("leadtrail", domain=_domain(sender))
    # An automatic message (RFC 3834): auto-replies and out-of-office answers stay away.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")


def redact_addresses(text: str) -> str:
    """`text` (an SMTP server's answer, an exception) without any e-mail address in it, for logs:
    servers name the recipient they refuse ("550 <jane@example.com>: unknown user")."""
    return _ADDRESS.sub("<address>", text)


def test_message(server: str, sender: str, recipients: tuple[str, ...], digest: str, now: datetime) -> EmailMessage:
    """`leadtrail notify test`'s e-mail."""
    context = {"server": server, "count": len(recipients), "digest": digest}
    text, html = render("test", context)
    return assemble("leadtrail test e-mail", text, html, sender, recipients, now)
