#!/usr/bin/env python3
"""What the demo's resets told the world: one event from the SIEM's queue, one e-mail from SES.

    scripts/demo_sinks.py add-config CONFIG SEED      adds `events` and `notifications` to the
                                                      rendered CONFIG, from the seeder's SEED
    scripts/demo_sinks.py show MOTO_URL SEED          prints one OCSF event of a successful reset
                                                      (from the SQS queue behind the bus) and one
                                                      e-mail a user was sent (moto's SES record)

`show` exits 1 when either is missing, or when any event or e-mail holds a password or code
the sample events sent (tests/secrets.rs sweeps generated passwords with a canary).
"""

import json
import pathlib
import re
import sys
import urllib.request

import boto3

# Passwords the sample events send (events/*.json): none may appear in an event or a message.
EVENTS_DIR = pathlib.Path(__file__).resolve().parent.parent / "events"


def sample_passwords() -> set[str]:
    found = set()
    for path in EVENTS_DIR.glob("*.json"):
        try:
            event = json.loads(path.read_text())
            body = json.loads(event.get("body") or "{}")
        except (ValueError, AttributeError):
            continue
        if isinstance(body, dict):
            for key in ("password", "code"):
                if isinstance(body.get(key), str):
                    found.add(body[key])
    return found


def add_config(config_path: str, seed_path: str) -> int:
    seed = json.loads(pathlib.Path(seed_path).read_text())
    config = json.loads(pathlib.Path(config_path).read_text())
    config["events"] = {"eventBusName": seed["eventBusName"]}
    config["notifications"] = {
        "fromAddress": seed["fromAddress"],
        "contact": "the IT helpdesk, +1 555 0100",
    }
    pathlib.Path(config_path).write_text(json.dumps(config, indent=2) + "\n")
    return 0


def show(moto_url: str, seed_path: str) -> int:
    seed = json.loads(pathlib.Path(seed_path).read_text())
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    events = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=seed["eventsQueueUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            break
        events += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=seed["eventsQueueUrl"],
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    with urllib.request.urlopen(moto_url + "/moto-api/data.json", timeout=10) as response:
        state = json.load(response)
    mails = state.get("ses", {}).get("Message", [])

    secrets = sample_passwords()
    problems = []
    # A password change's event first (the e-mail is about one), else any success.
    resets = sorted(
        (e for e in events if e.get("detail", {}).get("status_id") == 1),
        key=lambda e: e["detail"].get("unmapped", {}).get("mode") not in ("generate", "set", "confirm"),
    )
    if not resets:
        problems.append(f"no successful reset's event among the {len(events)} on the queue")
    if not mails:
        problems.append("no e-mail was sent")
    text = json.dumps(events) + json.dumps(mails)
    # Whole tokens only: a short sample code must not match inside a timestamp or an id.
    leaked = sorted(
        s for s in secrets if re.search(rf"(?<![0-9A-Za-z]){re.escape(s)}(?![0-9A-Za-z])", text)
    )
    if leaked:
        problems.append(f"{len(leaked)} sample password(s) or code(s) in the events or e-mails")

    print(f"events on the SIEM's queue: {len(events)}; e-mails sent: {len(mails)}")
    if resets:
        print("\none event (OCSF Account Change), as the SIEM receives it:")
        print(json.dumps(resets[0], indent=2))
    if mails:
        mail = mails[0]
        print("\none e-mail, as SES sent it:")
        print(f"To: {', '.join(mail.get('destinations', {}).get('ToAddresses', []))}")
        print(f"From: {mail.get('source')}")
        print(f"Subject: {mail.get('subject')}")
        print()
        print(mail.get("body"))
    for problem in problems:
        print(f"demo_sinks: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "add-config":
        return add_config(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "show":
        return show(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
