//! Calendar dates (proleptic Gregorian) for generated answers.

use anyhow::{Context, Result, bail};

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

impl Date {
    /// Parses `YYYY-MM-DD`, checking that the day exists.
    pub fn parse(s: &str) -> Result<Date> {
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() != 3 {
            bail!("`{s}` is not a YYYY-MM-DD date");
        }
        let d = Date {
            year: parts[0].parse().with_context(|| format!("year of `{s}`"))?,
            month: parts[1]
                .parse()
                .with_context(|| format!("month of `{s}`"))?,
            day: parts[2].parse().with_context(|| format!("day of `{s}`"))?,
        };
        if Date::from_days(d.days()) != d {
            bail!("`{s}` is not a valid date");
        }
        Ok(d)
    }

    /// Days since 1970-01-01 (H. Hinnant's `days_from_civil`).
    pub fn days(&self) -> i64 {
        let y = if self.month <= 2 {
            self.year - 1
        } else {
            self.year
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date { year, month, day }
    }

    /// `February 22, 1732`.
    pub fn long(&self) -> String {
        format!("{} {}, {}", self.month_name(), self.day, self.year)
    }

    /// `February 22`.
    pub fn month_day(&self) -> String {
        format!("{} {}", self.month_name(), self.day)
    }

    /// `February`.
    pub fn month_name(&self) -> &'static str {
        MONTHS[self.month as usize - 1]
    }

    /// The day of the week.
    pub fn weekday(&self) -> &'static str {
        WEEKDAYS[self.days().rem_euclid(7) as usize]
    }

    /// The meteorological season (northern hemisphere).
    pub fn season(&self) -> &'static str {
        match self.month {
            12 | 1 | 2 => "winter",
            3..=5 => "spring",
            6..=8 => "summer",
            _ => "autumn",
        }
    }

    /// The western zodiac sign.
    pub fn zodiac(&self) -> &'static str {
        // (month, first day of the next sign in that month, sign before that day)
        const SIGNS: [(u32, u32, &str); 12] = [
            (1, 20, "Capricorn"),
            (2, 19, "Aquarius"),
            (3, 21, "Pisces"),
            (4, 20, "Aries"),
            (5, 21, "Taurus"),
            (6, 21, "Gemini"),
            (7, 23, "Cancer"),
            (8, 23, "Leo"),
            (9, 23, "Virgo"),
            (10, 23, "Libra"),
            (11, 22, "Scorpio"),
            (12, 22, "Sagittarius"),
        ];
        let (_, first, before) = SIGNS[self.month as usize - 1];
        if self.day < first {
            before
        } else {
            SIGNS[self.month as usize % 12].2
        }
    }

    /// Whole years from `self` to `later` (an age).
    pub fn years_until(&self, later: &Date) -> i64 {
        let mut y = later.year - self.year;
        if (later.month, later.day) < (self.month, self.day) {
            y -= 1;
        }
        y
    }
}

/// `18th`, `21st`, ...
pub fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let d = Date::parse("1970-01-01").unwrap();
        assert_eq!(d.days(), 0);
        assert_eq!(d.weekday(), "Thursday");
        assert_eq!(Date::parse("2000-02-29").unwrap().weekday(), "Tuesday");
        assert_eq!(Date::parse("1969-07-20").unwrap().weekday(), "Sunday");
        assert!(Date::parse("1900-02-29").is_err());
        let born = Date::parse("1732-02-22").unwrap();
        assert_eq!(born.long(), "February 22, 1732");
        assert_eq!(born.zodiac(), "Pisces");
        assert_eq!(Date::parse("1872-07-04").unwrap().zodiac(), "Cancer");
        assert_eq!(Date::parse("1946-12-25").unwrap().zodiac(), "Capricorn");
        assert_eq!(born.years_until(&Date::parse("1789-04-30").unwrap()), 57);
        assert_eq!(ordinal(18), "18th");
        assert_eq!(ordinal(21), "21st");
        assert_eq!(ordinal(12), "12th");
    }
}
