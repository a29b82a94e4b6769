"""Celery tasks of the bulk import: take a job id, claim it, run it for a while, send itself again."""

from celery import current_app, shared_task

from clinnova.audit import Actor
from doors.bulk import service
from doors.bulk.models import ImportJob, ImportStatus

# A worker runs a job this long, then sends it again: no task nears the time limit, and other work
# (scoring jobs) gets the worker in between.
SLICE_SECONDS = 60


@shared_task(time_limit=SLICE_SECONDS * 3, soft_time_limit=SLICE_SECONDS * 2)
def import_job_run(job_id: str) -> str:
    job = service.import_claim(job_id)
    if job is None:
        return "not claimed"
    eager = current_app.conf.task_always_eager
    job = service.import_run(job, actor=Actor(client=job.client.actor_name),
                             budget_seconds=None if eager else SLICE_SECONDS)
    if job.status == ImportStatus.PENDING:
        import_job_run.delay(str(job.pk))
    return job.status


@shared_task
def sweep_import_jobs() -> int:
    """Send again the jobs whose worker stopped (running without a heartbeat) or whose message was lost."""
    from django.utils import timezone

    stale = timezone.now() - service.STALE
    ids = list(ImportJob.objects.filter(status__in=[ImportStatus.PENDING, ImportStatus.RUNNING],
                                        heartbeat_at__lt=stale).values_list("pk", flat=True))
    ids += list(ImportJob.objects.filter(status=ImportStatus.PENDING, heartbeat_at__isnull=True,
                                         created_at__lt=stale).values_list("pk", flat=True))
    for pk in ids:
        import_job_run.delay(str(pk))
    return len(ids)
