//! The guide: chapters on using the library, from a first model to deploying against Atlas. Every code
//! block is a doctest; those that need a server run against `MONGODB_URI` in the test suite.

#[doc = include_str!("../../docs/getting-started.md")]
pub mod getting_started {}

#[doc = include_str!("../../docs/connections.md")]
pub mod connections {}

#[doc = include_str!("../../docs/errors.md")]
pub mod errors {}

#[doc = include_str!("../../docs/deploying.md")]
pub mod deploying {}
