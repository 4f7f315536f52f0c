"""The module `dematflow worker` hands to dramatiq: settings from the environment, probes, actors."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import threading

import dramatiq

from dematflow import logs
from extractors import tesseract
from pipeline import stalled
from pipeline.context import Services, open_services
from pipeline.settings import Settings
from signing import pdfsig
from workers.actors import Actors
from workers.broker import make_broker
from workers.metrics import port_from_env, serve

log = logging.getLogger(__name__)
logs.apply(os.environ)  # DEMATFLOW_LOG_FORMAT, over the handler dramatiq set up in this process

# Workers already run one process per core: each reads the pages of its document itself.
settings = dataclasses.replace(Settings.from_env(), ocr_jobs=1)
broker = make_broker(settings.broker_url)
dramatiq.set_broker(broker)
log.info("tesseract %s, pdfsig %s", tesseract.probe(), pdfsig.probe())
if (metrics_port := port_from_env(os.environ)) is not None:  # off by default
    serve(metrics_port)


@functools.cache
def services() -> Services:
    return open_services(settings)


actors = Actors(broker, services)
# Messages a broker lost (a restart, a failed acknowledgement) are sent again by one process at a time.
threading.Thread(target=stalled.sweep_forever, args=(services, actors.send), daemon=True).start()
