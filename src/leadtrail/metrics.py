"""GET /metrics: counters in Prometheus' text format, for the machine leadtrail runs on.

Served to loopback peers only (a Prometheus agent or `curl` on the host); everyone else gets 404,
because enquiry counts are the owner's business. Counters are per process: with --workers N,
each worker answers for itself.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .web import direct_local_peer

if TYPE_CHECKING:  # services imports this module
    from .services import Services


class Metrics:
    def __init__(self) -> None:
        self.responses: Counter[tuple[str, int]] = Counter()  # (route, status) -> count
        self.journeys: Counter[str] = Counter()  # created / refreshed
        self.webhooks: Counter[str] = Counter()  # delivered / retried / failed / dropped
        # (kind, result): enquiry/digest/test x queued / sent / retried / failed / skipped / dropped
        self.emails: Counter[tuple[str, str]] = Counter()

    def response(self, route: str, status: int) -> None:
        self.responses[(route, status)] += 1


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def render(services: Services) -> str:
    m: Metrics = services.metrics
    committer = services.store.committer
    lines = [
        "# HELP leadtrail_http_responses_total Responses of the ingest API by route and status.",
        "# TYPE leadtrail_http_responses_total counter",
        *(
            f'leadtrail_http_responses_total{{route="{route}",status="{status}"}} {count}'
            for (route, status), count in sorted(m.responses.items())
        ),
        "# HELP leadtrail_disk_low 1 while free disk is below MIN_FREE_DISK_MB (new enquiries refused).",
        "# TYPE leadtrail_disk_low gauge",
        f"leadtrail_disk_low {int(services.disk.low())}",
        "# HELP leadtrail_journeys_total Promotes by outcome.",
        "# TYPE leadtrail_journeys_total counter",
        *(f'leadtrail_journeys_total{{result="{result}"}} {count}' for result, count in sorted(m.journeys.items())),
        "# HELP leadtrail_webhook_deliveries_total New-enquiry webhooks: delivered, retried (an attempt to be "
        "repeated), failed (gave up), dropped (queue full or server stopping).",
        "# TYPE leadtrail_webhook_deliveries_total counter",
        *(
            f'leadtrail_webhook_deliveries_total{{result="{result}"}} {m.webhooks[result]}'
            for result in ("delivered", "retried", "failed", "dropped")
        ),
        "# HELP leadtrail_emails_total E-mails (kind: enquiry, digest): queued (written to the outbox by this "
        "process), sent, retried (an attempt failed, another will follow), failed (given up), skipped (the "
        "enquiry was erased or filed as spam before it went), dropped (not queued: queue full, server stopping).",
        "# TYPE leadtrail_emails_total counter",
        *(
            f'leadtrail_emails_total{{kind="{kind}",result="{result}"}} {m.emails[(kind, result)]}'
            for kind in ("enquiry", "digest")
            for result in ("queued", "sent", "retried", "failed", "skipped", "dropped")
        ),
        "# HELP leadtrail_commit_batches_total Group-commit batches written.",
        "# TYPE leadtrail_commit_batches_total counter",
        f"leadtrail_commit_batches_total {committer.batches}",
        "# HELP leadtrail_commit_rows_total Event rows in committed batches (duplicates included).",
        "# TYPE leadtrail_commit_rows_total counter",
        f"leadtrail_commit_rows_total {committer.rows_written}",
        "# HELP leadtrail_commit_failed_batches_total Batches whose write failed (their requests got 503).",
        "# TYPE leadtrail_commit_failed_batches_total counter",
        f"leadtrail_commit_failed_batches_total {getattr(committer, 'failed_batches', 0)}",
        "# HELP leadtrail_pruned_events_total Expired buffered events deleted by this process.",
        "# TYPE leadtrail_pruned_events_total counter",
        f"leadtrail_pruned_events_total {services.pruner.deleted_events}",
    ]
    rss = _rss_bytes()
    if rss is not None:
        lines += [
            "# HELP process_resident_memory_bytes Resident memory of this process.",
            "# TYPE process_resident_memory_bytes gauge",
            f"process_resident_memory_bytes {rss}",
        ]
    return "\n".join(lines) + "\n"


async def metrics(request: Request) -> Response:
    if not direct_local_peer(request):
        return PlainTextResponse("404 Not Found\n", status_code=404)
    return PlainTextResponse(render(request.app.state.services), media_type="text/plain; version=0.0.4")


def routes() -> list[Route]:
    return [Route("/metrics", metrics, methods=["GET"])]
