"""HTTP routes of the webhook delivery log: a task's deliveries, one delivery, redelivery."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from server.deps import CallerDep, CeleryDep, SessionDep
from server.errors import responses
from server.tasks import service as task_service
from server.webhooks import service
from server.webhooks.schemas import WebhookDeliveryList, WebhookDeliveryResource
from shared.clock import utcnow
from shared.webhooks.emit import PendingDeliveries

router = APIRouter(tags=["webhooks"])


@router.get(
    "/v1/tasks/{task_id}/webhook-deliveries",
    response_model=WebhookDeliveryList,
    responses=responses(404),
    summary="A task's webhook deliveries, each with its attempts",
)
def list_task_deliveries(task_id: str, session: SessionDep, caller: CallerDep) -> WebhookDeliveryList:
    task = task_service.get_task(session, caller.owner, task_id)
    rows = service.list_for_subject(session, caller.owner, "task", task.id)
    return WebhookDeliveryList(data=[WebhookDeliveryResource.of(row) for row in rows])


@router.get(
    "/v1/webhook-deliveries/{delivery_id}",
    response_model=WebhookDeliveryResource,
    responses=responses(404),
    summary="One webhook delivery with its attempts",
)
def get_delivery(delivery_id: str, session: SessionDep, caller: CallerDep) -> WebhookDeliveryResource:
    return WebhookDeliveryResource.of(service.get_delivery(session, caller.owner, delivery_id))


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=WebhookDeliveryResource,
    responses=responses(404, 409, 503),
    summary="Send a delivery again now, with the same webhook-id",
)
def redeliver(delivery_id: str, session: SessionDep, celery: CeleryDep, caller: CallerDep) -> JSONResponse:
    delivery = service.redeliver(session, caller.owner, delivery_id, utcnow())
    PendingDeliveries([delivery.id]).send_after_commit(session, celery)
    session.commit()
    body = WebhookDeliveryResource.of(delivery).model_dump(mode="json")
    return JSONResponse(body, status_code=202)
