"""Celery tasks: thin interfaces that take ids and call the job service."""

from celery import shared_task

from recommendations import jobs, registry


@shared_task(bind=True, autoretry_for=jobs.TRANSIENT_ERRORS, retry_backoff=2, retry_backoff_max=60,
             retry_jitter=True, max_retries=jobs.MAX_ATTEMPTS)
def score_job(self, job_id: int) -> int:
    return jobs.jobs_run([job_id])


@shared_task
def score_jobs(job_ids: list[int]) -> int:
    """A batch of jobs in one vectorised call (re-scoring after an activation)."""
    return jobs.jobs_run(job_ids)


@shared_task
def sweep_scoring_jobs() -> int:
    registry.validations_sweep()
    return len(jobs.jobs_sweep())


@shared_task
def validate_model_version(version_id: int) -> None:
    """Booster checks and canary of an upload, in the sandbox (a child process with its own limits)."""
    registry.model_version_validate(version_id=version_id)
