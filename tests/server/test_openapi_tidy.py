"""`server.openapi.tidy` and the poll hint, on plain data."""

from __future__ import annotations

from server.openapi import tidy
from server.tasks.polling import MAX_RETRY_AFTER_S, retry_after_s


def test_form_bodies_are_renamed_and_fastapi_errors_point_at_the_real_shape() -> None:
    document = {
        "paths": {
            "/up": {
                "post": {
                    "operationId": "upload_task",
                    "requestBody": {
                        "content": {
                            "multipart/form-data": {
                                "schema": {"$ref": "#/components/schemas/Body_upload_task"}
                            }
                        }
                    },
                    "responses": {
                        "422": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
                                }
                            }
                        },
                        "401": {
                            "content": {
                                "text/html": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
                            }
                        },
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Body_upload_task": {"title": "Body_upload_task", "type": "object"},
                "HTTPValidationError": {"type": "object"},
                "ValidationError": {"type": "object"},
                "ErrorResponse": {"type": "object", "title": "ErrorResponse"},
            }
        },
    }
    tidied = tidy(document)
    assert set(tidied["components"]["schemas"]) == {"UploadTaskForm", "ErrorResponse"}
    assert tidied["components"]["schemas"]["UploadTaskForm"]["title"] == "UploadTaskForm"
    operation = tidied["paths"]["/up"]["post"]
    assert operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].endswith(
        "/UploadTaskForm"
    )
    assert operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    assert set(operation["responses"]["401"]["content"]) == {"application/json"}  # errors are JSON
    assert "Body_upload_task" in document["components"]["schemas"]  # the input is left as it was


def test_the_poll_hint_grows_with_the_queue_and_is_capped() -> None:
    assert retry_after_s(0) == 1
    assert retry_after_s(5) == 6
    assert retry_after_s(10_000) == MAX_RETRY_AFTER_S
