//! Amounts in yuan as they appear in files ("123.45", "123.4", "123", "1,234.50") turned into
//! [`Fen`] by hand, with integers only; and the one place a floating-point number is accepted:
//! a numeric XLSX cell, converted through a 2-decimal string that must round-trip exactly.

use guanai_rules::Fen;

/// The largest amount written or read: 18 digits in all (ISO 20022 `totalDigits`), 2 of them
/// decimals.
pub(crate) const MAX_FEN: i64 = 999_999_999_999_999_999;

/// Parses an amount in yuan: digits, optionally grouped by commas in threes, optionally a point
/// and one or two decimals. No sign, no currency symbol, no exponent; surrounding spaces are
/// ignored. The error is the problem, ready for a message.
pub(crate) fn parse_yuan(text: &str) -> Result<Fen, String> {
    let t = text.trim();
    let bad = |why: &str| {
        if why.is_empty() {
            format!("not an amount: {t:?}")
        } else {
            format!("not an amount: {t:?} ({why})")
        }
    };
    if t.is_empty() {
        return Err("missing amount".to_owned());
    }
    if t.starts_with(['-', '+']) {
        return Err(bad("no sign allowed"));
    }
    let (whole, decimals) = match t.split_once('.') {
        Some((w, d)) => (w, Some(d)),
        None => (t, None),
    };
    let digits = ungroup(whole).ok_or_else(|| bad(""))?;
    let mut fen: i64 = 0;
    for b in digits.bytes() {
        fen = fen
            .checked_mul(10)
            .and_then(|f| f.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| bad("too large"))?;
    }
    let cents = match decimals {
        None => 0,
        Some(d) if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) => return Err(bad("")),
        Some(d) if d.len() > 2 => return Err(bad("more than 2 decimals")),
        Some(d) => {
            let mut c = 0i64;
            for b in d.bytes() {
                c = c * 10 + i64::from(b - b'0');
            }
            if d.len() == 1 { c * 10 } else { c }
        }
    };
    let fen = fen
        .checked_mul(100)
        .and_then(|f| f.checked_add(cents))
        .filter(|&f| f <= MAX_FEN)
        .ok_or_else(|| bad("too large"))?;
    Ok(Fen(fen))
}

/// The digits of the integer part: plain digits, or digits grouped as `1,234,567`.
fn ungroup(whole: &str) -> Option<String> {
    if whole.is_empty() {
        return None;
    }
    let groups: Vec<&str> = whole.split(',').collect();
    let well_formed = groups.iter().enumerate().all(|(i, g)| {
        !g.is_empty()
            && g.bytes().all(|b| b.is_ascii_digit())
            && (groups.len() == 1 || if i == 0 { g.len() <= 3 } else { g.len() == 3 })
    });
    well_formed.then(|| groups.concat())
}

/// An amount from a numeric XLSX cell: formatted with 2 decimals and parsed like text, and
/// refused unless that string stands for exactly the cell's value (so 12.345 or a sum carrying
/// binary noise is an error, not a silent rounding).
pub(crate) fn yuan_from_number(value: f64) -> Result<Fen, String> {
    if !value.is_finite() {
        return Err(format!("not an amount: {value}"));
    }
    if value < 0.0 {
        return Err(format!("not an amount: {value} (no sign allowed)"));
    }
    let text = format!("{value:.2}");
    let fen = parse_yuan(&text)?;
    if fen.get() as f64 / 100.0 == value {
        Ok(fen)
    } else {
        Err(format!("not an amount: {value} (more than 2 decimals)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_by_hand() {
        assert_eq!(parse_yuan("123.45"), Ok(Fen(12345)));
        assert_eq!(parse_yuan("123.4"), Ok(Fen(12340)));
        assert_eq!(parse_yuan("123"), Ok(Fen(12300)));
        assert_eq!(parse_yuan(" 0.01 "), Ok(Fen(1)));
        assert_eq!(parse_yuan("1,000,000.00"), Ok(Fen(100_000_000)));
        assert_eq!(parse_yuan("007.50"), Ok(Fen(750)));
        assert_eq!(parse_yuan("0"), Ok(Fen(0)));
        assert_eq!(
            parse_yuan("9999999999999999.99"),
            Ok(Fen(999_999_999_999_999_999))
        );
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        assert_eq!(
            parse_yuan("12.345"),
            Err(r#"not an amount: "12.345" (more than 2 decimals)"#.to_owned())
        );
        assert_eq!(
            parse_yuan("-5.00"),
            Err(r#"not an amount: "-5.00" (no sign allowed)"#.to_owned())
        );
        assert_eq!(
            parse_yuan("+5"),
            Err(r#"not an amount: "+5" (no sign allowed)"#.to_owned())
        );
        assert_eq!(parse_yuan(""), Err("missing amount".to_owned()));
        for garbage in [
            "abc", "12a", "1.2.3", ".5", "5.", "1e3", "¥5", "1,00", "12,3456", ",123", "1 000",
            "５",
        ] {
            assert_eq!(
                parse_yuan(garbage),
                Err(format!("not an amount: {garbage:?}")),
                "{garbage}"
            );
        }
        assert_eq!(
            parse_yuan("10000000000000000.00"),
            Err(r#"not an amount: "10000000000000000.00" (too large)"#.to_owned())
        );
        assert_eq!(
            parse_yuan("99999999999999999999999"),
            Err(r#"not an amount: "99999999999999999999999" (too large)"#.to_owned())
        );
    }

    #[test]
    fn numeric_cells_must_round_trip() {
        assert_eq!(yuan_from_number(12.3), Ok(Fen(1230)));
        assert_eq!(yuan_from_number(0.01), Ok(Fen(1)));
        assert_eq!(yuan_from_number(1_000_000.0), Ok(Fen(100_000_000)));
        assert_eq!(yuan_from_number(1234.56), Ok(Fen(123_456)));
        assert_eq!(
            yuan_from_number(12.345),
            Err("not an amount: 12.345 (more than 2 decimals)".to_owned())
        );
        assert_eq!(
            yuan_from_number(0.1 + 0.2),
            Err("not an amount: 0.30000000000000004 (more than 2 decimals)".to_owned())
        );
        assert_eq!(
            yuan_from_number(-3.0),
            Err("not an amount: -3 (no sign allowed)".to_owned())
        );
        assert_eq!(
            yuan_from_number(f64::NAN),
            Err("not an amount: NaN".to_owned())
        );
    }
}
