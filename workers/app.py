"""The module `dematflow worker` hands to dramatiq: settings from the environment, probes, actors."""

from __future__ import annotations

import dataclasses
import functools
import logging

import dramatiq

from extractors import tesseract
from pipeline.context import Services, open_services
from pipeline.settings import Settings
from signing import pdfsig
from workers.actors import Actors
from workers.broker import make_broker

log = logging.getLogger(__name__)

# Workers already run one process per core: each reads the pages of its document itself.
settings = dataclasses.replace(Settings.from_env(), ocr_jobs=1)
broker = make_broker(settings.broker_url)
dramatiq.set_broker(broker)
log.info("tesseract %s, pdfsig %s", tesseract.probe(), pdfsig.probe())


@functools.cache
def services() -> Services:
    return open_services(settings)


actors = Actors(broker, services)
