"""Celery tasks: thin interfaces that take ids and call the job service."""

from celery import shared_task

from recommendations import jobs, registry

# A batch of 200 (jobs_send) is scored as four of 50: the write of one overlaps the build of the next.
SUB_BATCH = 50


@shared_task(bind=True, autoretry_for=jobs.TRANSIENT_ERRORS, retry_backoff=2, retry_backoff_max=60,
             retry_jitter=True, max_retries=jobs.MAX_ATTEMPTS)
def score_job(self, job_id: int) -> int:
    """A new or amended visit's job, with the jobs queued behind it (one batch under load)."""
    return jobs.jobs_run_with_backlog(job_id)


@shared_task
def score_jobs(job_ids: list[int]) -> int:
    """A batch of jobs (re-scoring after an activation, the sweep's backlog), scored in sub-batches whose
    database writes overlap the next sub-batch's prediction."""
    return jobs.jobs_run_batches([job_ids[i:i + SUB_BATCH] for i in range(0, len(job_ids), SUB_BATCH)])


@shared_task
def sweep_scoring_jobs() -> int:
    registry.validations_sweep()
    return len(jobs.jobs_sweep())


@shared_task
def validate_model_version(version_id: int) -> None:
    """Booster checks and canary of an upload, in the sandbox (a child process with its own limits)."""
    registry.model_version_validate(version_id=version_id)
