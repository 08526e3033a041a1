//! Runnable programs that show the ODM at work. Run them with `cargo run -p odm-examples --example NAME`
//! (through `scripts/test-server run -- ...` to get a local server).

pub mod conduit;
