//! Lifecycle hooks (`#[model(hooks)]`): code of the model's own that runs around its writes.

/// The object-safe form of a model's hooks, which the library calls. Models without `#[model(hooks)]` have
/// none, and pay nothing.
pub trait DynHooks<T>: Send + Sync {}
