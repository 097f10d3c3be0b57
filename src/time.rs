//! Calendar time as Unix seconds: the RFC 3339 times of WeChat Pay's JSON
//! (`2018-06-08T10:34:56+08:00`) and the `UTCTime` / `GeneralizedTime` of X.509 validity.
//!
//! Small and exact, so written here rather than pulled in: the proleptic Gregorian calendar,
//! whole seconds, no leap-second table (a `:60` second counts as `:59`, as POSIX time does).
//! Times before 1970 saturate to `0`; they never occur in what WeChat Pay sends.

/// Days from 1970-01-01 to `year-month-day` (proleptic Gregorian; negative before 1970).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Count years from 0000-03-01, so that a leap day ends each year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A checked calendar time, as Unix seconds (saturating at 0 before 1970).
fn unix_seconds(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<u64> {
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second <= 60;
    if !valid {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second.min(59));
    Some(u64::try_from(seconds).unwrap_or(0))
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

fn expect(text: &[u8], byte: u8) -> Option<&[u8]> {
    text.strip_prefix(&[byte])
}

/// Parses an RFC 3339 date-time (`2018-06-08T10:34:56+08:00`, `…Z`, with optional fractional
/// seconds, which are dropped) into Unix seconds, as WeChat Pay writes its times
/// (`success_time`, `effective_time`, …); `None` when it is not one.
///
/// ```
/// assert_eq!(wechatpay::toolkit::parse_rfc3339("2015-05-20T13:29:35+08:00"), Some(1_432_099_775));
/// assert_eq!(wechatpay::toolkit::parse_rfc3339("yesterday"), None);
/// ```
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let rest = text.trim().as_bytes();
    let (year, rest) = digits(rest, 4)?;
    let (month, rest) = digits(expect(rest, b'-')?, 2)?;
    let (day, rest) = digits(expect(rest, b'-')?, 2)?;
    let rest = match rest.split_first()? {
        (b'T' | b't' | b' ', rest) => rest,
        _ => return None,
    };
    let (hour, rest) = digits(rest, 2)?;
    let (minute, rest) = digits(expect(rest, b':')?, 2)?;
    let (second, mut rest) = digits(expect(rest, b':')?, 2)?;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        rest = &fraction[count..];
    }
    let offset: i64 = match rest.split_first()? {
        (b'Z' | b'z', []) => 0,
        (sign @ (b'+' | b'-'), offset) => {
            let (hours, offset) = digits(offset, 2)?;
            let (minutes, offset) = digits(expect(offset, b':')?, 2)?;
            if !offset.is_empty() || hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if *sign == b'+' { seconds } else { -seconds }
        }
        _ => return None,
    };
    let local = unix_seconds(i64::from(year), month, day, hour, minute, second)?;
    Some(u64::try_from(i64::try_from(local).ok()? - offset).unwrap_or(0))
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
    unix_seconds(i64::from(year), month, day, hour, minute, second)
}

/// `unix` as RFC 3339 at a fixed UTC offset of `offset_hours`, e.g.
/// `2015-05-20T13:29:35+08:00` (Beijing time, as WeChat Pay writes it) or `…Z` for an offset
/// of 0.
///
/// ```
/// assert_eq!(wechatpay::toolkit::format_rfc3339(1_432_099_775, 8), "2015-05-20T13:29:35+08:00");
/// ```
pub fn format_rfc3339(unix: u64, offset_hours: i8) -> String {
    let offset = i64::from(offset_hours) * 3600;
    let local = i64::try_from(unix).unwrap_or(i64::MAX / 2) + offset;
    let (days, seconds) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let zone = match offset_hours {
        0 => "Z".to_owned(),
        hours => format!(
            "{}{:02}:00",
            if hours < 0 { '-' } else { '+' },
            hours.unsigned_abs()
        ),
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{zone}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
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
