//! Resident ID numbers (公民身份号码, GB 11643-1999): parsing that names the part that is wrong,
//! the ISO 7064 MOD 11-2 check character, conversion of 15-character legacy numbers (一代证),
//! the birth date and sex a number encodes, agreement with declared facts, and masking.
//!
//! The address code is only checked for a plausible province, never against today's Linyi
//! codes: numbers issued before 1994 carry the old 临沂地区 codes (3728xx), and a person keeps the
//! number of the place where it was first issued. A number must never reach a log: the `Debug`
//! of [`ResidentId`] masks it, and only [`ResidentId::as_str`] gives it in full.

use std::fmt;

use jiff::civil::Date;
use thiserror::Error;

use crate::facts::Sex;

/// Weights of the first 17 digits for ISO 7064 MOD 11-2 (GB 11643-1999 §8.2).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each remainder of the weighted sum modulo 11.
const CHECK_CHARACTERS: [u8; 11] = *b"10X98765432";

/// Province-level codes of GB/T 2260 (incl. 71 Taiwan, 81 Hong Kong, 82 Macao), the first two
/// digits of any address code.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// A valid 18-character resident ID number: 17 ASCII digits and a check character (a digit or
/// upper-case `X`) that agrees with them, a plausible address code and a real birth date.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResidentId([u8; 18]);

/// Why a text is not a valid resident ID number, or why a number disagrees with declared facts.
/// [`fmt::Display`] gives the message in English, [`ResidentIdError::zh`] in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResidentIdError {
    /// Not 18 characters (and not a 15-digit legacy number).
    #[error("18 characters expected, found {found}")]
    Length { found: usize },
    /// 15 digits: a legacy number, with its 18-character form or why it has none. The message
    /// carries the converted number because the person correcting the entry needs it.
    #[error("{}", legacy_message(.conversion))]
    LegacyNumber {
        conversion: Result<ResidentId, Box<ResidentIdError>>,
    },
    /// A character that should be a digit is not; `position` is 1-based.
    #[error("character {position} is '{found}', expected a digit")]
    NotADigit { position: usize, found: char },
    /// The 18th character is neither a digit nor `X`.
    #[error("character 18 (the check character) is '{found}', expected a digit or X")]
    CheckCharacterNotDigitOrX { found: char },
    /// The address code does not begin with a province-level code of China.
    #[error("address code {code} is not plausible: {} is not a province-level code of China", province(.code))]
    ImplausibleAddressCode { code: String },
    /// Characters 7–14 are not a real calendar date.
    #[error("birth date {digits} is not a real date")]
    NotADate { digits: String },
    /// The birth date is after today.
    #[error("birth date {birth_date} is in the future (today is {today})")]
    BirthDateInFuture { birth_date: Date, today: Date },
    /// The check character disagrees with the first 17 digits.
    #[error("check character is {found} but should be {expected}")]
    WrongCheckCharacter { expected: char, found: char },
    /// The birth date in the number is not the declared one.
    #[error("birth date disagrees: the ID number says {id_says}, declared {declared}")]
    BirthDateDisagrees { id_says: Date, declared: Date },
    /// The sex in the number (the parity of the sequence) is not the declared one.
    #[error(
        "sex disagrees: the ID number says {} because sequence {sequence:03} is {}, declared {}",
        .id_says.as_str(), parity(*.sequence), .declared.as_str()
    )]
    SexDisagrees {
        id_says: Sex,
        sequence: u16,
        declared: Sex,
    },
    /// A legacy number that is not 15 characters long.
    #[error("legacy number: 15 characters expected, found {found}")]
    LegacyLength { found: usize },
    /// [`ResidentId::build`]: the address code is not 6 digits.
    #[error("address code must be 6 digits, found {found:?}")]
    AddressCodeFormat { found: String },
    /// [`ResidentId::build`]: the birth year cannot be written in 4 digits (1000–9999).
    #[error("birth year {year} is outside 1000-9999")]
    BirthYearOutOfRange { year: i16 },
    /// [`ResidentId::build`]: the sequence cannot be written in 3 digits (000–999).
    #[error("sequence {sequence} is outside 000-999")]
    SequenceOutOfRange { sequence: u16 },
}

fn legacy_message(conversion: &Result<ResidentId, Box<ResidentIdError>>) -> String {
    match conversion {
        Ok(id) => format!(
            "this is a legacy 15-character number; enter its 18-character form {}",
            id.as_str()
        ),
        Err(why) => {
            format!("this is a legacy 15-character number and cannot be converted: {why}")
        }
    }
}

fn province(code: &str) -> &str {
    code.get(..2).unwrap_or(code)
}

fn parity(sequence: u16) -> &'static str {
    if sequence % 2 == 1 { "odd" } else { "even" }
}

fn sex_zh(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "女",
        Sex::Male => "男",
    }
}

impl ResidentIdError {
    /// The same message in Chinese, for the UI.
    pub fn zh(&self) -> String {
        use ResidentIdError::*;
        match self {
            Length { found } => format!("应为 18 位，实为 {found} 位"),
            LegacyNumber { conversion: Ok(id) } => {
                format!("这是 15 位旧号码，请改填 18 位号码 {}", id.as_str())
            }
            LegacyNumber {
                conversion: Err(why),
            } => {
                format!("这是 15 位旧号码，且无法转换为 18 位：{}", why.zh())
            }
            NotADigit { position, found } => format!("第 {position} 位是「{found}」，应为数字"),
            CheckCharacterNotDigitOrX { found } => {
                format!("第 18 位（校验位）是「{found}」，应为数字或 X")
            }
            ImplausibleAddressCode { code } => {
                format!(
                    "地址码 {code} 不合理：{} 不是省级行政区划代码",
                    province(code)
                )
            }
            NotADate { digits } => format!("出生日期 {digits} 不是有效日期"),
            BirthDateInFuture { birth_date, today } => {
                format!("出生日期 {birth_date} 晚于今天（{today}）")
            }
            WrongCheckCharacter { expected, found } => {
                format!("校验位错误：应为 {expected}，实为 {found}")
            }
            BirthDateDisagrees { id_says, declared } => {
                format!("出生日期不一致：号码为 {id_says}，申报为 {declared}")
            }
            SexDisagrees {
                id_says,
                sequence,
                declared,
            } => format!(
                "性别不一致：号码为{}（顺序码 {sequence:03} 为{}数），申报为{}",
                sex_zh(*id_says),
                if sequence % 2 == 1 { "奇" } else { "偶" },
                sex_zh(*declared)
            ),
            LegacyLength { found } => format!("15 位旧号码应为 15 位，实为 {found} 位"),
            AddressCodeFormat { found } => format!("地址码应为 6 位数字，实为「{found}」"),
            BirthYearOutOfRange { year } => format!("出生年份 {year} 超出 1000–9999"),
            SequenceOutOfRange { sequence } => format!("顺序码 {sequence} 超出 000–999"),
        }
    }
}

/// ISO 7064 MOD 11-2 check character (an ASCII digit or `b'X'`) for the first 17 digits, given
/// as ASCII digits. Bytes other than ASCII digits give a meaningless (but defined) result.
pub fn check_character(first17: &[u8; 17]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&digit, weight)| u32::from(digit.wrapping_sub(b'0')) * weight)
        .sum();
    CHECK_CHARACTERS[(sum % 11) as usize]
}

/// The value of a run of ASCII digits (callers pass digits only, at most 8 of them).
fn value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, &d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// Writes `value` as zero-padded ASCII digits filling `out`.
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        // `value % 10` is below 10, so the cast cannot truncate.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn plausible_address(code: &[u8]) -> Result<(), ResidentIdError> {
    let province = u8::try_from(value(&code[..2])).unwrap_or(0);
    if PROVINCES.contains(&province) {
        Ok(())
    } else {
        Err(ResidentIdError::ImplausibleAddressCode {
            code: code.iter().map(|&b| char::from(b)).collect(),
        })
    }
}

/// The birth date in characters 7–14 (`YYYYMMDD`), if it is a real date of years 0001–9999.
fn encoded_birth_date(digits: &[u8; 18]) -> Option<Date> {
    let year = i16::try_from(value(&digits[6..10])).ok()?;
    let month = i8::try_from(value(&digits[10..12])).ok()?;
    let day = i8::try_from(value(&digits[12..14])).ok()?;
    if year == 0 {
        return None;
    }
    Date::new(year, month, day).ok()
}

impl ResidentId {
    /// Parse an 18-character number. `today` is used to reject birth dates in the future.
    ///
    /// Checks, in this order, and reports the first failure: the length (a 15-digit text is
    /// reported as a legacy number with its conversion), digits in positions 1–17, the check
    /// character's form (`x` is accepted as `X`), a plausible province in the address code, a
    /// real birth date, a birth date not after `today`, and the check character's value.
    pub fn parse(text: &str, today: Date) -> Result<ResidentId, ResidentIdError> {
        let found = text.chars().count();
        if found != 18 {
            if found == 15 && text.bytes().all(|b| b.is_ascii_digit()) {
                let conversion = ResidentId::from_legacy(text, today).map_err(Box::new);
                return Err(ResidentIdError::LegacyNumber { conversion });
            }
            return Err(ResidentIdError::Length { found });
        }
        let mut digits = [0u8; 18];
        for ((position, c), slot) in text.chars().enumerate().zip(digits.iter_mut()) {
            *slot = match c {
                '0'..='9' => c as u8,
                _ if position < 17 => {
                    return Err(ResidentIdError::NotADigit {
                        position: position + 1,
                        found: c,
                    });
                }
                'X' | 'x' => b'X',
                _ => return Err(ResidentIdError::CheckCharacterNotDigitOrX { found: c }),
            };
        }
        ResidentId::validate(digits, today)
    }

    /// Convert a 15-character legacy number (address 6 + YYMMDD meaning 19YYMMDD + sequence 3)
    /// to 18 characters (insert "19", compute the check character). The result is checked like
    /// [`ResidentId::parse`] (plausible address code, real birth date not after `today`).
    pub fn from_legacy(text: &str, today: Date) -> Result<ResidentId, ResidentIdError> {
        let found = text.chars().count();
        if found != 15 {
            return Err(ResidentIdError::LegacyLength { found });
        }
        if let Some((position, c)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(ResidentIdError::NotADigit {
                position: position + 1,
                found: c,
            });
        }
        // 15 ASCII digits, so 15 bytes.
        let legacy = text.as_bytes();
        let mut digits = [0u8; 18];
        digits[..6].copy_from_slice(&legacy[..6]);
        digits[6..8].copy_from_slice(b"19");
        digits[8..17].copy_from_slice(&legacy[6..15]);
        digits[17] = check_character(first17(&digits));
        ResidentId::validate(digits, today)
    }

    /// Build a valid number from parts (used by the synthetic generator): address code of 6
    /// digits with a plausible province, birth date (years 1000–9999), sequence 0..=999. The birth
    /// date is not compared with any "today": parsing the result later rejects it if in the future.
    pub fn build(
        address_code: &str,
        birth_date: Date,
        sequence: u16,
    ) -> Result<ResidentId, ResidentIdError> {
        let address = address_code.as_bytes();
        if address.len() != 6 || !address.iter().all(u8::is_ascii_digit) {
            return Err(ResidentIdError::AddressCodeFormat {
                found: address_code.to_owned(),
            });
        }
        plausible_address(address)?;
        let year = birth_date.year();
        if !(1000..=9999).contains(&year) {
            return Err(ResidentIdError::BirthYearOutOfRange { year });
        }
        if sequence > 999 {
            return Err(ResidentIdError::SequenceOutOfRange { sequence });
        }
        let mut digits = [0u8; 18];
        digits[..6].copy_from_slice(address);
        // Year, month and day are positive after the range check above.
        put_digits(&mut digits[6..10], year.unsigned_abs().into());
        put_digits(
            &mut digits[10..12],
            birth_date.month().unsigned_abs().into(),
        );
        put_digits(&mut digits[12..14], birth_date.day().unsigned_abs().into());
        put_digits(&mut digits[14..17], sequence.into());
        digits[17] = check_character(first17(&digits));
        Ok(ResidentId(digits))
    }

    /// Checks everything after the form: address code, birth date, check character.
    fn validate(digits: [u8; 18], today: Date) -> Result<ResidentId, ResidentIdError> {
        plausible_address(&digits[..6])?;
        let Some(birth_date) = encoded_birth_date(&digits) else {
            let digits = digits[6..14].iter().map(|&b| char::from(b)).collect();
            return Err(ResidentIdError::NotADate { digits });
        };
        if birth_date > today {
            return Err(ResidentIdError::BirthDateInFuture { birth_date, today });
        }
        let expected = check_character(first17(&digits));
        if digits[17] != expected {
            return Err(ResidentIdError::WrongCheckCharacter {
                expected: char::from(expected),
                found: char::from(digits[17]),
            });
        }
        Ok(ResidentId(digits))
    }

    /// The full number. Never log it; use [`ResidentId::masked`] for display.
    pub fn as_str(&self) -> &str {
        // ASCII by construction, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The address code (characters 1–6): where the number was first issued.
    pub fn address_code(&self) -> &str {
        std::str::from_utf8(&self.0[..6]).unwrap_or_default()
    }

    /// The birth date (characters 7–14).
    pub fn birth_date(&self) -> Date {
        // A real date by construction, so this never falls back.
        encoded_birth_date(&self.0).unwrap_or(Date::MIN)
    }

    /// The sequence (顺序码, characters 15–17).
    pub fn sequence(&self) -> u16 {
        // At most 999.
        u16::try_from(value(&self.0[14..17])).unwrap_or(0)
    }

    /// The sex encoded by the sequence: odd is male, even is female.
    pub fn sex(&self) -> Sex {
        if self.sequence() % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Masked for display: first 6 and last 4 visible, 8 stars between: "371302********123X".
    pub fn masked(&self) -> String {
        let visible = |bytes: &[u8]| bytes.iter().map(|&b| char::from(b)).collect::<String>();
        format!(
            "{}********{}",
            visible(&self.0[..6]),
            visible(&self.0[14..])
        )
    }

    /// Check the number agrees with a declared birth date and sex; the error names which
    /// disagrees (the birth date is checked first) and both values.
    pub fn check_agrees(&self, birth_date: Date, sex: Sex) -> Result<(), ResidentIdError> {
        let id_says = self.birth_date();
        if id_says != birth_date {
            return Err(ResidentIdError::BirthDateDisagrees {
                id_says,
                declared: birth_date,
            });
        }
        if self.sex() != sex {
            return Err(ResidentIdError::SexDisagrees {
                id_says: self.sex(),
                sequence: self.sequence(),
                declared: sex,
            });
        }
        Ok(())
    }
}

fn first17(digits: &[u8; 18]) -> &[u8; 17] {
    digits.first_chunk::<17>().unwrap_or(&[b'0'; 17])
}

impl fmt::Debug for ResidentId {
    /// Masked, so that a number never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID_NUMBERS_CSV: &str = include_str!("../testdata/id-numbers.csv");

    fn d(text: &str) -> Date {
        text.parse().expect("test date")
    }

    fn today() -> Date {
        d("2026-06-30")
    }

    fn sex(text: &str) -> Sex {
        match text {
            "male" => Sex::Male,
            "female" => Sex::Female,
            other => panic!("unknown sex {other:?} in id-numbers.csv"),
        }
    }

    struct Row<'a> {
        id_number: &'a str,
        kind: &'a str,
        birth_date: &'a str,
        sex: &'a str,
        note: &'a str,
    }

    fn rows() -> Vec<Row<'static>> {
        let mut lines = ID_NUMBERS_CSV.lines();
        assert_eq!(lines.next(), Some("id_number,kind,birth_date,sex,note"));
        lines
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let cols: Vec<&str> = line.splitn(5, ',').collect();
                let [id_number, kind, birth_date, sex, note] = cols[..] else {
                    panic!("bad row {line:?}");
                };
                Row {
                    id_number,
                    kind,
                    birth_date,
                    sex,
                    note,
                }
            })
            .collect()
    }

    /// The error an invalid row's note describes.
    fn expected_error(row: &Row<'_>) -> ResidentIdError {
        use ResidentIdError::*;
        let note = row.note;
        if note.starts_with("wrong check character (should be ") {
            let expected = note
                .chars()
                .nth(note.len() - 2)
                .expect("note names the character");
            let found = row.id_number.chars().last().expect("number");
            WrongCheckCharacter { expected, found }
        } else if let Some(date) = note.strip_prefix("impossible birth date ") {
            NotADate {
                digits: date.replace('-', ""),
            }
        } else if let Some(count) = note.strip_suffix(" characters") {
            Length {
                found: count.parse().expect("character count"),
            }
        } else if note.starts_with("letter O inside the digits") {
            let position = row.id_number.find('O').expect("letter O") + 1;
            NotADigit {
                position,
                found: 'O',
            }
        } else if let Some(rest) = note.strip_prefix("birth date in the future (") {
            let birth_date = d(rest.trim_end_matches(')'));
            BirthDateInFuture {
                birth_date,
                today: today(),
            }
        } else {
            panic!("no expectation for the note {note:?}: extend expected_error");
        }
    }

    #[test]
    fn every_shipped_test_number_parses_or_fails_as_its_note_says() {
        let rows = rows();
        assert!(rows.len() >= 15);
        for row in &rows {
            match row.kind {
                "valid" => {
                    let id = ResidentId::parse(row.id_number, today())
                        .unwrap_or_else(|e| panic!("{}: {e}", row.note));
                    assert_eq!(id.as_str(), row.id_number.to_uppercase(), "{}", row.note);
                    assert_eq!(id.check_agrees(d(row.birth_date), sex(row.sex)), Ok(()));
                    assert_eq!(id.birth_date(), d(row.birth_date));
                    assert_eq!(id.sex(), sex(row.sex));
                }
                "invalid" => {
                    assert_eq!(
                        ResidentId::parse(row.id_number, today()),
                        Err(expected_error(row)),
                        "{}",
                        row.note
                    );
                }
                "legacy15" => {
                    let to = row.note.rsplit(' ').next().expect("converted number");
                    let id = ResidentId::from_legacy(row.id_number, today())
                        .unwrap_or_else(|e| panic!("{}: {e}", row.note));
                    assert_eq!(id.as_str(), to);
                    assert_eq!(id.check_agrees(d(row.birth_date), sex(row.sex)), Ok(()));
                    let parsed = ResidentId::parse(row.id_number, today());
                    assert_eq!(
                        parsed,
                        Err(ResidentIdError::LegacyNumber { conversion: Ok(id) })
                    );
                }
                other => panic!("unknown kind {other:?}"),
            }
        }
    }

    #[test]
    fn check_character_matches_known_numbers() {
        assert_eq!(check_character(b"11010519491231002"), b'X');
        assert_eq!(check_character(b"37282219650312017"), b'3');
        assert_eq!(check_character(b"37283219680705024"), b'2');
        assert_eq!(check_character(b"37130219990101088"), b'5');
        assert_eq!(check_character(b"44052418800101001"), b'4');
        assert_eq!(check_character(b"00000000000000000"), b'1');
    }

    #[test]
    fn lower_case_x_is_stored_as_upper_case() {
        let id = ResidentId::parse("11010519491231002x", today()).expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id,
            ResidentId::parse("11010519491231002X", today()).expect("valid")
        );
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(
            ResidentId::parse("", today()),
            Err(ResidentIdError::Length { found: 0 })
        );
        assert_eq!(
            ResidentId::parse("３７２８２２１９６５０３１２０１７", today()),
            Err(ResidentIdError::Length { found: 17 })
        );
        // 18 characters, one of them full-width: named by position, not a length error.
        assert_eq!(
            ResidentId::parse("３72822196503120173", today()),
            Err(ResidentIdError::NotADigit {
                position: 1,
                found: '３'
            })
        );
    }

    #[test]
    fn fifteen_characters_with_a_letter_are_a_length_error_not_a_legacy_number() {
        assert_eq!(
            ResidentId::parse("37282265031201X", today()),
            Err(ResidentIdError::Length { found: 15 })
        );
    }

    #[test]
    fn legacy_number_that_cannot_convert_says_why() {
        let err = ResidentId::parse("372822650230017", today()).expect_err("bad date");
        assert_eq!(
            err,
            ResidentIdError::LegacyNumber {
                conversion: Err(Box::new(ResidentIdError::NotADate {
                    digits: "19650230".into()
                }))
            }
        );
        assert_eq!(
            err.to_string(),
            "this is a legacy 15-character number and cannot be converted: \
             birth date 19650230 is not a real date"
        );
        assert_eq!(
            ResidentId::from_legacy("3728226503120173", today()),
            Err(ResidentIdError::LegacyLength { found: 16 })
        );
        assert_eq!(
            ResidentId::from_legacy("3728226503a2017", today()),
            Err(ResidentIdError::NotADigit {
                position: 11,
                found: 'a'
            })
        );
    }

    #[test]
    fn last_character_must_be_a_digit_or_x() {
        assert_eq!(
            ResidentId::parse("37282219650312017Y", today()),
            Err(ResidentIdError::CheckCharacterNotDigitOrX { found: 'Y' })
        );
    }

    #[test]
    fn address_code_needs_a_province_of_china_but_not_a_current_linyi_code() {
        assert_eq!(
            ResidentId::parse("002822196503120173", today()),
            Err(ResidentIdError::ImplausibleAddressCode {
                code: "002822".into()
            })
        );
        assert_eq!(
            ResidentId::parse("992822196503120173", today()),
            Err(ResidentIdError::ImplausibleAddressCode {
                code: "992822".into()
            })
        );
        for code in [
            "110105", "372822", "650102", "710000", "810000", "820000", "152921",
        ] {
            let id = ResidentId::build(code, d("1965-03-12"), 17).expect("plausible");
            assert_eq!(ResidentId::parse(id.as_str(), today()), Ok(id), "{code}");
        }
        for prefix in [
            10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 83, 90,
        ] {
            let code = format!("{prefix}0101");
            assert!(
                ResidentId::build(&code, d("1965-03-12"), 17).is_err(),
                "{code}"
            );
        }
    }

    #[test]
    fn year_zero_is_not_a_real_date() {
        assert_eq!(
            ResidentId::parse("372822000001010173", today()),
            Err(ResidentIdError::NotADate {
                digits: "00000101".into()
            })
        );
    }

    #[test]
    fn birth_today_is_not_in_the_future() {
        let id = ResidentId::build("371302", today(), 1).expect("valid");
        assert_eq!(ResidentId::parse(id.as_str(), today()), Ok(id));
        let tomorrow = ResidentId::build("371302", d("2026-07-01"), 1).expect("valid");
        assert_eq!(
            ResidentId::parse(tomorrow.as_str(), today()),
            Err(ResidentIdError::BirthDateInFuture {
                birth_date: d("2026-07-01"),
                today: today()
            })
        );
    }

    #[test]
    fn build_rejects_parts_out_of_range() {
        use ResidentIdError::*;
        let birth = d("1965-03-12");
        assert_eq!(
            ResidentId::build("37132", birth, 1),
            Err(AddressCodeFormat {
                found: "37132".into()
            })
        );
        assert_eq!(
            ResidentId::build("37132a", birth, 1),
            Err(AddressCodeFormat {
                found: "37132a".into()
            })
        );
        assert_eq!(
            ResidentId::build("001321", birth, 1),
            Err(ImplausibleAddressCode {
                code: "001321".into()
            })
        );
        assert_eq!(
            ResidentId::build("371321", d("0999-12-31"), 1),
            Err(BirthYearOutOfRange { year: 999 })
        );
        assert_eq!(
            ResidentId::build("371321", birth, 1000),
            Err(SequenceOutOfRange { sequence: 1000 })
        );
        assert!(ResidentId::build("371321", d("1000-01-01"), 0).is_ok());
        assert!(ResidentId::build("371321", d("9999-12-31"), 999).is_ok());
    }

    #[test]
    fn build_then_parse_round_trips_its_parts() {
        let codes = ["371302", "372822", "372832", "110105", "820000"];
        let mut birth = d("1930-01-01");
        let mut n = 0u16;
        while birth < d("2026-06-30") {
            let code = codes[usize::from(n) % codes.len()];
            let sequence = (n * 37) % 1000;
            let id = ResidentId::build(code, birth, sequence).expect("valid parts");
            let parsed = ResidentId::parse(id.as_str(), today()).expect("round trip");
            assert_eq!(parsed, id);
            assert_eq!(parsed.address_code(), code);
            assert_eq!(parsed.birth_date(), birth);
            assert_eq!(parsed.sequence(), sequence);
            assert_eq!(
                parsed.sex(),
                if sequence % 2 == 1 {
                    Sex::Male
                } else {
                    Sex::Female
                }
            );
            birth = birth.checked_add(jiff::Span::new().days(97)).expect("date");
            n = n.wrapping_add(1);
        }
        assert!(n > 300);
    }

    #[test]
    fn odd_sequence_is_male_and_even_is_female() {
        let birth = d("1965-03-12");
        assert_eq!(
            ResidentId::build("372822", birth, 17).map(|id| id.sex()),
            Ok(Sex::Male)
        );
        assert_eq!(
            ResidentId::build("372822", birth, 24).map(|id| id.sex()),
            Ok(Sex::Female)
        );
        assert_eq!(
            ResidentId::build("372822", birth, 0).map(|id| id.sex()),
            Ok(Sex::Female)
        );
    }

    #[test]
    fn masking_shows_only_address_code_and_last_four() {
        let id = ResidentId::parse("37131119960415001x", today()).expect("valid");
        assert_eq!(id.masked(), "371311********001X");
        assert_eq!(format!("{id:?}"), "ResidentId(371311********001X)");
        let legacy = ResidentId::parse("372822650312017", today()).expect_err("legacy");
        assert!(
            !format!("{legacy:?}").contains("19650312"),
            "Debug of errors masks too"
        );
    }

    #[test]
    fn disagreement_names_the_field_and_both_values() {
        let id = ResidentId::parse("372822196503120173", today()).expect("valid");
        let err = id
            .check_agrees(d("1965-03-13"), Sex::Male)
            .expect_err("date differs");
        assert_eq!(
            err,
            ResidentIdError::BirthDateDisagrees {
                id_says: d("1965-03-12"),
                declared: d("1965-03-13")
            }
        );
        assert_eq!(
            err.to_string(),
            "birth date disagrees: the ID number says 1965-03-12, declared 1965-03-13"
        );
        let err = id
            .check_agrees(d("1965-03-12"), Sex::Female)
            .expect_err("sex differs");
        assert_eq!(
            err,
            ResidentIdError::SexDisagrees {
                id_says: Sex::Male,
                sequence: 17,
                declared: Sex::Female
            }
        );
        assert_eq!(
            err.to_string(),
            "sex disagrees: the ID number says male because sequence 017 is odd, declared female"
        );
        assert_eq!(
            err.zh(),
            "性别不一致：号码为男（顺序码 017 为奇数），申报为女"
        );
    }

    #[test]
    fn messages_say_what_is_wrong_in_english_and_chinese() {
        let cases = [
            (
                "372822196503120174",
                "check character is 4 but should be 3",
                "校验位错误：应为 3，实为 4",
            ),
            (
                "372822196502300173",
                "birth date 19650230 is not a real date",
                "出生日期 19650230 不是有效日期",
            ),
            (
                "37282219650312017",
                "18 characters expected, found 17",
                "应为 18 位，实为 17 位",
            ),
            (
                "372822196O03120173",
                "character 10 is 'O', expected a digit",
                "第 10 位是「O」，应为数字",
            ),
            (
                "37282219650312017*",
                "character 18 (the check character) is '*', expected a digit or X",
                "第 18 位（校验位）是「*」，应为数字或 X",
            ),
            (
                "012822196503120173",
                "address code 012822 is not plausible: 01 is not a province-level code of China",
                "地址码 012822 不合理：01 不是省级行政区划代码",
            ),
            (
                "372822210001010175",
                "birth date 2100-01-01 is in the future (today is 2026-06-30)",
                "出生日期 2100-01-01 晚于今天（2026-06-30）",
            ),
            (
                "372822650312017",
                "this is a legacy 15-character number; enter its 18-character form 372822196503120173",
                "这是 15 位旧号码，请改填 18 位号码 372822196503120173",
            ),
        ];
        for (text, en, zh) in cases {
            let err = ResidentId::parse(text, today()).expect_err(text);
            assert_eq!(err.to_string(), en, "{text}");
            assert_eq!(err.zh(), zh, "{text}");
        }
    }

    fn valid_id() -> impl Strategy<Value = ResidentId> {
        let code = prop::sample::select(vec!["371302", "371329", "372822", "372831", "110105"]);
        (code, 1900i16..=2026, 1i8..=12, 1i8..=28, 0u16..=999).prop_map(|(code, y, m, day, seq)| {
            let birth = Date::new(y, m, day).expect("day 1-28 exists");
            ResidentId::build(code, birth, seq).expect("valid parts")
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
            let _ = ResidentId::parse(&text, today());
            let _ = ResidentId::from_legacy(&text, today());
        }

        #[test]
        fn parse_never_panics_on_digit_like_text(text in "[0-9xX３O ]{0,20}") {
            if let Err(err) = ResidentId::parse(&text, today()) {
                let _ = (err.to_string(), err.zh());
            }
        }

        #[test]
        fn any_single_changed_digit_is_rejected(
            id in valid_id(),
            position in 0usize..18,
            delta in 1u8..=9,
        ) {
            let mut bytes = *id.as_str().as_bytes().first_chunk::<18>().expect("18 bytes");
            let old = if bytes[position] == b'X' { 10 } else { bytes[position] - b'0' };
            bytes[position] = b'0' + (old + delta) % 10;
            let text = String::from_utf8(bytes.to_vec()).expect("ascii");
            prop_assert!(ResidentId::parse(&text, d("2026-12-31")).is_err(), "{text} accepted");
        }

        #[test]
        fn a_parsed_number_reports_what_it_was_built_from(id in valid_id()) {
            let parsed = ResidentId::parse(id.as_str(), d("2026-12-31"));
            prop_assert_eq!(parsed, Ok(id));
            prop_assert_eq!(id.check_agrees(id.birth_date(), id.sex()), Ok(()));
        }
    }
}
