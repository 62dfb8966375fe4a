"""leadtrail's e-mail: the new-enquiry e-mail, the daily or weekly digest, and what sends them.

mail.py     pure: the mail templates (Jinja2, autoescaped HTML and plain text), channel colours,
            one EmailMessage (text + HTML alternatives), addresses kept out of logs
enquiry.py  pure: a new enquiry's e-mail from its journey (export.export_journey)
digest.py   pure: the digest's periods (days in TIMEZONE) and its e-mail from the insights queries
smtp.py     SMTP_URL: one connection per e-mail through aiosmtplib, failures in words
outbox.py   the background sender: the email_outbox table (a row per e-mail, claimed by
            compare-and-set), retries with backoff, the digest's schedule, /metrics counters
"""
