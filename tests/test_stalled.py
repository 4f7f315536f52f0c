"""Documents a broker lost the message of: found, sent again once (one sweeper), journalled, resumed."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta

from cli.samples import Sample
from pipeline import journal, stalled
from pipeline.context import Services, open_services
from pipeline.intake import receive
from pipeline.records import Status
from pipeline.run import Receipt, run_stages
from tests.conftest import sample
from tests.test_cli import dematflow

XML = b"<?xml version='1.0'?><note>pas une facture</note>"


def test_a_document_without_progress_is_sent_again_and_journalled(services: Services) -> None:
    stuck = receive(services, filename="a.xml", data=XML).document_id
    done = receive(services, filename="b.xml", data=XML + b" ").document_id
    run_stages(services, Receipt(done))
    assert stalled.stalled(services, timedelta(hours=1)) == []  # received a moment ago: only slow
    sent: list[tuple[str, str]] = []
    assert stalled.resend(services, lambda stage, doc: sent.append((stage, doc)), timedelta(0)) == 1
    assert sent == [("ingest", stuck)]  # the final one is left alone
    [event] = [
        e for e in journal.entries(services.catalogue.engine, document_id=stuck) if e.action == "resent"
    ]
    assert event.stage == "ingest" and "no progress" in json.dumps(event.body)


def test_one_sweeper_at_a_time(services: Services) -> None:
    assert stalled.take_lease(services, "sweep", "p1", 60)
    assert stalled.take_lease(services, "sweep", "p1", 60)  # its own lease, renewed
    assert not stalled.take_lease(services, "sweep", "p2", 60)
    assert stalled.take_lease(services, "sweep", "p3", 0.01) is False
    assert stalled.take_lease(services, "other", "p2", 0.05)  # another job, another lease
    time.sleep(0.1)
    assert stalled.take_lease(services, "other", "p3", 60)  # expired: taken over


def test_a_sweep_resends_only_in_the_process_holding_the_lease(services: Services) -> None:
    receive(services, filename="a.xml", data=XML)
    quick = dataclasses.replace(services.settings, stalled_s=0.0)
    mine = open_services(quick)
    assert stalled.take_lease(mine, "sweep-stalled", "another-host:1", 60)
    sent: list[tuple[str, str]] = []
    assert stalled.sweep_once(mine, lambda stage, doc: sent.append((stage, doc))) == 0 and sent == []


def test_retry_stalled_resumes_them_in_process(services: Services, demo_set: list[Sample]) -> None:
    invoice = sample(demo_set, "facture-FA").path
    stuck = receive(services, filename=invoice.name, data=invoice.read_bytes()).document_id
    data_dir = services.settings.data_dir
    result = dematflow(data_dir, "retry", "--stalled", "--older-than", "0", "--json")
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["document_id"] == stuck and services.catalogue.get(stuck).status is Status.ARCHIVED
    refused = dematflow(data_dir, "retry", "--stalled", "--quarantined")
    assert refused.returncode != 0 and "one of them" in refused.stderr
