//! UTC calendar date of a Unix timestamp, without a date crate.

/// Seconds in a day.
pub(crate) const SECS_PER_DAY: u64 = 86_400;

/// The UTC date of a Unix timestamp as `YYYY-MM-DD`, as used in the TC3 credential scope
/// (Python: `datetime.utcfromtimestamp(ts).strftime('%Y-%m-%d')`).
///
/// Always UTC: signing with a local date (e.g. UTC+8) breaks around midnight.
/// Total for every `u64` (years past 9999 get more digits; the official SDK cannot sign
/// those at all).
///
/// ```
/// assert_eq!(tc3_sign::utc_date(0), "1970-01-01");
/// assert_eq!(tc3_sign::utc_date(1_709_222_400), "2024-02-29");
/// ```
pub fn utc_date(timestamp: u64) -> String {
    let mut buf = DateBuf::default();
    let len = write_utc_date(timestamp, &mut buf);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// Room for `YYYY-MM-DD` with any year digits (a `u64` timestamp reaches 12; 20 fit).
pub(crate) type DateBuf = [u8; 26];

/// Writes the UTC date of `timestamp` as ASCII `YYYY-MM-DD` (the year zero-padded to at
/// least four digits) into `buf`; returns the length.
pub(crate) fn write_utc_date(timestamp: u64, buf: &mut DateBuf) -> usize {
    let (y, m, d) = civil_from_days(timestamp / SECS_PER_DAY);
    let mut year = [0u8; 20];
    let mut start = year.len();
    let mut rest = y;
    while start > 0 && (rest > 0 || year.len() - start < 4) {
        start -= 1;
        year[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let year = &year[start..];
    let n = year.len();
    buf[..n].copy_from_slice(year);
    buf[n..n + 6].copy_from_slice(&[
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + d / 10,
        b'0' + d % 10,
    ]);
    n + 6
}

/// Proleptic Gregorian (year, month, day) of a count of days since 1970-01-01.
///
/// Howard Hinnant's `civil_from_days`, restricted to non-negative day counts (so all
/// arithmetic is unsigned and cannot overflow for any `u64 / 86400`).
pub(crate) fn civil_from_days(days: u64) -> (u64, u8, u8) {
    // Shift the epoch to 0000-03-01 (719_468 days before 1970-01-01).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based month
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m as u8, d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(86_399), "1970-01-01");
        assert_eq!(utc_date(86_400), "1970-01-02");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_704_067_199), "2023-12-31");
        assert_eq!(utc_date(1_704_067_200), "2024-01-01");
        assert_eq!(utc_date(1_709_222_400), "2024-02-29");
        assert_eq!(utc_date(2_147_483_647), "2038-01-19");
        assert_eq!(utc_date(4_107_456_000), "2100-02-28");
        assert_eq!(utc_date(4_107_542_400), "2100-03-01");
        assert_eq!(utc_date(253_402_300_799), "9999-12-31");
        assert_eq!(utc_date(253_402_300_800), "10000-01-01");
    }

    #[test]
    fn extreme_timestamps_do_not_panic() {
        let s = utc_date(u64::MAX);
        assert!(s.len() > 10, "{s}");
    }
}
