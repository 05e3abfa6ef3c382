//! UTC instants with millisecond precision, written and read in the forms UWS and DALI use.
//!
//! UWS wants every instant in UTC with `T` and `Z` (AS-05) and taplint compares `/destruction`
//! with the job document character by character, so there is exactly one output form. Input
//! comes from clients (`DESTRUCTION=`, `AFTER=`) in any DALI form (REQ-07). A millisecond count
//! is all the server stores, so no calendar library is needed: the two conversions between days
//! and civil dates below are the whole calendar.

use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds in a day; days have no leap seconds in UTC-as-POSIX time.
const DAY_MS: i64 = 86_400_000;

/// 9999-12-31T23:59:59Z in seconds: the latest instant every platform's `SystemTime` holds.
const LAST_SECOND_OF_9999: u64 = 253_402_300_799;

/// An instant in UTC, as milliseconds since 1970-01-01T00:00:00Z (negative before it).
///
/// Plain milliseconds order and compare correctly, fit PostgreSQL's `timestamptz` precision
/// closely enough for UWS (which shows milliseconds), and make `Copy` cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime(i64);

impl UtcTime {
    /// The instant `ms` milliseconds after the Unix epoch; the form the database stores.
    pub fn from_unix_millis(ms: i64) -> UtcTime {
        UtcTime(ms)
    }

    /// Milliseconds since the Unix epoch, for storing.
    pub fn unix_millis(self) -> i64 {
        self.0
    }

    /// Converts from the clock's type, also before the epoch; sub-millisecond parts are
    /// rounded down (towards the past) so that ordering is kept.
    pub fn from_system(t: SystemTime) -> UtcTime {
        match t.duration_since(UNIX_EPOCH) {
            Ok(after) => UtcTime(i64::try_from(after.as_millis()).unwrap_or(i64::MAX)),
            Err(before) => {
                let d = before.duration();
                let partial = u128::from(d.subsec_nanos() % 1_000_000 != 0);
                let ms = i64::try_from(d.as_millis() + partial).unwrap_or(i64::MAX);
                UtcTime(-ms)
            }
        }
    }

    /// Converts to the clock's type, for timers and file times. An instant the platform cannot
    /// represent becomes 9999-12-31T23:59:59Z (future) or the epoch (past) instead of panicking;
    /// on Linux every value fits.
    pub fn to_system(self) -> SystemTime {
        let magnitude = Duration::from_millis(self.0.unsigned_abs());
        let exact = if self.0 >= 0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        };
        match exact {
            Some(t) => t,
            None if self.0 > 0 => UNIX_EPOCH
                .checked_add(Duration::from_secs(LAST_SECOND_OF_9999))
                .unwrap_or(UNIX_EPOCH),
            None => UNIX_EPOCH,
        }
    }

    /// The current instant, from the system clock.
    pub fn now() -> UtcTime {
        UtcTime::from_system(SystemTime::now())
    }

    /// The instant `s` seconds later, saturating at the end of the range instead of overflowing,
    /// because durations come from configuration and requests.
    pub fn plus_secs(self, s: u64) -> UtcTime {
        let ms = i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000);
        UtcTime(self.0.saturating_add(ms))
    }

    /// AS-05: always `YYYY-MM-DDThh:mm:ss.sssZ` (exactly 3 fractional digits), e.g.
    /// `2024-03-05T10:05:58.120Z`. One fixed form lets clients compare strings (taplint does).
    /// Years outside 0000-9999 get a sign or more digits, as xs:dateTime allows.
    pub fn to_iso(self) -> String {
        let mut out = String::with_capacity(24);
        self.write_iso(&mut out);
        out
    }

    /// [`UtcTime::to_iso`] appended to `out`, for document writers that build one buffer.
    pub fn write_iso(self, out: &mut String) {
        let days = self.0.div_euclid(DAY_MS);
        let in_day = self.0.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        if year < 0 {
            out.push('-');
        }
        let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
        let (min, rest) = (rest / 60_000, rest % 60_000);
        let (sec, ms) = (rest / 1000, rest % 1000);
        // Writing into a String cannot fail.
        let _ = write!(
            out,
            "{:04}-{month:02}-{day:02}T{h:02}:{min:02}:{sec:02}.{ms:03}Z",
            year.unsigned_abs()
        );
    }

    /// Reads a DALI timestamp (REQ-07): `YYYY-MM-DD`, `YYYY-MM-DDThh:mm` or
    /// `YYYY-MM-DDThh:mm:ss`, with an optional fraction of any number of digits after the
    /// seconds (cut to milliseconds), then an optional `Z` or offset `+hh:mm` / `-hh:mm`. No zone
    /// means UTC, as DALI says. A space may stand for the `T` (the form PostgreSQL and ESA's
    /// examples use), and surrounding whitespace is ignored.
    ///
    /// Years are 0000-9999; months, days (leap years included), hours 0-23, minutes and seconds
    /// 0-59 are checked, so `2023-02-29` or `24:00` is an error rather than a silently moved
    /// instant. Leap seconds (`:60`) are refused because the millisecond count cannot hold them.
    pub fn parse_iso(s: &str) -> Result<UtcTime, TimeError> {
        parse(s.trim().as_bytes()).map_err(|problem| TimeError {
            input: crate::excerpt(s),
            problem,
        })
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(24);
        self.write_iso(&mut s);
        f.write_str(&s)
    }
}

/// A timestamp that could not be read, with the input quoted so the client sees what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp \"{input}\": {problem}")]
pub struct TimeError {
    /// The text given (shortened when long).
    pub input: String,
    /// What is wrong with it.
    pub problem: TimeProblem,
}

/// The reason a timestamp was refused, separate from the input so other errors can reuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeProblem {
    /// Nothing (or only whitespace) was given.
    #[error("it is empty (expected YYYY-MM-DD['T'hh:mm[:ss[.fff]]][Z])")]
    Empty,
    /// The text does not have the shape of a timestamp; the text says what was expected.
    #[error("{0}")]
    Syntax(&'static str),
    /// The month is not 1-12.
    #[error("month {0:02} is not between 01 and 12")]
    Month(u32),
    /// The day does not exist in that month of that year.
    #[error("day {day:02} does not exist in {year:04}-{month:02}")]
    Day {
        /// The year given.
        year: u32,
        /// The month given.
        month: u32,
        /// The day given.
        day: u32,
    },
    /// The hour is not 0-23.
    #[error("hour {0:02} is not between 00 and 23")]
    Hour(u32),
    /// The minute is not 0-59.
    #[error("minute {0:02} is not between 00 and 59")]
    Minute(u32),
    /// The second is not 0-59.
    #[error("second {0:02} is not between 00 and 59")]
    Second(u32),
    /// The UTC offset's hours or minutes are out of range.
    #[error("the UTC offset {hours:02}:{minutes:02} is out of range")]
    Offset {
        /// The offset's hours.
        hours: u32,
        /// The offset's minutes.
        minutes: u32,
    },
}

/// Reads the bytes of a timestamp, left to right, without ever indexing past the end.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    /// Exactly `n` ASCII digits as a number, or `None` (consuming nothing) if they are not there.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let head = self.rest.get(..n)?;
        if !head.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.rest = &self.rest[n..];
        Some(head.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
    }

    /// Consumes the next byte if it is one of `options`, returning it.
    fn one_of(&mut self, options: &[u8]) -> Option<u8> {
        let (&first, tail) = self.rest.split_first()?;
        if !options.contains(&first) {
            return None;
        }
        self.rest = tail;
        Some(first)
    }

    /// Requires `n` digits, with `what` naming them in the error.
    fn need_digits(&mut self, n: usize, what: &'static str) -> Result<u32, TimeProblem> {
        self.digits(n).ok_or(TimeProblem::Syntax(what))
    }

    /// Requires the byte `b`, with `what` naming it in the error.
    fn need(&mut self, b: u8, what: &'static str) -> Result<(), TimeProblem> {
        self.one_of(&[b]).map(|_| ()).ok_or(TimeProblem::Syntax(what))
    }
}

/// The parser behind [`UtcTime::parse_iso`], on trimmed input.
fn parse(s: &[u8]) -> Result<UtcTime, TimeProblem> {
    if s.is_empty() {
        return Err(TimeProblem::Empty);
    }
    let mut c = Cursor { rest: s };
    let year = c.need_digits(4, "expected a four-digit year at the start")?;
    c.need(b'-', "expected '-' after the year")?;
    let month = c.need_digits(2, "expected a two-digit month after the year")?;
    c.need(b'-', "expected '-' after the month")?;
    let day = c.need_digits(2, "expected a two-digit day after the month")?;
    if !(1..=12).contains(&month) {
        return Err(TimeProblem::Month(month));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(TimeProblem::Day { year, month, day });
    }
    let date_ms = days_from_civil(i64::from(year), month, day) * DAY_MS;
    if c.rest.is_empty() {
        return Ok(UtcTime(date_ms));
    }
    c.one_of(b"Tt ")
        .ok_or(TimeProblem::Syntax("expected 'T' or a space after the date"))?;
    let hour = c.need_digits(2, "expected a two-digit hour after the date")?;
    c.need(b':', "expected ':' after the hour")?;
    let minute = c.need_digits(2, "expected two-digit minutes after the hour")?;
    let mut second = 0;
    let mut millis = 0;
    if c.one_of(b":").is_some() {
        second = c.need_digits(2, "expected two-digit seconds after the minutes")?;
        if c.one_of(b".").is_some() {
            millis = fraction_millis(&mut c)?;
        }
    }
    let offset_ms = zone_offset_ms(&mut c)?;
    if hour > 23 {
        return Err(TimeProblem::Hour(hour));
    }
    if minute > 59 {
        return Err(TimeProblem::Minute(minute));
    }
    if second > 59 {
        return Err(TimeProblem::Second(second));
    }
    let time_ms = ((i64::from(hour) * 60 + i64::from(minute)) * 60 + i64::from(second)) * 1000 + millis;
    Ok(UtcTime(date_ms + time_ms - offset_ms))
}

/// The digits after the decimal point as milliseconds: the first three count, the rest are cut.
fn fraction_millis(c: &mut Cursor<'_>) -> Result<i64, TimeProblem> {
    let count = c.rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if count == 0 {
        return Err(TimeProblem::Syntax("expected digits after the decimal point"));
    }
    let (digits, rest) = c.rest.split_at(count);
    c.rest = rest;
    Ok(digits
        .iter()
        .chain([b'0'; 3].iter())
        .take(3)
        .fold(0, |acc, b| acc * 10 + i64::from(b - b'0')))
}

/// What follows the time: nothing or `Z` (UTC), or `±hh:mm`; returns the offset to subtract.
fn zone_offset_ms(c: &mut Cursor<'_>) -> Result<i64, TimeProblem> {
    let after_zone = "unexpected text after the time (expected the end, 'Z' or an offset like +01:00)";
    let sign = match c.one_of(b"Zz+-") {
        None if c.rest.is_empty() => return Ok(0),
        None => return Err(TimeProblem::Syntax(after_zone)),
        Some(b'+') => 1,
        Some(b'-') => -1,
        Some(_) => 0,
    };
    let mut offset = 0;
    if sign != 0 {
        let hours = c.need_digits(2, "expected a two-digit hour in the UTC offset")?;
        c.need(b':', "expected ':' in the UTC offset")?;
        let minutes = c.need_digits(2, "expected two-digit minutes in the UTC offset")?;
        if hours > 23 || minutes > 59 {
            return Err(TimeProblem::Offset { hours, minutes });
        }
        offset = sign * (i64::from(hours) * 60 + i64::from(minutes)) * 60_000;
    }
    if c.rest.is_empty() {
        Ok(offset)
    } else {
        Err(TimeProblem::Syntax(after_zone))
    }
}

/// Gregorian leap year rule.
fn is_leap(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1-12) of `year`.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date `year-month-day`.
///
/// The year is counted from March, so the leap day falls at the end of it and every month's start
/// is a linear formula; 400-year eras (146097 days each) make negative years work the same way.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468 days separate 0000-03-01, where era 0 starts, from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date `days` after 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small positive numbers by construction (1-12 and 1-31).
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(ms: i64) -> String {
        UtcTime::from_unix_millis(ms).to_iso()
    }

    fn parsed(s: &str) -> i64 {
        match UtcTime::parse_iso(s) {
            Ok(t) => t.unix_millis(),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(1_709_633_158_120), "2024-03-05T10:05:58.120Z");
        assert_eq!(iso(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(iso(-62_167_219_200_000), "0000-01-01T00:00:00.000Z");
        assert_eq!(iso(-62_167_219_200_001), "-0001-12-31T23:59:59.999Z");
        assert_eq!(iso(253_402_300_800_000), "10000-01-01T00:00:00.000Z");
        assert_eq!(
            UtcTime::from_unix_millis(5).to_string(),
            "1970-01-01T00:00:00.005Z"
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        for ms in [i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1] {
            let t = UtcTime::from_unix_millis(ms);
            assert!(t.to_iso().ends_with('Z'));
            let _ = t.to_system();
            assert_eq!(
                t.plus_secs(u64::MAX).unix_millis(),
                if ms < 0 { ms + i64::MAX } else { i64::MAX }
            );
        }
    }

    #[test]
    fn civil_days_round_trip() {
        let start = days_from_civil(-400, 1, 1);
        let end = days_from_civil(10_400, 12, 31);
        let mut previous = civil_from_days(start - 1);
        for days in start..=end {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let next_day = (y, m, d) == (previous.0, previous.1, previous.2 + 1);
            let next_month = d == 1 && (y, m) == (previous.0, previous.1 + 1);
            let next_year = (m, d) == (1, 1) && y == previous.0 + 1 && previous.1 == 12;
            assert!(
                next_day || next_month || next_year,
                "{previous:?} then {:?}",
                (y, m, d)
            );
            previous = (y, m, d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn iso_round_trips_from_year_0_to_9999() {
        let first = -62_167_219_200_000;
        let last = 253_402_300_799_999;
        // A stride that is not a whole number of seconds or days, so every field varies.
        let stride = 12_345_678_917;
        let mut ms = first;
        while ms <= last {
            let text = iso(ms);
            assert_eq!(text.len(), 24, "{text}");
            assert_eq!(parsed(&text), ms, "{text}");
            ms += stride;
        }
        for ms in [first, last, -1, 0, 1, 951_782_400_000 - 1, 951_782_400_000] {
            assert_eq!(parsed(&iso(ms)), ms);
        }
    }

    #[test]
    fn accepted_forms() {
        let base = 1_709_596_800_000; // 2024-03-05T00:00:00Z
        let at_10_05_58 = base + 36_358_000;
        let cases = [
            ("2024-03-05", base),
            ("  2024-03-05\n", base),
            ("2024-03-05T10:05", base + 36_300_000),
            ("2024-03-05T10:05Z", base + 36_300_000),
            ("2024-03-05T10:05:58", at_10_05_58),
            ("2024-03-05 10:05:58", at_10_05_58),
            ("2024-03-05T10:05:58Z", at_10_05_58),
            ("2024-03-05t10:05:58z", at_10_05_58),
            ("2024-03-05T10:05:58.1", at_10_05_58 + 100),
            ("2024-03-05T10:05:58.12Z", at_10_05_58 + 120),
            ("2024-03-05T10:05:58.120999999Z", at_10_05_58 + 120),
            ("2024-03-05T12:05:58+02:00", at_10_05_58),
            ("2024-03-05T10:05:58.5+00:00", at_10_05_58 + 500),
            ("2024-03-05T10:05:58-00:00", at_10_05_58),
            ("2024-03-04T23:35:58-10:30", at_10_05_58),
            ("2000-02-29T23:59:59.999", 951_868_799_999),
            ("1969-12-31T23:59:59.999Z", -1),
            ("0000-01-01T00:00:00+01:00", -62_167_219_200_000 - 3_600_000),
        ];
        for (input, ms) in cases {
            assert_eq!(parsed(input), ms, "{input:?}");
        }
    }

    #[test]
    fn rejected_forms() {
        let cases = [
            ("", "it is empty"),
            ("   ", "it is empty"),
            ("2023-02-29", "day 29 does not exist in 2023-02"),
            ("1900-02-29", "day 29 does not exist in 1900-02"),
            ("2024-04-31", "day 31 does not exist in 2024-04"),
            ("2024-01-00", "day 00 does not exist in 2024-01"),
            ("2024-13-01", "month 13 is not between"),
            ("2024-00-01", "month 00 is not between"),
            ("2024-03-05T24:00", "hour 24 is not between"),
            ("2024-03-05T23:60", "minute 60 is not between"),
            ("2024-03-05T23:59:60", "second 60 is not between"),
            ("2024-03-05T10:00+24:00", "offset 24:00 is out of range"),
            ("2024-03-05T10:00+01:60", "offset 01:60 is out of range"),
            ("garbage", "four-digit year"),
            ("24-03-05", "four-digit year"),
            ("20240305", "'-' after the year"),
            ("2024-3-05", "two-digit month"),
            ("2024-03-5", "two-digit day"),
            ("2024-03-05T", "two-digit hour"),
            ("2024-03-05T10", "':' after the hour"),
            ("2024-03-05T10:5", "two-digit minutes"),
            ("2024-03-05T10:05:", "two-digit seconds"),
            ("2024-03-05T10:05:58.", "digits after the decimal point"),
            ("2024-03-05T10:05.5", "unexpected text after the time"),
            ("2024-03-05T10:05:58ZZ", "unexpected text after the time"),
            ("2024-03-05T10:05:58 Z", "unexpected text after the time"),
            ("2024-03-05T10:05:58+01", "':' in the UTC offset"),
            ("2024-03-05T10:05:58+0100", "':' in the UTC offset"),
            ("2024-03-05X10:05", "'T' or a space"),
            ("2024-03-05Z", "'T' or a space"),
            ("-2024-03-05", "four-digit year"),
            ("２０２４-03-05", "four-digit year"),
            ("2024-03-05T10:05:58.5é", "unexpected text after the time"),
        ];
        for (input, expected) in cases {
            let err = UtcTime::parse_iso(input).expect_err(input);
            let msg = err.to_string();
            assert!(msg.contains(expected), "{input:?}: {msg}");
            assert!(
                msg.starts_with(&format!("invalid timestamp \"{}\": ", input)),
                "{msg}"
            );
        }
    }

    #[test]
    fn long_input_is_shortened_in_the_message() {
        let input = "x".repeat(10_000);
        let msg = UtcTime::parse_iso(&input).unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
    }

    #[test]
    fn system_time_conversions() {
        let before = UNIX_EPOCH - Duration::from_micros(1500);
        assert_eq!(UtcTime::from_system(before).unix_millis(), -2);
        assert_eq!(
            UtcTime::from_system(UNIX_EPOCH - Duration::from_millis(3)).unix_millis(),
            -3
        );
        assert_eq!(
            UtcTime::from_system(UNIX_EPOCH + Duration::from_micros(1500)).unix_millis(),
            1
        );
        for ms in [-86_400_001, -1, 0, 1, 1_709_633_158_120] {
            let t = UtcTime::from_unix_millis(ms);
            assert_eq!(UtcTime::from_system(t.to_system()), t);
        }
        let now = UtcTime::now();
        assert!(now > UtcTime::from_unix_millis(1_700_000_000_000));
    }

    #[test]
    fn plus_secs_adds_and_saturates() {
        let t = UtcTime::from_unix_millis(1000);
        assert_eq!(t.plus_secs(86_400).unix_millis(), 86_401_000);
        assert_eq!(t.plus_secs(u64::MAX).unix_millis(), i64::MAX);
        assert!(UtcTime::from_unix_millis(-5) < UtcTime::from_unix_millis(3));
    }
}
