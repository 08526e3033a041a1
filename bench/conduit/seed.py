"""Seeds the conduit service for bench/conduit: per tenant, 20 users, 50 articles with comments,
favourites and follows. Prints a Lua table the wrk scripts load: the tenants, each with its slugs,
usernames and tokens.

With SEED_API set (e.g. `/api`), seeds one tenant at that path instead: a single-tenant RealWorld
service, for bench/conduit/compare."""

import json
import os
import sys
import urllib.request

base, count = sys.argv[1], int(sys.argv[2])


def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Token " + token)
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data) as response:
        text = response.read()
        return json.loads(text) if text else None


tags = ["rust", "mongodb", "tenancy", "web", "async", "serde", "axum", "bench"]
tenants = []
for t in range(count):
    tenant = f"bench-{t}"
    api = os.environ.get("SEED_API") or f"/t/{tenant}/api"
    users, tokens, slugs = [], [], []
    for u in range(20):
        name = f"user{u}"
        reply = call("POST", api + "/users",
                     {"user": {"username": name, "email": f"{name}@bench.io", "password": "password"}})
        users.append(name)
        tokens.append(reply["user"]["token"])
    for a in range(50):
        token = tokens[a % len(tokens)]
        article = {"title": f"Article {a} of {tenant}", "description": "A benchmark article",
                   "body": "Lorem ipsum " * 40, "tagList": [tags[a % 8], tags[(a * 3) % 8]]}
        slug = call("POST", api + "/articles", {"article": article}, token)["article"]["slug"]
        slugs.append(slug)
        for c in range(3):
            call("POST", f"{api}/articles/{slug}/comments",
                 {"comment": {"body": f"Comment {c}"}}, tokens[(a + c + 1) % len(tokens)])
        call("POST", f"{api}/articles/{slug}/favorite", None, tokens[(a + 2) % len(tokens)])
    for u in range(20):
        for f in range(1, 4):
            call("POST", f"{api}/profiles/{users[(u + f) % 20]}/follow", None, tokens[u])
    tenants.append({"api": api, "users": users, "tokens": tokens, "slugs": slugs})


def lua(value):
    if isinstance(value, list):
        return "{" + ",".join(lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}={lua(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


print("return " + lua(tenants))
