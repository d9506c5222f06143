//! Parsing one cell's text into a value, with the reason in Chinese when it cannot be: dates in
//! the forms county offices type, ID numbers (legacy ones converted), village codes, phone and
//! account numbers, yes/no flags and disability grades. Pure functions, no row context.

use guanai_rules::{AreaError, DisabilityGrade, Hukou, ResidentId, Sex, VillageCode};
use jiff::civil::Date;

/// Parses a date written as `YYYY-MM-DD`, `YYYY/M/D`, `YYYY.M.D`, `YYYYMMDD` or `YYYY年M月D日`,
/// optionally followed by a time of day (Excel writes `1965/3/12 0:00` for date-time cells
/// exported to CSV). XLSX date cells reach here already as `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    let (year, month, day) = split_date(text)
        .ok_or_else(|| format!("「{text}」不是有效日期，应写成 YYYY-MM-DD（如 1965-03-12）"))?;
    Date::new(year, month, day)
        .map_err(|_| format!("{year:04}-{month:02}-{day:02} 不是真实存在的日期"))
}

fn split_date(text: &str) -> Option<(i16, i8, i8)> {
    let date = match text.split_once([' ', 'T']) {
        Some((date, time))
            if time
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b':' || b == b'.') =>
        {
            date
        }
        Some(_) => return None,
        None => text,
    };
    let b = date.as_bytes();
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        return Some((
            i16::try_from(number(&b[..4])?).ok()?,
            i8::try_from(number(&b[4..6])?).ok()?,
            i8::try_from(number(&b[6..])?).ok()?,
        ));
    }
    let (year, month, day) = if let Some(stripped) = date.strip_suffix('日') {
        let (year, rest) = stripped.split_once('年')?;
        let (month, day) = rest.split_once('月')?;
        (year, month, day)
    } else {
        // The same separator twice: "1965/3-12" is rejected by the digit check below.
        let sep = date.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
        let mut parts = date.splitn(3, sep);
        (parts.next()?, parts.next()?, parts.next()?)
    };
    if year.len() != 4 || !(1..=2).contains(&month.len()) || !(1..=2).contains(&day.len()) {
        return None;
    }
    Some((
        i16::try_from(number(year.as_bytes())?).ok()?,
        i8::try_from(number(month.as_bytes())?).ok()?,
        i8::try_from(number(day.as_bytes())?).ok()?,
    ))
}

/// The value of a run of ASCII digits; `None` if any byte is not a digit or the run is empty.
fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &d| {
        d.is_ascii_digit()
            .then(|| acc.saturating_mul(10).saturating_add(u32::from(d - b'0')))
    })
}

/// Why a long number cannot be trusted when Excel has turned it into a floating-point number.
const EXCEL_NUMBER_LOST_DIGITS: &str =
    "单元格为数字格式，Excel 只保留 15 位有效数字，号码已失真；请把该列设为文本格式后重新填写";

/// True for text such as `3.72822E+17`: Excel's display of a long number in a General cell,
/// exported to CSV. The digits after the fifth are gone.
fn is_scientific(text: &str) -> bool {
    let Some((mantissa, exponent)) = text.split_once(['E', 'e']) else {
        return false;
    };
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && exponent
            .strip_prefix('+')
            .is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses a resident ID number: 18 characters, or 15 digits converted with
/// [`ResidentId::from_legacy`]. `was_number` says the XLSX cell held a number, not text.
pub(crate) fn parse_id(text: &str, was_number: bool, today: Date) -> Result<ResidentId, String> {
    if is_scientific(text) {
        return Err(format!(
            "号码被 Excel 显示为科学计数法（{text}），后几位已丢失；请把该列设为文本格式后重新填写"
        ));
    }
    if was_number && text.len() > 15 {
        return Err(EXCEL_NUMBER_LOST_DIGITS.to_owned());
    }
    let parsed = if text.len() == 15 && text.bytes().all(|b| b.is_ascii_digit()) {
        ResidentId::from_legacy(text, today)
    } else {
        ResidentId::parse(text, today)
    };
    parsed.map_err(|e| e.zh())
}

/// Parses a 12-digit Linyi village code.
pub(crate) fn parse_village(text: &str) -> Result<VillageCode, String> {
    VillageCode::parse(text).map_err(|e| match e {
        AreaError::Format { digits, text } => format!("应为 {digits} 位数字，实为「{text}」"),
        AreaError::Unknown { text, .. } => format!("{text} 不是临沂市的村居代码"),
    })
}

/// 男 or 女.
pub(crate) fn parse_sex(text: &str) -> Result<Sex, String> {
    match text {
        "女" => Ok(Sex::Female),
        "男" => Ok(Sex::Male),
        _ => Err(format!("应为「男」或「女」，实为「{text}」")),
    }
}

/// 城镇 or 农村.
pub(crate) fn parse_hukou(text: &str) -> Result<Hukou, String> {
    match text {
        "城镇" => Ok(Hukou::Urban),
        "农村" => Ok(Hukou::Rural),
        _ => Err(format!("应为「城镇」或「农村」，实为「{text}」")),
    }
}

/// 是 or 否 (the caller treats a blank cell as 否).
pub(crate) fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text {
        "是" => Ok(true),
        "否" => Ok(false),
        _ => Err(format!("应为「是」或「否」（空白视为否），实为「{text}」")),
    }
}

/// A phone number: a leading `+86`, spaces and hyphens are dropped; 7–15 digits must remain.
pub(crate) fn normalise_phone(text: &str) -> Result<String, String> {
    let rest = text.strip_prefix("+86").unwrap_or(text);
    let digits: String = rest
        .chars()
        .filter(|&c| !(c.is_whitespace() || c == '-'))
        .collect();
    if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(format!(
            "应为 7–15 位数字（可带 +86、空格、连字符），实为「{text}」"
        ))
    }
}

/// A bank account number: spaces are dropped; 10–30 digits must remain.
pub(crate) fn normalise_account(text: &str, was_number: bool) -> Result<String, String> {
    if is_scientific(text) {
        return Err(format!(
            "账号被 Excel 显示为科学计数法（{text}），后几位已丢失；请把该列设为文本格式后重新填写"
        ));
    }
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if was_number && digits.len() > 15 {
        return Err(EXCEL_NUMBER_LOST_DIGITS.to_owned());
    }
    if (10..=30).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(format!("应为 10–30 位数字（可含空格），实为「{text}」"))
    }
}

/// A disability grade 1–4, written `2`, `2级`, `二` or `二级`.
pub(crate) fn parse_grade(text: &str) -> Result<DisabilityGrade, String> {
    let bare = text.strip_suffix('级').unwrap_or(text);
    let grade = match bare {
        "1" | "一" => 1,
        "2" | "二" => 2,
        "3" | "三" => 3,
        "4" | "四" => 4,
        _ => 0,
    };
    DisabilityGrade::new(grade).ok_or_else(|| format!("应为 1–4，实为「{text}」"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).expect("test date")
    }

    #[test]
    fn dates_in_the_forms_offices_type() {
        for text in [
            "1965-03-12",
            "1965/3/12",
            "1965.3.12",
            "19650312",
            "1965年3月12日",
            "1965/3/12 0:00",
            "1965-03-12 00:00:00",
        ] {
            assert_eq!(parse_date(text), Ok(d(1965, 3, 12)), "{text}");
        }
    }

    #[test]
    fn dates_that_are_not_real_or_not_dates_are_named() {
        assert_eq!(
            parse_date("1965-02-30"),
            Err("1965-02-30 不是真实存在的日期".into())
        );
        for bad in ["65-3-12", "1965-3", "1965-03-12x", "三月", "1965/3-12", ""] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_are_normalised_to_digits() {
        assert_eq!(
            normalise_phone("+86 138-1234-5678"),
            Ok("13812345678".into())
        );
        assert_eq!(normalise_phone("0539-8123456"), Ok("05398123456".into()));
        assert!(normalise_phone("123456").is_err());
        assert!(normalise_phone("1381234567x").is_err());
    }

    #[test]
    fn account_numbers_allow_spaces_only() {
        assert_eq!(
            normalise_account("6228 4803 1234 5678 901", false),
            Ok("6228480312345678901".into())
        );
        assert!(normalise_account("6228-4803-1234", false).is_err());
        assert!(normalise_account("123456789", false).is_err());
        assert!(normalise_account("6228480312345678000", true).is_err());
    }

    #[test]
    fn scientific_notation_from_excel_is_called_out() {
        let why = parse_id("3.72822E+17", false, d(2026, 6, 30)).expect_err("lost digits");
        assert!(why.contains("科学计数法"), "{why}");
    }

    #[test]
    fn grades_in_words_and_digits() {
        assert_eq!(parse_grade("二级").map(|g| g.get()), Ok(2));
        assert_eq!(parse_grade("4").map(|g| g.get()), Ok(4));
        assert_eq!(parse_grade("5"), Err("应为 1–4，实为「5」".into()));
    }
}
