//! [`Settings`]: the read preference, read and write concerns, collation, server time limit and index
//! hint a command carries. A model declares defaults with `#[model(read = .., write_concern(..), ..)]`;
//! an operation's builder overrides them one by one (`.collation(..)`, `.max_time(..)`, ..). The
//! pipeline applies the merged settings to every command it sends, so an operation cannot forget them.
//!
//! In a session the read preference and the read and write concerns are left out: inside a transaction
//! MongoDB refuses them per command (the transaction's own apply), and whether a session is in one is
//! the driver's to know. Collation, `max_time` and `hint` still apply.

use std::time::Duration;

pub use mongodb::options::{
    Acknowledgment, Collation, CollationStrength, Hint, ReadConcern, ReadPreference, WriteConcern,
};

/// What a command carries besides its filter and documents: where it reads, how durable its reads and
/// writes are, how strings compare, how long the server may work on it and which index it uses. Each
/// is the driver's own type; unset ones are left to the collection's (the client's) defaults.
///
/// A model's defaults come from `#[model(...)]` ([`Schema::settings`](crate::schema::Schema::settings));
/// an operation's builder methods of the same names override them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Settings {
    /// Where reads go (`read` in Mongoose).
    pub read_preference: Option<ReadPreference>,
    /// The read concern of reads.
    pub read_concern: Option<ReadConcern>,
    /// The write concern of writes.
    pub write_concern: Option<WriteConcern>,
    /// How strings compare in filters, sorts and unique checks.
    pub collation: Option<Collation>,
    /// How long the server may work on a command (`maxTimeMS`) before failing it.
    pub max_time: Option<Duration>,
    /// The index a command uses.
    pub hint: Option<Hint>,
}

impl Settings {
    /// No settings: every command takes the collection's defaults.
    pub fn new() -> Self {
        Settings::default()
    }

    /// Sets the read preference.
    pub fn read_preference(mut self, read: ReadPreference) -> Self {
        self.read_preference = Some(read);
        self
    }

    /// Sets the read concern.
    pub fn read_concern(mut self, concern: ReadConcern) -> Self {
        self.read_concern = Some(concern);
        self
    }

    /// Sets the write concern.
    pub fn write_concern(mut self, concern: WriteConcern) -> Self {
        self.write_concern = Some(concern);
        self
    }

    /// Sets the collation.
    pub fn collation(mut self, collation: Collation) -> Self {
        self.collation = Some(collation);
        self
    }

    /// Sets the server's time limit.
    pub fn max_time(mut self, max_time: Duration) -> Self {
        self.max_time = Some(max_time);
        self
    }

    /// Sets the index hint.
    pub fn hint(mut self, hint: Hint) -> Self {
        self.hint = Some(hint);
        self
    }

    /// The defaults a model declares (none when it declares none).
    pub(crate) fn of(schema: &crate::schema::Schema) -> Settings {
        schema
            .settings
            .map_or_else(Settings::default, |defaults| defaults().clone())
    }

    /// These settings, with `defaults` where they have none.
    pub(crate) fn or(mut self, defaults: &Settings) -> Settings {
        macro_rules! fill {
            ($($f:ident),*) => {$(
                if self.$f.is_none() {
                    self.$f.clone_from(&defaults.$f);
                }
            )*};
        }
        fill!(
            read_preference,
            read_concern,
            write_concern,
            collation,
            max_time,
            hint
        );
        self
    }

    /// Leaves out what a command in a session may not carry on its own: the read preference and the
    /// read and write concerns (a transaction's apply).
    pub(crate) fn in_session(mut self) -> Settings {
        self.read_preference = None;
        self.read_concern = None;
        self.write_concern = None;
        self
    }

    pub(crate) fn selection_criteria(&self) -> Option<mongodb::options::SelectionCriteria> {
        self.read_preference
            .clone()
            .map(mongodb::options::SelectionCriteria::ReadPreference)
    }
}

/// Adds the named settings methods to a builder, each overriding the model's default of the same name
/// for this operation. `settings_methods!(settings: hint, ..)` sets them in the builder's `settings:
/// Settings` field; `settings_methods!(options: hint, ..)` in its driver options, whose fields have the
/// same names (the pipeline fills in the model's defaults under them); `common.settings:` in a
/// nested field.
macro_rules! settings_methods {
    ($($t:ident).+ : $($name:ident),* $(,)?) => {
        crate::ops::settings::settings_methods!(@each [$($t).+] $($name)*);
    };
    (@each $t:tt $name:ident $($rest:ident)*) => {
        crate::ops::settings::settings_methods!(@ $t $name);
        crate::ops::settings::settings_methods!(@each $t $($rest)*);
    };
    (@each $t:tt) => {};
    (@[settings] read_preference) => {
        /// Where this operation reads, overriding the model's `read`. Left out in a session (see
        /// [`Settings`](crate::Settings)).
        pub fn read_preference(mut self, read: crate::ReadPreference) -> Self {
            self.settings.read_preference = Some(read);
            self
        }
    };
    (@[common.settings] read_preference) => {
        /// Where this operation reads, overriding the model's `read`. Left out in a session (see
        /// [`Settings`](crate::Settings)).
        pub fn read_preference(mut self, read: crate::ReadPreference) -> Self {
            self.common.settings.read_preference = Some(read);
            self
        }
    };
    (@[options] read_preference) => {
        /// Where this operation reads, overriding the model's `read`. Left out in a session (see
        /// [`Settings`](crate::Settings)).
        pub fn read_preference(mut self, read: crate::ReadPreference) -> Self {
            self.options.selection_criteria =
                Some(mongodb::options::SelectionCriteria::ReadPreference(read));
            self
        }
    };
    (@[$($t:ident).+] read_concern) => {
        /// The read concern of this operation, overriding the model's `read_concern`. Left out in a
        /// session (see [`Settings`](crate::Settings)).
        pub fn read_concern(mut self, concern: crate::ReadConcern) -> Self {
            self.$($t).+.read_concern = Some(concern);
            self
        }
    };
    (@[$($t:ident).+] write_concern) => {
        /// The write concern of this operation, overriding the model's `write_concern`. Left out in a
        /// session (see [`Settings`](crate::Settings)).
        pub fn write_concern(mut self, concern: crate::WriteConcern) -> Self {
            self.$($t).+.write_concern = Some(concern);
            self
        }
    };
    (@[$($t:ident).+] collation) => {
        /// How strings compare in this operation's filter and sort, overriding the model's `collation`.
        pub fn collation(mut self, collation: crate::Collation) -> Self {
            self.$($t).+.collation = Some(collation);
            self
        }
    };
    (@[$($t:ident).+] max_time) => {
        /// How long the server may work on this operation (`maxTimeMS`) before failing it, overriding
        /// the model's `max_time`. The connection's `operation_timeout` still bounds it on the client.
        pub fn max_time(mut self, max_time: std::time::Duration) -> Self {
            self.$($t).+.max_time = Some(max_time);
            self
        }
    };
    (@[$($t:ident).+] hint) => {
        /// The index this operation uses, by name (`Hint::Name`) or by keys (`Hint::Keys`); the server
        /// fails the operation when there is no such index.
        pub fn hint(mut self, hint: crate::Hint) -> Self {
            self.$($t).+.hint = Some(hint);
            self
        }
    };
}
pub(crate) use settings_methods;
