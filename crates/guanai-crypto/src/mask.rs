//! Display masking: personal data is masked by default on screen, in lists
//! and in public notices (公示), and shown in full only on request.
//!
//! All functions count characters, not bytes, so full-width digits and
//! Chinese names are masked correctly; they never reveal more than half of a
//! short value.

/// Mask a phone number: a mobile number (11 characters) keeps its first 3
/// and last 4 — `"13812345678"` → `"138****5678"`; any other length keeps at
/// most the first 3 and last 2 characters, never more than a third each.
/// Spaces and `-` are dropped first (`"010-12345678"` → `"010****5678"`).
#[must_use]
pub fn phone(s: &str) -> String {
    let chars = compact(s);
    let n = chars.len();
    let (head, tail) = if n == 11 {
        (3, 4)
    } else {
        ((n / 3).min(3), (n / 3).min(2))
    };
    keep_ends(&chars, head, tail)
}

/// Mask a bank card or account number: the first 4 and last 4 digits stay
/// visible, in groups of four — `"6222021234567890123"` →
/// `"6222 **** **** 0123"`. The middle is always `**** ****`, so the mask
/// does not reveal the length. Numbers shorter than 12 characters keep at
/// most a quarter at each end. Spaces and `-` are dropped first.
#[must_use]
pub fn bank_account(s: &str) -> String {
    let chars = compact(s);
    let n = chars.len();
    if n >= 12 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head} **** **** {tail}")
    } else {
        let keep = (n / 4).min(4);
        keep_ends(&chars, keep, keep)
    }
}

/// Mask a person's name for public notices: the first character (usually
/// the surname) stays, every other character becomes `*` — `"张三"` →
/// `"张*"`, `"欧阳小明"` → `"欧***"`. Surrounding whitespace is dropped.
#[must_use]
pub fn name(s: &str) -> String {
    let mut chars = s.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    std::iter::once(first).chain(chars.map(|_| '*')).collect()
}

/// The characters of `s` without spaces and dashes.
fn compact(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// The first `head` and last `tail` characters, `*` for each one between.
fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i + tail >= n { *c } else { '*' })
        .collect()
}
