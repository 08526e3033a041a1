//! Serde helpers that write BSON values the way a JSON API spells them: an [`ObjectId`] as its 24-digit
//! hex string and a BSON [`DateTime`] as an RFC 3339 string in UTC with milliseconds
//! (`2024-05-01T09:30:00.000Z`), instead of the extended JSON (`{"$oid": ..}`, `{"$date": ..}`) that
//! serde would write for them.
//!
//! Use them on the fields of response types with `#[serde(serialize_with = "...")]`:
//!
//! ```
//! use odm_core::bson::{oid::ObjectId, DateTime};
//! use odm_examples::conduit::json;
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct Out {
//!     #[serde(serialize_with = "json::object_id_hex")]
//!     id: ObjectId,
//!     #[serde(rename = "createdAt", serialize_with = "json::rfc3339")]
//!     created_at: DateTime,
//! }
//!
//! let id = ObjectId::parse_str("65f1c2a4b7e4a1d2c3b4a5f6").unwrap();
//! let out = Out { id, created_at: DateTime::from_millis(1_714_555_800_250) };
//! assert_eq!(
//!     serde_json::to_string(&out).unwrap(),
//!     r#"{"id":"65f1c2a4b7e4a1d2c3b4a5f6","createdAt":"2024-05-01T09:30:00.250Z"}"#
//! );
//! ```

use odm_core::bson::{oid::ObjectId, DateTime};
use serde::Serializer;

/// Writes an [`ObjectId`] as its hex string.
pub fn object_id_hex<S: Serializer>(id: &ObjectId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_hex())
}

/// Writes a BSON [`DateTime`] as RFC 3339 in UTC with milliseconds.
pub fn rfc3339<S: Serializer>(at: &DateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_rfc3339(*at))
}

/// Writes an optional BSON [`DateTime`] as RFC 3339 in UTC with milliseconds, or `null`.
pub fn rfc3339_option<S: Serializer>(at: &Option<DateTime>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, s),
        None => s.serialize_none(),
    }
}

/// Formats a BSON [`DateTime`] as RFC 3339 in UTC with milliseconds, for any date from year 0 to 9999;
/// outside that range the year is written as it is (RFC 3339 has no words for it).
pub fn format_rfc3339(at: DateTime) -> String {
    let millis = at.timestamp_millis();
    let days = millis.div_euclid(86_400_000);
    let in_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, ms) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_across_eras_and_leap_days() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (253_402_300_799_000, "9999-12-31T23:59:59.000Z"),
        ];
        for (millis, text) in cases {
            assert_eq!(
                format_rfc3339(DateTime::from_millis(millis)),
                text,
                "{millis}"
            );
        }
    }

    #[test]
    fn agrees_with_bson_own_formatting_on_whole_seconds() {
        // bson drops the fraction when it is zero; ours always writes milliseconds.
        let at = DateTime::from_millis(1_714_555_800_000);
        let theirs = at.try_to_rfc3339_string().unwrap();
        assert_eq!(theirs, "2024-05-01T09:30:00Z");
        assert_eq!(format_rfc3339(at), "2024-05-01T09:30:00.000Z");
    }
}
