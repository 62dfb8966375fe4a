"""`leadtrail notify test`: a test e-mail through SMTP_URL to NOTIFY_EMAILS, against a real SMTP
server; exit code 1 and the reason in words when it cannot be sent."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from smtpsink import SmtpSink, ThrowawayCA

from leadtrail.cli import main
from leadtrail.notify import smtp

TO = "owner@studio.example,partner@studio.example"


def notify_test(**env: str | None):
    """Runs the command with exactly these LEADTRAIL_* settings (the developer's own left out)."""
    full = {"LEADTRAIL_SMTP_URL": None, "LEADTRAIL_NOTIFY_EMAILS": None, "LEADTRAIL_SMTP_FROM": None}
    full.update({f"LEADTRAIL_{k.upper()}": v for k, v in env.items()})
    return CliRunner().invoke(main, ["notify", "test"], env=full, catch_exceptions=False)


@pytest.fixture
def ca(tmp_path, monkeypatch):
    ca = ThrowawayCA(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    return ca


@pytest.fixture
def sinks():
    made: list[SmtpSink] = []
    yield made
    for sink in made:
        sink.stop()


def started(sinks, **kwargs) -> SmtpSink:
    sink = SmtpSink(**kwargs).start()
    sinks.append(sink)
    return sink


def test_it_sends_over_starttls_with_a_login(ca, sinks):
    """STARTTLS, the login, both recipients, SMTP_FROM; exit 0 and what was done."""
    sink = started(sinks, ca=ca, starttls=True, login=("leads@studio.example", "pw"))
    result = notify_test(smtp_url=sink.url, notify_emails=TO, smtp_from="Studio <leads@studio.example>")
    assert result.exit_code == 0, result.output
    assert f"through 127.0.0.1:{sink.port} (encrypted)" in result.output
    [received] = sink.wait_for(1, timeout=5)
    assert received["tls"] and received["login"] == b"leads@studio.example"
    assert sorted(received["rcpt_tos"]) == sorted(TO.split(","))
    message = received["message"]
    assert message["Subject"] == "leadtrail test e-mail" and message["From"] == "Studio <leads@studio.example>"
    assert "It works." in message.get_body(("plain",)).get_content()
    assert "It works." in message.get_body(("html",)).get_content()


def test_it_sends_over_implicit_tls(ca, sinks):
    """smtps:// speaks TLS from the first byte; SMTP_FROM unset: the SMTP user's address."""
    sink = started(sinks, ca=ca, implicit_tls=True, login=("leads@studio.example", "pw"))
    result = notify_test(smtp_url=sink.url, notify_emails=TO)
    assert result.exit_code == 0, result.output
    [received] = sink.wait_for(1, timeout=5)
    assert received["message"]["From"] == "leadtrail <leads@studio.example>"


def test_no_smtp_url_or_no_recipients_is_exit_1():
    result = notify_test(notify_emails=TO)
    assert result.exit_code == 1 and "SMTP_URL is not set" in result.output
    result = notify_test(smtp_url="smtp://127.0.0.1:2525")
    assert result.exit_code == 1 and "NOTIFY_EMAILS is not set" in result.output


def test_connection_refused_is_exit_1():
    sink = SmtpSink()  # never started
    result = notify_test(smtp_url=sink.url, notify_emails=TO)
    assert result.exit_code == 1
    assert (
        f"no e-mail sent: cannot connect to the SMTP server 127.0.0.1:{sink.port}: connection refused" in result.output
    )


def test_a_wrong_password_is_exit_1(ca, sinks):
    sink = started(sinks, ca=ca, starttls=True, login=("leads@studio.example", "right"))
    result = notify_test(smtp_url=sink.url.replace(":right@", ":wrong@"), notify_emails=TO)
    assert result.exit_code == 1
    assert "refused the user name or password (535)" in result.output
    assert sink.received == []


def test_a_certificate_nobody_trusts_is_refused(tmp_path, sinks, monkeypatch):
    """Without SSL_CERT_FILE naming its CA, the server's certificate is not believed: nothing sent."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    sink = started(sinks, ca=ThrowawayCA(tmp_path), starttls=True)
    result = notify_test(smtp_url=sink.url, notify_emails=TO)
    assert result.exit_code == 1
    assert "could not be verified" in result.output and "SSL_CERT_FILE" in result.output
    assert sink.received == []


def test_no_password_goes_in_clear_to_another_machine(sinks, monkeypatch):
    """A server that offers no STARTTLS, taken for a remote one: leadtrail will not log in."""
    monkeypatch.setattr(smtp.SmtpServer, "loopback", property(lambda self: False))
    sink = started(sinks)
    result = notify_test(smtp_url=f"smtp://user:secret@127.0.0.1:{sink.port}", notify_emails=TO)
    assert result.exit_code == 1 and "offers no STARTTLS" in result.output
    assert "secret" not in result.output and sink.received == []


def test_a_bad_smtp_url_is_refused_without_echoing_the_password():
    result = notify_test(smtp_url="http://user:hunter2@mail.example.com", notify_emails=TO)
    assert result.exit_code == 1 and "expected smtp://" in result.output and "hunter2" not in result.output
