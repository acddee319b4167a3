"""The Python function users would write instead of resetgate, for `make bench` (issue #17).

A self-service `generate` password reset behind API Gateway (HTTP API, payload 2.0, a JWT
authorizer): the caller's own Cognito user gets a generated temporary password, once per
Idempotency-Key. Written as a competent Powertools for AWS Lambda (Python) user would: the
Logger, the idempotency utility on DynamoDB (its own table, the attributes Powertools expects:
partition key `id`, TTL on `expiration`), boto3 clients created once at init, and a password
from `secrets`. Run by the Lambda Runtime Interface Client, as the Lambda Python runtime does:

    python -m awslambdaric app.handler        (AWS_LAMBDA_RUNTIME_API=host:port)

Environment: USER_POOL_ID, IDEMPOTENCY_TABLE, TARGET_NAME (default app-users),
POWERTOOLS_SERVICE_NAME. Credentials, region and AWS_ENDPOINT_URL as boto3 reads them.

It is the comparison, not a second implementation: no rate limits, no privileged-user check,
no events or e-mail. Like Powertools' default, the idempotency record stores the whole result,
the generated password included, for the replay (resetgate stores no password).
"""

import json
import os
import secrets
import string

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

USER_POOL_ID = os.environ["USER_POOL_ID"]
TARGET_NAME = os.environ.get("TARGET_NAME", "app-users")
PASSWORD_LENGTH = 20
SYMBOLS = "!#$%&*+-.:=?@^_~"
ALPHABET = string.ascii_letters + string.digits + SYMBOLS

logger = Logger()
cognito = boto3.client("cognito-idp")
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])
idempotency_config = IdempotencyConfig(
    # The caller's key, scoped to the caller: another user's same key is another request.
    event_key_jmespath="[username, idempotencyKey]",
    # The same key with another request is refused rather than answered with the first result.
    payload_validation_jmespath="mode",
    expires_after_seconds=600,
)


def generate_password() -> str:
    """20 characters from letters, digits and symbols, with at least one of each class (the
    user pool's policy)."""
    while True:
        password = "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))
        if (any(c.islower() for c in password) and any(c.isupper() for c in password)
                and any(c.isdigit() for c in password) and any(c in SYMBOLS for c in password)):
            return password


def response(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}


@idempotent_function(data_keyword_argument="request", config=idempotency_config,
                     persistence_store=persistence)
def reset_password(request: dict) -> dict:
    password = generate_password()
    cognito.admin_set_user_password(UserPoolId=USER_POOL_ID, Username=request["username"],
                                    Password=password, Permanent=False)
    logger.info("password reset", extra={"target": TARGET_NAME, "username": request["username"],
                                         "mode": "generate"})
    return {"target": TARGET_NAME, "username": request["username"], "mode": "generate",
            "mustChangeAtNextSignIn": True, "password": password}


@logger.inject_lambda_context
@event_source(data_class=APIGatewayProxyEventV2)
def handler(event: APIGatewayProxyEventV2, context: LambdaContext) -> dict:
    idempotency_config.register_lambda_context(context)
    username = event.request_context.authorizer.jwt_claim.get("cognito:username")
    if not username:
        return response(403, {"error": "FORBIDDEN"})
    if event.path_parameters.get("target") != TARGET_NAME:
        return response(404, {"error": "UNKNOWN_TARGET"})
    key = event.headers.get("idempotency-key")
    if not key:
        return response(400, {"error": "IDEMPOTENCY_KEY_REQUIRED"})
    try:
        mode = (event.json_body or {}).get("mode")
    except (ValueError, AttributeError):
        return response(400, {"error": "INVALID_REQUEST"})
    if mode != "generate":
        return response(400, {"error": "INVALID_REQUEST"})
    try:
        result = reset_password(request={"username": username, "idempotencyKey": key, "mode": mode})
    except IdempotencyAlreadyInProgressError:
        return response(409, {"error": "IN_PROGRESS"})
    except IdempotencyValidationError:
        return response(422, {"error": "IDEMPOTENCY_KEY_REUSED"})
    except cognito.exceptions.UserNotFoundException:
        return response(404, {"error": "USER_NOT_FOUND"})
    return response(200, result)
