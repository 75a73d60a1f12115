"""A real AWS SDK (botocore, from the rig's moto venv) calling the SigV4 gate.

Usage: botocore_client.py PLAN_JSON

PLAN: {"endpoint": URL, "key": AKID, "secret": SECRET, "token": TOKEN or null,
       "calls": [{"op": "sts_identity"} | {"op": "sqs_create_queue", "name": N} |
                 {"op": "sqs_send", "body": B} | {"op": "sqs_receive"} | {"op": "sqs_list_queues"} |
                 {"op": "register", "admin": URL, "expires_in": SECONDS} | {"op": "sleep", "seconds": S}]}

`register` does what the rig does when it hands out credentials: it registers the plan's
key with the gate's admin API, expiring `expires_in` seconds from now (the wall clock of
this process). It prints nothing, nor does `sleep`.

Prints one JSON object per call, in order. What an error looks like is botocore's own
parsing of the gate's answer (ClientError.response), not ours:
  {"op", "ok": false, "status", "code", "message", "query_error_code", "type", "date",
   "content_type", "protocol"}
  {"op", "ok": true, "status", "date", "result": {...}}

The signing clock is the process's own: run it under libfaketime to sign with a wrong one.
"""

import json
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
# One attempt, so that the first answer is what we see; short timeouts bound the run.
CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=25)


def main():
    plan = json.loads(sys.argv[1])
    session = botocore.session.Session()

    def client(service):
        return session.create_client(
            service, region_name=REGION, endpoint_url=plan["endpoint"], config=CONFIG,
            aws_access_key_id=plan["key"], aws_secret_access_key=plan["secret"],
            aws_session_token=plan.get("token"))

    sts, sqs = client("sts"), client("sqs")
    queue_url = None
    for call in plan["calls"]:
        op = call["op"]
        if op == "sleep":
            time.sleep(call["seconds"])
            continue
        if op == "register":
            expiry = datetime.now(timezone.utc) + timedelta(seconds=call["expires_in"])
            doc = {"AccessKeyId": plan["key"], "SecretAccessKey": plan["secret"],
                   "Token": plan.get("token"), "Expiration": expiry.isoformat()}
            req = urllib.request.Request(call["admin"] + "/keys", method="POST",
                                         data=json.dumps(doc).encode())
            with urllib.request.urlopen(req, timeout=5) as r:
                assert r.status == 200, r.status
            continue
        out = {"op": op}
        try:
            if op == "sts_identity":
                r = sts.get_caller_identity()
                out["result"] = {"Arn": r["Arn"], "Account": r["Account"]}
            elif op == "sqs_create_queue":
                r = sqs.create_queue(QueueName=call["name"])
                queue_url = r["QueueUrl"]
                out["result"] = {"QueueUrl": queue_url}
            elif op == "sqs_send":
                r = sqs.send_message(QueueUrl=queue_url, MessageBody=call["body"])
                out["result"] = {"MessageId": r["MessageId"]}
            elif op == "sqs_receive":
                r = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                        WaitTimeSeconds=1)
                out["result"] = {"Bodies": [m["Body"] for m in r.get("Messages", [])]}
            elif op == "sqs_list_queues":
                r = sqs.list_queues()
                out["result"] = {"QueueUrls": r.get("QueueUrls", [])}
            else:
                raise SystemExit(f"unknown op {op}")
            meta = r["ResponseMetadata"]
            out.update(ok=True, status=meta["HTTPStatusCode"],
                       date=meta["HTTPHeaders"].get("date"))
        except ClientError as e:
            err, meta = e.response["Error"], e.response["ResponseMetadata"]
            headers = meta.get("HTTPHeaders", {})
            out.update(ok=False, status=meta.get("HTTPStatusCode"), code=err.get("Code"),
                       message=err.get("Message"), query_error_code=err.get("QueryErrorCode"),
                       type=err.get("Type"), date=headers.get("date"),
                       content_type=headers.get("content-type"))
        out["protocol"] = (sts if op.startswith("sts") else sqs).meta.service_model.protocol
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
