#!/usr/bin/env python3
"""Seed a moto server with resetgate's demo data.

    scripts/seed_moto.py ENDPOINT_URL [--idempotency-table NAME]

Creates, in us-east-1 with dummy credentials:

* the user pool `resetgate-demo`, with the password policy of Cognito's default (at least 8
  characters, upper case, lower case, digit and symbol) and account recovery by verified e-mail;
* the app client `resetgate-demo-admin` (no secret) allowing ADMIN_USER_PASSWORD_AUTH, so a test
  can sign in with a password the function set;
* the users of `config/demo-pool.json` (alice, bob, helen, mallory, break-glass, hank), each
  with `<name>@example.com` (email_verified = true) and confirmed with the permanent password
  of its `seedPassword` pattern, and its group memberships (hank in helpdesk);
* the DynamoDB table for idempotency records (default `resetgate-idempotency`, partition key
  `id` of type S, on-demand, TTL on `expiration`), since the function needs it for every POST;
* where the demo's events and e-mails land: the EventBridge bus `resetgate-demo` with a rule
  sending resetgate's events to the SQS queue `resetgate-demo-siem` (a SIEM's stand-in), and
  the verified SES sender `no-reply@example.com`.

Prints one JSON object on stdout: {"userPoolId", "clientId", "eventBusName", "eventsQueueUrl",
"fromAddress"}. Progress goes to stderr.
Running it again against the same server reuses what exists and resets the users' passwords.
"""

import argparse
import json
import os
import pathlib
import sys

REGION = "us-east-1"
POOL_NAME = "resetgate-demo"
CLIENT_NAME = "resetgate-demo-admin"
EVENT_BUS = "resetgate-demo"
EVENTS_QUEUE = "resetgate-demo-siem"
SENDER = "no-reply@example.com"
# The demo pool's users, group memberships and seeded passwords: one file, read by this seeder
# and by the Rust tests' pool (tests/support/cognito.rs), so the two cannot drift apart.
# hank holds a helpdesk seat (a privileged account).
DEMO_POOL = json.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "config" / "demo-pool.json").read_text()
)
USERS = DEMO_POOL["users"]
GROUPS = DEMO_POOL["groups"]
PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}


def seed_password(name: str) -> str:
    return DEMO_POOL["seedPassword"].replace("{name}", name)


def log(msg: str) -> None:
    print(f"seed_moto: {msg}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoint_url", help="moto server URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--idempotency-table", default="resetgate-idempotency")
    args = parser.parse_args()

    # A developer's own AWS profile or endpoint must not leak into the demo.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )
    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
    idp = session.client("cognito-idp", endpoint_url=args.endpoint_url, config=config)
    ddb = session.client("dynamodb", endpoint_url=args.endpoint_url, config=config)
    events = session.client("events", endpoint_url=args.endpoint_url, config=config)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url, config=config)
    ses = session.client("sesv2", endpoint_url=args.endpoint_url, config=config)

    try:
        pool_id = next(
            (p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == POOL_NAME),
            None,
        )
        if pool_id is None:
            pool_id = idp.create_user_pool(
                PoolName=POOL_NAME,
                Policies={"PasswordPolicy": PASSWORD_POLICY},
                AccountRecoverySetting={
                    "RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]
                },
                AutoVerifiedAttributes=["email"],
                AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            )["UserPool"]["Id"]
            log(f"created user pool {pool_id}")
        else:
            log(f"reusing user pool {pool_id}")

        client_id = next(
            (
                c["ClientId"]
                for c in idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
                if c["ClientName"] == CLIENT_NAME
            ),
            None,
        )
        if client_id is None:
            client_id = idp.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=CLIENT_NAME,
                GenerateSecret=False,
                ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            )["UserPoolClient"]["ClientId"]
            log(f"created app client {client_id}")

        for name in USERS:
            try:
                idp.admin_create_user(
                    UserPoolId=pool_id,
                    Username=name,
                    UserAttributes=[
                        {"Name": "email", "Value": f"{name}@example.com"},
                        {"Name": "email_verified", "Value": "true"},
                    ],
                    MessageAction="SUPPRESS",
                )
            except ClientError as e:
                if e.response["Error"]["Code"] != "UsernameExistsException":
                    raise
            idp.admin_set_user_password(
                UserPoolId=pool_id, Username=name, Password=seed_password(name), Permanent=True
            )
            status = idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserStatus"]
            if status != "CONFIRMED":
                log(f"user {name} is {status}, expected CONFIRMED")
                return 1
        log(f"users confirmed: {', '.join(USERS)}")
        for group, members in GROUPS.items():
            try:
                idp.create_group(UserPoolId=pool_id, GroupName=group)
            except ClientError as e:
                if e.response["Error"]["Code"] != "GroupExistsException":
                    raise
            for member in members:
                idp.admin_add_user_to_group(UserPoolId=pool_id, Username=member, GroupName=group)
        log("groups: " + ", ".join(f"{g} ({', '.join(m)})" for g, m in GROUPS.items()))

        table = args.idempotency_table
        if table not in ddb.list_tables()["TableNames"]:
            ddb.create_table(
                TableName=table,
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            ddb.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
            )
            ddb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
            )
            log(f"created DynamoDB table {table}")
        # Where the demo's events and e-mails land, to be shown: a bus with a rule to a queue
        # (a SIEM's stand-in), and a verified sender.
        if EVENT_BUS not in [b["Name"] for b in events.list_event_buses()["EventBuses"]]:
            events.create_event_bus(Name=EVENT_BUS)
        queue_url = sqs.create_queue(QueueName=EVENTS_QUEUE)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="resetgate-to-siem",
            EventBusName=EVENT_BUS,
            EventPattern=json.dumps({"source": ["resetgate"], "detail-type": ["Account Change"]}),
        )
        events.put_targets(
            Rule="resetgate-to-siem",
            EventBusName=EVENT_BUS,
            Targets=[{"Id": "siem", "Arn": queue_arn}],
        )
        ses.create_email_identity(EmailIdentity=SENDER)
        log(f"events: bus {EVENT_BUS} -> queue {EVENTS_QUEUE}; e-mail sender {SENDER}")
    except (BotoCoreError, ClientError) as e:
        log(f"failed against {args.endpoint_url}: {e}")
        return 1

    print(
        json.dumps(
            {
                "userPoolId": pool_id,
                "clientId": client_id,
                "eventBusName": EVENT_BUS,
                "eventsQueueUrl": queue_url,
                "fromAddress": SENDER,
            }
        )
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
