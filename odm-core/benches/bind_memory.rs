//! Memory and time of binding one model to N distinct tenants, N = 1,000, 10,000 and 100,000, with every
//! handle kept alive: heap bytes counted by a global allocator, and resident memory from `/proc/self/statm`.
//!
//! Each N runs in a fresh process (the program runs itself), so one N's freed memory cannot hide the next
//! one's growth. Prints one JSON object per N. `BIND_MEMORY_N=1000` runs one N in this process.

mod common;

use std::alloc::System;
use std::time::Instant;

use common::{offline_connection, tenant_name, User};
use odm_core::ModelHandle;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const COUNTS: [usize; 3] = [1_000, 10_000, 100_000];

/// Resident memory in bytes (the second field of `/proc/self/statm`, in pages).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages in statm");
    pages * page_size()
}

fn page_size() -> usize {
    // The kernel reports its page size in smaps; 4 KiB everywhere this runs.
    std::fs::read_to_string("/proc/self/smaps")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("KernelPageSize:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        })
        .map_or(4096, |kb| kb * 1024)
}

fn run(n: usize) {
    let (rt, conn) = offline_connection();
    let _guard = rt.enter();

    // Room for every handle is reserved up front; its pages become resident only as handles are stored.
    let mut handles: Vec<ModelHandle<User>> = Vec::with_capacity(n);
    let mut buf = String::with_capacity(32);
    // Warm the allocator and the name cache's code paths with a tenant outside the measured range.
    drop(conn.use_db("warmup").expect("valid name").model::<User>());

    let rss_before = resident_bytes();
    let region = Region::new(GLOBAL);
    let start = Instant::now();
    for i in 0..n {
        let name = tenant_name(&mut buf, i);
        handles.push(conn.use_db(name).expect("valid name").model::<User>());
    }
    let bind_ns = start.elapsed().as_nanos() as f64 / n as f64;
    let stats = region.change();
    let rss_after = resident_bytes();
    let heap = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64
        + stats.bytes_reallocated as f64;
    let slot = std::mem::size_of::<ModelHandle<User>>();

    // Every tenant again, in order: the cached bind when the cache is far larger than the CPU's.
    let start = Instant::now();
    for i in 0..n {
        let name = tenant_name(&mut buf, i);
        std::hint::black_box(conn.use_db(name).expect("valid name").model::<User>());
    }
    let rebind_ns = start.elapsed().as_nanos() as f64 / n as f64;

    println!(
        "{{\"n\": {n}, \"bind_ns_per_tenant\": {bind_ns:.1}, \"rebind_ns_per_tenant\": {rebind_ns:.1}, \
         \"heap_bytes_per_tenant\": {:.1}, \"handle_bytes\": {slot}, \"heap_plus_handle_bytes_per_tenant\": {:.1}, \
         \"rss_bytes_per_tenant\": {:.1}, \"allocations_per_tenant\": {:.2}}}",
        heap / n as f64,
        heap / n as f64 + slot as f64,
        (rss_after.saturating_sub(rss_before)) as f64 / n as f64,
        stats.allocations as f64 / n as f64,
    );
    drop(handles);
}

fn main() {
    if let Some(n) = std::env::var("BIND_MEMORY_N")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        run(n);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    for n in COUNTS {
        let status = std::process::Command::new(&exe)
            .env("BIND_MEMORY_N", n.to_string())
            .status()
            .expect("run self");
        assert!(status.success(), "the run for N = {n} failed");
    }
}
