//! When a watched sync is due: `every` (a duration such as `15m`) or `cron` (five fields,
//! minute hour day-of-month month day-of-week, in UTC).

use std::time::Duration;

/// Parses `90s`, `15m`, `2h`, `1d`, `500ms`, or combinations such as `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration (such as 30s, 15m, 1h30m, 1d)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let part = unit
            .checked_mul(u32::try_from(n).map_err(|_| bad())?)
            .ok_or_else(bad)?;
        total = total.checked_add(part).ok_or_else(bad)?;
    }
    Ok(total)
}

/// A cron expression of five fields (minute, hour, day of month, month, day of week; `*`,
/// lists, ranges and steps such as `*/15` or `1-5`), evaluated in UTC. As in cron, when both
/// day fields are restricted a day matching either runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    any_day: bool,
    any_weekday: bool,
}

impl Cron {
    /// Parses an expression.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "`{text}` has {} fields; cron takes five: minute hour day-of-month month day-of-week",
                fields.len()
            ));
        }
        let minutes = bits(fields[0], 0, 59, "minute")?;
        let hours = bits(fields[1], 0, 23, "hour")?;
        let days = bits(fields[2], 1, 31, "day of month")?;
        let months = bits(fields[3], 1, 12, "month")?;
        // 7 is Sunday too.
        let mut weekdays = bits(fields[4], 0, 7, "day of week")?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        Ok(Cron {
            text: text.to_owned(),
            minutes,
            hours: u32::try_from(hours).unwrap_or(u32::MAX),
            days: u32::try_from(days).unwrap_or(u32::MAX),
            months: u16::try_from(months).unwrap_or(u16::MAX),
            weekdays: u8::try_from(weekdays & 0x7f).unwrap_or(u8::MAX),
            any_day: fields[2] == "*",
            any_weekday: fields[4] == "*",
        })
    }

    /// The first matching minute strictly after `after_ms` (milliseconds since the epoch), in
    /// milliseconds; `None` when none comes in the next five years (`0 0 31 2 *`).
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let mut minute = after_ms.div_euclid(60_000) + 1;
        let limit = minute + 5 * 366 * 24 * 60;
        while minute < limit {
            let days_since_epoch = minute.div_euclid(1440);
            let (_, month, day) = civil(days_since_epoch);
            if self.months & (1 << month) == 0 {
                // Jump to the next day (cheap enough: at most a few thousand days a year).
                minute = (days_since_epoch + 1) * 1440;
                continue;
            }
            let weekday = (days_since_epoch + 4).rem_euclid(7); // 1970-01-01 was a Thursday.
            let day_ok = self.days & (1 << day) != 0;
            let weekday_ok = self.weekdays & (1 << weekday) != 0;
            let matches_day = match (self.any_day, self.any_weekday) {
                (true, true) => true,
                (false, true) => day_ok,
                (true, false) => weekday_ok,
                (false, false) => day_ok || weekday_ok,
            };
            if !matches_day {
                minute = (days_since_epoch + 1) * 1440;
                continue;
            }
            let of_day = minute.rem_euclid(1440);
            let (hour, min) = (of_day / 60, of_day % 60);
            if self.hours & (1 << hour) != 0 && self.minutes & (1 << min) != 0 {
                return Some(minute * 60_000);
            }
            minute += 1;
        }
        None
    }
}

impl std::fmt::Display for Cron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The set of values a field allows, as bits.
fn bits(field: &str, min: u64, max: u64, name: &str) -> Result<u64, String> {
    let mut set = 0u64;
    for part in field.split(',') {
        let bad = || {
            format!("the {name} field `{field}` is not valid (use *, N, N-M, */S, N-M/S or lists of them, within {min}-{max})")
        };
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u64>().map_err(|_| bad())?),
            None => (part, 1),
        };
        if step == 0 {
            return Err(bad());
        }
        let (from, to) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                a.parse::<u64>().map_err(|_| bad())?,
                b.parse::<u64>().map_err(|_| bad())?,
            )
        } else {
            let n = range.parse::<u64>().map_err(|_| bad())?;
            (n, if part.contains('/') { max } else { n })
        };
        if from < min || to > max || from > to {
            return Err(bad());
        }
        let mut v = from;
        while v <= to {
            set |= 1 << v;
            v += step;
        }
    }
    Ok(set)
}

/// Year, month (1-12) and day (1-31) of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "m", "15", "15x", "1.5h", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cron_finds_the_next_minute() {
        // 2026-03-02T10:07:00Z is a Monday.
        let at = 1_772_446_020_000;
        let hourly = Cron::parse("0 * * * *").unwrap();
        assert_eq!(hourly.next_after(at), Some(at + 53 * 60_000));
        let quarter = Cron::parse("*/15 * * * *").unwrap();
        assert_eq!(quarter.next_after(at), Some(at + 8 * 60_000));
        // Weekdays at 09:00: Tuesday 09:00 is 22 h 53 min later.
        let weekdays = Cron::parse("0 9 * * 1-5").unwrap();
        assert_eq!(weekdays.next_after(at), Some(at + (22 * 60 + 53) * 60_000));
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(Cron::parse("0 0 31 2 *").unwrap().next_after(at), None);
        for bad in [
            "* * * *",
            "60 * * * *",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad}");
        }
    }
}
