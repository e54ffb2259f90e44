//! Timestamps and age arithmetic.
//!
//! Every age in keywarden is an exact duration between two instants: a threshold of N days
//! fails when `now - t > N * 24h`. Nothing here reads the clock; `now` is always an argument.
//!
//! The credential report writes every date as `YYYY-MM-DDTHH:MM:SS+00:00`. Parsing that exact
//! shape by hand is the hot path of a large audit (ten date columns per row), so it has a fast
//! path; anything else that is valid RFC 3339 goes through chrono.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// An instant in UTC.
pub type Timestamp = DateTime<Utc>;

/// The length of a threshold of `days` days: exactly `days * 24h`, no calendar arithmetic.
pub fn days(days: u32) -> Duration {
    Duration::seconds(i64::from(days) * 86_400)
}

/// True when `t` lies more than `limit` before `now` (`now - t > limit`).
/// An instant exactly `limit` old does not exceed it.
pub fn older_than(now: Timestamp, t: Timestamp, limit: Duration) -> bool {
    now.signed_duration_since(t) > limit
}

/// The whole days `t` is old at `now` when that is more than `limit_days` days (exactly, as
/// [`older_than`]); `None` when it is not. What every age rule asks: past the limit, and by how
/// much to say.
pub fn days_past_limit(now: Timestamp, t: Timestamp, limit_days: u32) -> Option<i64> {
    older_than(now, t, days(limit_days)).then(|| whole_days(age(now, t)))
}

/// The age of `t` at `now`; negative when `t` is in the future.
pub fn age(now: Timestamp, t: Timestamp) -> Duration {
    now.signed_duration_since(t)
}

/// Whole days in a duration, rounded down, for messages ("unused for 93 days").
pub fn whole_days(d: Duration) -> i64 {
    d.num_seconds().div_euclid(86_400)
}

/// Parses an ISO 8601 / RFC 3339 timestamp as AWS writes it.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    parse_fast(s.as_bytes()).or_else(|| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The forms [`parse_instant`] accepts, for error messages.
pub const INSTANT_FORMS: &str =
    "an RFC 3339 time such as 2024-05-01T12:00:00Z, or a date such as 2024-05-01 (UTC midnight)";

/// An instant a person typed (a command-line flag): an RFC 3339 time, or a plain date read as
/// its UTC midnight, as the config file reads dates.
pub fn parse_instant(s: &str) -> Option<Timestamp> {
    parse_timestamp(s).or_else(|| {
        // Exactly YYYY-MM-DD: chrono alone would also take `2024-5-1`.
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
    })
}

/// The credential report's own shapes (`YYYY-MM-DDTHH:MM:SS+00:00` or `...Z`) straight from
/// bytes, without UTF-8 validation; `None` for anything else, which [`parse_timestamp`] may
/// still accept. Whatever this accepts, `parse_timestamp` accepts with the same result.
#[inline]
pub fn parse_timestamp_bytes(b: &[u8]) -> Option<Timestamp> {
    parse_fast(b)
}

/// Formats an instant the way AWS does in reports: `2022-08-01T13:51:50+00:00`.
pub fn format_timestamp(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// `YYYY-MM-DDTHH:MM:SS` followed by `+00:00` or `Z`, the only shapes a credential report uses.
fn parse_fast(b: &[u8]) -> Option<Timestamp> {
    let utc_suffix = match b.len() {
        25 => &b[19..] == b"+00:00",
        20 => b[19] == b'Z',
        _ => false,
    };
    if !utc_suffix
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let time = date.and_hms_opt(hour, minute, second)?;
    Some(time.and_utc())
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s).unwrap()
    }

    #[test]
    fn an_instant_is_an_rfc3339_time_or_a_plain_date_at_utc_midnight() {
        assert_eq!(
            parse_instant("2024-05-01"),
            Some(ts("2024-05-01T00:00:00Z"))
        );
        assert_eq!(
            parse_instant("2024-05-01T12:30:00+02:00"),
            Some(ts("2024-05-01T10:30:00Z"))
        );
        for bad in [
            "2024-5-1",
            "2024-02-30",
            "2024-05-01 ",
            "01/05/2024",
            "",
            "2024-05",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn exactly_n_days_is_not_older() {
        let now = ts("2024-03-10T12:00:00+00:00");
        assert!(!older_than(now, ts("2024-01-25T12:00:00+00:00"), days(45)));
        assert!(older_than(now, ts("2024-01-25T11:59:59+00:00"), days(45)));
    }

    #[test]
    fn days_past_limit_is_none_at_the_limit_and_whole_days_after() {
        let now = ts("2024-03-10T12:00:00+00:00");
        assert_eq!(
            days_past_limit(now, ts("2024-01-25T12:00:00+00:00"), 45),
            None
        );
        assert_eq!(
            days_past_limit(now, ts("2024-01-25T11:59:59+00:00"), 45),
            Some(45)
        );
        assert_eq!(
            days_past_limit(now, ts("2023-03-10T12:00:00+00:00"), 45),
            Some(366)
        );
        assert_eq!(
            days_past_limit(now, ts("2025-01-01T00:00:00+00:00"), 0),
            None
        );
    }

    #[test]
    fn a_dst_or_leap_day_does_not_change_the_length_of_a_day() {
        // 2024-02-29 lies inside the window: 30 days are still 30 * 24h.
        let now = ts("2024-03-15T00:00:00Z");
        assert_eq!(age(now, ts("2024-02-14T00:00:00Z")), days(30));
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            "N/A",
            "2024-13-01T00:00:00+00:00",
            "2024-02-30T00:00:00+00:00",
            "yesterday",
            "2024-01-01T25:00:00+00:00",
            "2024-01-01 00:00:00",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn accepts_other_offsets_and_fractions() {
        assert_eq!(
            ts("2024-01-01T02:00:00+02:00"),
            ts("2024-01-01T00:00:00+00:00")
        );
        assert_eq!(
            ts("2024-01-01T00:00:00.5Z").timestamp(),
            ts("2024-01-01T00:00:00Z").timestamp()
        );
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_chrono(secs in 0i64..4_102_444_800) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let text = format_timestamp(t);
            prop_assert_eq!(parse_fast(text.as_bytes()), Some(t));
            let chrono = DateTime::parse_from_rfc3339(&text).unwrap().with_timezone(&Utc);
            prop_assert_eq!(parse_timestamp(&text), Some(chrono));
        }

        #[test]
        fn threshold_boundary_is_exact(secs in 0i64..4_102_444_800, n in 0u32..10_000, skew in 1i64..86_400) {
            let now = DateTime::from_timestamp(secs, 0).unwrap();
            let boundary = now - days(n);
            prop_assert!(!older_than(now, boundary, days(n)));
            prop_assert!(older_than(now, boundary - Duration::seconds(skew), days(n)));
            prop_assert!(!older_than(now, boundary + Duration::seconds(skew), days(n)));
        }

        #[test]
        fn whole_days_rounds_down(secs in 0i64..1_000_000_000) {
            let d = Duration::seconds(secs);
            let w = whole_days(d);
            prop_assert!(w * 86_400 <= secs && secs < (w + 1) * 86_400);
        }
    }
}
