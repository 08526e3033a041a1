"""Turns the raw results of bench/compare into one Markdown report.

    python3 bench/report.py TARGET/criterion WORKDIR

WORKDIR holds bind_memory.jsonl, crud.jsonl and mongoose.json; criterion's estimates are read from
TARGET/criterion/<group>/<bench>/new/estimates.json (median point estimate, in ns).
"""

import datetime
import json
import os
import platform
import subprocess
import sys


def criterion(root, group, bench):
    path = os.path.join(root, group, bench, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def command(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ns(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.1f} ns"


def size(v):
    if v is None:
        return "—"
    if v >= 1024:
        return f"{v / 1024:.1f} KiB"
    return f"{v:.0f} B"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return f"{r:.2f}x" if r < 10 else f"{r:,.0f}x"


def verdict(ok):
    return "yes" if ok else "**no**"


def main():
    crit, work = sys.argv[1], sys.argv[2]
    memory = jsonl(os.path.join(work, "bind_memory.jsonl"))
    crud = {r["op"]: r for r in jsonl(os.path.join(work, "crud.jsonl"))}
    with open(os.path.join(work, "mongoose.json")) as f:
        mg = json.load(f)
    mg_mem = {r["n"]: r for r in mg["bind_memory"]}
    mg_crud = {r["op"]: r for r in mg["crud"]}
    doc = mg["document"]

    new_tenant = criterion(crit, "bind", "new_tenant")
    cached = criterion(crit, "bind", "cached")
    model_only = criterion(crit, "bind", "model_only")
    raw_bind = criterion(crit, "bind", "raw_driver")
    encode = criterion(crit, "document", "odm_build_validate_encode")
    raw_encode = criterion(crit, "document", "raw_build_encode")
    validate = criterion(crit, "document", "validate_only")
    decode = criterion(crit, "document", "odm_decode")
    raw_decode = criterion(crit, "document", "raw_decode")

    lines = []
    out = lines.append
    today = datetime.datetime.now(datetime.timezone.utc)
    out(f"# Benchmarks, {today:%Y-%m-%d}")
    out("")
    out(
        f"Machine: {cpu()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}. "
        f"{command('rustc', '-V')}; Node {mg['node']}, Mongoose {mg['mongoose']}. "
        f"Server: {os.environ.get('BENCH_SERVER') or 'version ' + str(mg.get('server', '?'))} at "
        f"`{os.environ.get('MONGODB_URI', '?')}`, on the same machine. Produced by `bench/compare` on "
        f"{today:%Y-%m-%d %H:%M} UTC."
    )
    out("")
    out(
        "Times are medians. Ours and the raw driver come from one process (criterion for binding and "
        "documents; CRUD runs the two sides interleaved, round after round, and the ratio is the median of "
        "the per-round ratios); Mongoose runs next, on the same server. Lower is better; "
        "\"Mongoose / ours\" above 1 means ours is faster."
    )
    out("")
    out("| Measure | Ours (odm) | Raw driver / `bson` | Mongoose | Ours / raw | Mongoose / ours | Target | Met |")
    out("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")

    def row(name, ours, raw, mongoose, target, ok, fmt=ns):
        out(
            f"| {name} | {fmt(ours)} | {fmt(raw)} | {fmt(mongoose)} | {ratio(ours, raw)} | "
            f"{ratio(mongoose, ours)} | {target} | {ok} |"
        )

    mg_new = mg["bind"]["new_tenant_ns"]
    row(
        "Bind a model to a new tenant (`use_db(t)?.model()`)",
        new_tenant,
        None,
        mg_new,
        "≤ 250 ns, ≥ 400x Mongoose",
        verdict(new_tenant <= 250 and mg_new / new_tenant >= 400),
    )
    row(
        "Bind again, cached tenant (bind + drop of the handle)",
        cached,
        raw_bind,
        mg["bind"]["cached_ns"],
        "≤ 50 ns",
        verdict(cached <= 50),
    )
    row("`model()` on a held connection", model_only, None, None, "", "")
    for key, label in [("bind_ns_per_tenant", "Bind time"), ("rebind_ns_per_tenant", "Bind again")]:
        for n in sorted(r["n"] for r in memory):
            ours = next(r for r in memory if r["n"] == n)
            row(
                f"{label} per tenant, {n:,} tenants in a row",
                ours[key],
                None,
                mg_mem.get(n, {}).get(key),
                "",
                "",
            )
    for n in sorted(r["n"] for r in memory):
        ours = next(r for r in memory if r["n"] == n)
        theirs = mg_mem.get(n, {})
        row(
            f"Resident memory per bound tenant, {n:,} tenants (handles kept)",
            ours["rss_bytes_per_tenant"],
            None,
            theirs.get("rss_bytes_per_tenant"),
            "< 150 B",
            verdict(ours["rss_bytes_per_tenant"] < 150),
            fmt=size,
        )
        row(
            f"Heap per bound tenant, {n:,} tenants (ours: allocator count + handle; Mongoose: heapUsed)",
            ours["heap_plus_handle_bytes_per_tenant"],
            None,
            theirs.get("heap_bytes_per_tenant"),
            "",
            "",
            fmt=size,
        )
    mg_encode = doc["build_validate_encode_ns"]
    row(
        "Build + validate + encode one `User`",
        encode,
        raw_encode,
        mg_encode,
        "≤ 1.5x raw, ≥ 30x Mongoose",
        verdict(encode / raw_encode <= 1.5 and mg_encode / encode >= 30),
    )
    row("Validate only (all rules)", validate, None, None, "", "")
    row(
        "Decode one stored `User` (bytes to model; Mongoose: `BSON.deserialize` + `hydrate`)",
        decode,
        raw_decode,
        doc["deserialize_hydrate_ns"],
        "",
        "",
    )
    row(
        "Decode, against `Model.hydrate` of an already parsed object",
        decode,
        raw_decode,
        doc["hydrate_ns"],
        "≥ 10x `hydrate`",
        verdict(doc["hydrate_ns"] / decode >= 10),
    )
    for op in [
        "insert_one",
        "insert_one_raw_vs_raw",
        "insert_many_1000",
        "find_by_id",
        "find_100_filter_sort",
        "update_one",
        "find_one_and_update",
        "bulk_write_100",
        "delete_one",
    ]:
        r = crud.get(op)
        if r is None:
            continue
        m = mg_crud.get(op, {}).get("mongoose_us")
        paired = r["odm_over_raw"]
        if op.endswith("_raw_vs_raw"):
            out(
                f"| Noise floor: `insert_one`, raw driver on both sides | {ns(r['odm_us'] * 1e3)} | "
                f"{ns(r['raw_us'] * 1e3)} | — | {paired:.3f}x | — | ~1.00x | |"
            )
            continue
        out(
            f"| CRUD `{op}` | {ns(r['odm_us'] * 1e3)} | {ns(r['raw_us'] * 1e3)} | "
            f"{ns(m * 1e3) if m is not None else '—'} | {paired:.3f}x | "
            f"{ratio(m, r['odm_us'])} | ≤ 1.05x raw | {verdict(paired <= 1.05)} |"
        )
    out("")
    out(
        "The ODM decodes with the decoder the derive generates (raw BSON to the struct, no serde); the raw "
        "column is serde's `bson::from_slice`. Mongoose's build + validate + encode is `new Model(obj)`, `initializeTimestamps()`, "
        f"`await validate()`, `BSON.serialize(doc.toBSON())`; without the serialization it takes "
        f"{ns(doc['build_validate_to_bson_ns'])}, and `BSON.serialize` of the plain object alone "
        f"{ns(doc['raw_bson_encode_ns'])}. The per-N bind times come from the memory program, whose "
        "global allocator counts every allocation (a few ns per bind), and walk names far beyond the CPU's "
        "caches at 100,000."
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
