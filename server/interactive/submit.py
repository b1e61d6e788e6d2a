"""An interactive request's task: created, committed and enqueued like any other (same queue
message, same workers), on the interactive queue. Each database step is a short session of its
own: the request then waits for minutes without holding a pooled connection."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery
from starlette.concurrency import run_in_threadpool

from server.quotas import check_quota
from server.tasks import service
from server.tasks.uploads import StagedFile
from shared.config import Settings
from shared.db.session import get_sessionmaker
from shared.options import TaskOptions
from shared.page_ranges import select_pages
from shared.queue import QUEUE_INTERACTIVE
from shared.storage import Storage


@dataclass(frozen=True)
class Document:
    """Exactly one of a staged file (upload, base64, data: URL) or a URL the worker fetches."""

    staged: StagedFile | None = None
    url: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Submitted:
    task_id: str
    # the pages the task will process, in order, when the document is already known here
    pages: list[int] | None


def _create(
    settings: Settings, storage: Storage, celery: Celery, owner: str, options: TaskOptions, document: Document
) -> Submitted:
    spec = service.NewTask(
        owner=owner,
        options=service.validate_options(options, settings),
        webhook_url=None,
        queue=service.queue_for(options, settings, QUEUE_INTERACTIVE),
        filename=document.filename,
    )
    pages = None
    if document.staged is not None:  # the page count is known now: a range past the end fails at once
        pages = select_pages(options.pages, document.staged.info.page_count)
    session = get_sessionmaker(settings.database_url, settings.database_pool_size)()
    try:
        check_quota(session, settings, owner, pages=len(pages) if pages is not None else 0)
        if document.staged is not None:
            task = service.create_uploaded_task(session, storage, spec, document.staged)
        else:
            task = service.create_source_task(session, settings, spec, document.url, None)
        service.commit_and_enqueue(session, celery, [task])
        return Submitted(task.id, pages)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def submit(
    settings: Settings, storage: Storage, celery: Celery, owner: str, options: TaskOptions, document: Document
) -> Submitted:
    return await run_in_threadpool(_create, settings, storage, celery, owner, options, document)
