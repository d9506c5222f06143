//! Money in fen (分; 1 yuan = 100 fen), integers only: no floating point near money.

use std::fmt;
use std::ops::{Add, Sub};

/// An amount of money in fen.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(pub i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub fn get(self) -> i64 {
        self.0
    }

    /// An amount in yuan as people type it: `2360`, `2360.5`, `2360.50` (at most two decimals,
    /// not negative, below 10^13 yuan). Integer arithmetic only.
    pub fn parse_yuan(text: &str) -> Option<Fen> {
        let text = text.trim();
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty()
            || whole.len() > 13
            || frac.len() > 2
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (text.contains('.') && frac.is_empty())
        {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().ok()? * 10,
            _ => frac.parse().ok()?,
        };
        Some(Fen(whole * 100 + cents))
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0 + rhs.0)
    }
}

impl Sub for Fen {
    type Output = Fen;
    fn sub(self, rhs: Fen) -> Fen {
        Fen(self.0 - rhs.0)
    }
}

/// `12345` fen is shown as `123.45`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written by hand: amounts are formatted for every output line.
        let mut buf = [0u8; 24];
        let mut at = buf.len();
        let mut abs = self.0.unsigned_abs();
        for i in 0.. {
            if i == 2 {
                at -= 1;
                buf[at] = b'.';
            }
            at -= 1;
            buf[at] = b'0' + (abs % 10) as u8;
            abs /= 10;
            if abs == 0 && i >= 2 {
                break;
            }
        }
        if self.0 < 0 {
            at -= 1;
            buf[at] = b'-';
        }
        f.write_str(std::str::from_utf8(&buf[at..]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fen({})", self.0)
    }
}

#[cfg(test)]
mod parse_tests {
    use super::Fen;

    #[test]
    fn yuan_as_typed() {
        assert_eq!(Fen::parse_yuan("2360"), Some(Fen(236000)));
        assert_eq!(Fen::parse_yuan("2360.5"), Some(Fen(236050)));
        assert_eq!(Fen::parse_yuan(" 0.01 "), Some(Fen(1)));
        for bad in [
            "",
            ".5",
            "5.",
            "1.234",
            "-3",
            "1e3",
            "12,00",
            "１２",
            "99999999999999",
        ] {
            assert_eq!(Fen::parse_yuan(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_yuan_with_two_decimals() {
        assert_eq!(Fen(50000).to_string(), "500.00");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(-1234).to_string(), "-12.34");
        assert_eq!(Fen(0).to_string(), "0.00");
        assert_eq!(Fen(100).to_string(), "1.00");
        assert_eq!(Fen(1000000).to_string(), "10000.00");
        assert_eq!(Fen(i64::MIN).to_string(), "-92233720368547758.08");
    }
}
