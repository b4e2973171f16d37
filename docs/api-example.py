#!/usr/bin/env python3
"""An internal system talking to the register with nothing but the OpenAPI schema and a system token.

    python docs/api-example.py http://127.0.0.1:8000 ropa_1234...   (or ROPA_URL / ROPA_TOKEN)

Issue the token first: ``python manage.py issue_token --role system --controller KEY --source-system crm``.
Standard library only. Every path comes from the schema, found by its operationId, so the script keeps
working if a prefix moves. It:

1. reads the schema at /api/v1/schema/ and its token's scope at the ``token_retrieve`` operation;
2. picks an activity and a data category of its controller (``processing_activities_list``);
3. registers a batch of records (``records_batch_create``), then the same batch again: nothing is new;
4. tells the register that one contract ended (``records_partial_update``);
5. reads its erasure feed (``erasure_feed_list``) and confirms what it erased (``erasure_feed_confirm_create``);
6. checks it cannot write the register or read another system's records.

It prints what it did, one line per step, and exits non-zero if anything is not as the API promises.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class Api:
    def __init__(self, base_url: str, token: str):
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise SystemExit(f"not an http(s) URL: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.schema = self.call("GET", "/api/v1/schema/?format=json", auth=False)
        self.paths = {
            operation["operationId"]: (method.upper(), path)
            for path, methods in self.schema["paths"].items()
            for method, operation in methods.items()
        }

    def call(self, method: str, path: str, body=None, *, auth: bool = True, query: dict | None = None):
        url = self.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s), checked in __init__
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Token {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s), checked in __init__
                raw = response.read()
                self.status = response.status
        except urllib.error.HTTPError as error:
            raw, self.status = error.read(), error.code
        return json.loads(raw) if raw else None

    def op(self, operation_id: str, body=None, *, query: dict | None = None, **path_params):
        method, path = self.paths[operation_id]
        for name, value in path_params.items():
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value)))
        return self.call(method, path, body, query=query)


def check(condition: bool, message: str) -> None:
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        sys.exit(1)


def main(base_url: str, token: str) -> None:
    api = Api(base_url, token)
    me = api.op("token_retrieve")
    check(api.status == 200 and me["role"] == "system", f"token is a system token for {me.get('source_system')}")
    activities = api.op("processing_activities_list")["results"]
    activity = next(a for a in activities if a["status"] == "active" and a["data_categories"])
    print(f"      registering under {activity['reference']} ({activity['name']}), {activity['data_categories'][0]}")

    records = [
        {
            "external_id": f"example-{n}",
            "subject": f"customer-{n}",
            "activity": activity["reference"],
            "data_category": activity["data_categories"][0],
            "payload": {"customer_number": n},
            "collected_on": "2015-01-01",
        }
        for n in range(3)
    ]
    first = api.op("records_batch_create", {"records": records})
    check(api.status == 200, f"batch registered: {first and first.get('created')} new")
    again = api.op("records_batch_create", {"records": records})
    check(api.status == 200 and again["created"] == 0, "the same batch again creates nothing")
    record_id = first["results"][0]["id"]
    updated = api.op("records_partial_update", {"contract_ended_on": "2016-06-30"}, id=record_id)
    check(api.status == 200, f"contract end recorded; record {record_id} expires at {updated['expires_at']}")
    mine = api.op("records_list", query={"subject": "customer-1"})
    check([r["external_id"] for r in mine["results"]] == ["example-1"], "a subject's records looked up")

    feed = api.op("erasure_feed_list")
    erased = [line["external_id"] for line in feed["results"]]
    check(api.status == 200, f"erasure feed read: {len(erased)} record(s) to erase on our side")
    if erased:
        confirmed = api.op("erasure_feed_confirm_create", {"external_ids": erased})
        check(api.status == 200 and confirmed["confirmed"] == len(erased), f"confirmed {confirmed['confirmed']}")
        check(not api.op("erasure_feed_list")["results"], "the feed is empty once confirmed")

    api.op("processing_activities_partial_update", {"owner": "me"}, id=activity["id"])
    check(api.status == 403, "the register is read-only for a system token (403)")
    api.op("legal_holds_create", {"controller": me["controllers"][0], "reason": "test"})
    check(api.status == 403, "a system token places no legal hold (403)")
    others = api.op("records_list", query={"source_system": "someone-else"})
    check(all(r["source_system"] == me["source_system"] for r in others["results"]), "no other system's records")
    api.op("register_export_retrieve", query={"format": "csv"})
    check(api.status == 403, "no register export for a system token (403)")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(
        arguments[0] if arguments else os.environ.get("ROPA_URL", "http://127.0.0.1:8000"),
        arguments[1] if len(arguments) > 1 else os.environ["ROPA_TOKEN"],
    )
