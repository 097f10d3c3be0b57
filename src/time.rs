//! Calendar time as Unix seconds: the RFC 3339 times of WeChat Pay's JSON
//! (`2018-06-08T10:34:56+08:00`) and the `UTCTime` / `GeneralizedTime` of X.509 validity.
//!
//! The calendar is the `time` crate's; this module only fits it to what the SDK needs: whole
//! Unix seconds, saturating at `0` before 1970 (such times never occur in what WeChat Pay
//! sends), and X.509's fixed-width digits with `UTCTime`'s two-digit years.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Whole Unix seconds of `at`, `0` before 1970.
fn unix_seconds(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

/// Parses an RFC 3339 date-time (`2018-06-08T10:34:56+08:00`, `…Z`, `t`/`z` or a space as
/// RFC 3339 allows, with optional fractional seconds, which are dropped) into Unix seconds,
/// as WeChat Pay writes its times (`success_time`, `effective_time`, …); `None` when it is
/// not one.
///
/// ```
/// assert_eq!(wechatpay::toolkit::parse_rfc3339("2015-05-20T13:29:35+08:00"), Some(1_432_099_775));
/// assert_eq!(wechatpay::toolkit::parse_rfc3339("yesterday"), None);
/// ```
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .map(unix_seconds)
}

/// `count` ASCII digits at the front of `text`, as a number, and the rest.
fn digits(text: &[u8], count: usize) -> Option<(u32, &[u8])> {
    if text.len() < count || !text[..count].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = text[..count]
        .iter()
        .fold(0u32, |acc, digit| acc * 10 + u32::from(digit - b'0'));
    Some((value, &text[count..]))
}

/// Parses the DER of an X.509 `UTCTime` (`tag` 0x17, `YYMMDDHHMMSSZ`, years 1950–2049) or
/// `GeneralizedTime` (0x18, `YYYYMMDDHHMMSSZ`) into Unix seconds.
pub(crate) fn parse_x509_time(tag: u8, content: &[u8]) -> Option<u64> {
    let (year, rest) = match tag {
        0x17 => {
            let (short, rest) = digits(content, 2)?;
            let year = if short >= 50 {
                1900 + short
            } else {
                2000 + short
            };
            (year, rest)
        }
        0x18 => digits(content, 4)?,
        _ => return None,
    };
    let (month, rest) = digits(rest, 2)?;
    let (day, rest) = digits(rest, 2)?;
    let (hour, rest) = digits(rest, 2)?;
    let (minute, rest) = digits(rest, 2)?;
    let (second, rest) = digits(rest, 2)?;
    if rest != b"Z" {
        return None;
    }
    let narrow = |value: u32| u8::try_from(value).ok();
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(narrow(month)?).ok()?,
        narrow(day)?,
    )
    .ok()?;
    let time = Time::from_hms(narrow(hour)?, narrow(minute)?, narrow(second)?).ok()?;
    Some(unix_seconds(
        PrimitiveDateTime::new(date, time).assume_utc(),
    ))
}

/// `unix` as RFC 3339 at a fixed UTC offset of `offset_hours`, e.g.
/// `2015-05-20T13:29:35+08:00` (Beijing time, as WeChat Pay writes it) or `…Z` for an offset
/// of 0. Hours past 23 (east or west) count as 23; a time beyond the year 9999 as its end.
///
/// ```
/// assert_eq!(wechatpay::toolkit::format_rfc3339(1_432_099_775, 8), "2015-05-20T13:29:35+08:00");
/// ```
pub fn format_rfc3339(unix: u64, offset_hours: i8) -> String {
    let offset = UtcOffset::from_hms(offset_hours.clamp(-23, 23), 0, 0).unwrap_or(UtcOffset::UTC);
    // The last second RFC 3339 can write at this offset (year 9999).
    let last = PrimitiveDateTime::new(
        Date::from_calendar_date(9999, Month::December, 31).unwrap_or(Date::MAX),
        Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT),
    )
    .assume_offset(offset)
    .unix_timestamp();
    let unix = i64::try_from(unix).unwrap_or(i64::MAX).min(last);
    OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        for (text, unix) in [
            ("1970-01-01T08:00:00+08:00", 0),
            ("2015-05-20T13:29:35+08:00", 1_432_099_775),
            ("2000-02-29T08:00:00+08:00", 951_782_400),
            ("2024-03-01T23:59:59+08:00", 1_709_308_799),
            ("2126-11-03T17:25:59+08:00", 4_949_371_559),
        ] {
            assert_eq!(parse_rfc3339(text), Some(unix), "{text}");
            assert_eq!(format_rfc3339(unix, 8), text);
        }
        assert_eq!(format_rfc3339(1_432_099_775, 0), "2015-05-20T05:29:35Z");
        assert_eq!(format_rfc3339(0, -5), "1969-12-31T19:00:00-05:00");
    }

    #[test]
    fn rfc3339_variants_and_errors() {
        let base = parse_rfc3339("2018-06-08T02:34:56Z");
        assert_eq!(base, Some(1_528_425_296));
        for same in [
            "2018-06-08T10:34:56+08:00",
            "2018-06-08t02:34:56z",
            "2018-06-08 02:34:56Z",
            "2018-06-08T02:34:56.999Z",
            "2018-06-07T21:34:56-05:00",
            " 2018-06-08T02:34:56Z\n",
        ] {
            assert_eq!(parse_rfc3339(same), base, "{same}");
        }
        for bad in [
            "",
            "2018-06-08",
            "2018-06-08T02:34:56",
            "2018-13-08T02:34:56Z",
            "2018-02-29T02:34:56Z",
            "2018-06-08T24:00:00Z",
            "2018-06-08T02:34:56+0800",
            "2018-06-08T02:34:56.Z",
            "2018-06-08T02:34:56Z trailing",
            "２018-06-08T02:34:56Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
        assert_eq!(parse_rfc3339("1960-01-01T00:00:00Z"), Some(0), "saturates");
    }

    #[test]
    fn x509_times() {
        assert_eq!(parse_x509_time(0x17, b"261127092559Z"), Some(1_795_771_559));
        assert_eq!(
            parse_x509_time(0x18, b"21261103092559Z"),
            Some(4_949_371_559)
        );
        assert_eq!(
            parse_x509_time(0x17, b"500101000000Z"),
            Some(0),
            "1950 saturates"
        );
        assert_eq!(parse_x509_time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(parse_x509_time(0x17, b"261127092559"), None);
        assert_eq!(parse_x509_time(0x18, b"20261127092559.5Z"), None);
        assert_eq!(parse_x509_time(0x04, b"261127092559Z"), None);
    }
}
