import logging

from celery import shared_task
from celery.signals import worker_ready

from clinic import clock
from clinic.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


@shared_task(bind=True)
def heartbeat_task(self) -> None:
    """Record that a worker is alive (beat runs it every minute; the settings page shows it)."""
    worker = self.request.hostname or "worker"
    WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"seen_at": clock.now()})
    logger.info("heartbeat from %s", worker)


@worker_ready.connect
def _announce_worker(**kwargs: object) -> None:
    """Report at start-up, so the settings page need not wait for beat's first minute."""
    heartbeat_task.delay()
