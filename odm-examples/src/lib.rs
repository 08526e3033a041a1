//! Runnable programs that show the ODM at work. Run them with `cargo run -p odm-examples --example NAME`
//! (through `scripts/test-server run -- ...` to get a local server), and the binaries with `--bin NAME`:
//! `tenant-admin`, and `conduit`, the RealWorld example API served per tenant ([`conduit`], whose docs
//! are the guide's chapter on web services).

pub mod conduit;
