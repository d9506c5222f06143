//! Checks of what a caseworker typed, shared by the casework modules: free text required and
//! of bounded length, dates not in the future. Refusals name the field.

use jiff::civil::Date;

use crate::error::StoreError;

/// `value` is given when `required`, and at most `max` characters.
pub(crate) fn text(field: &str, value: &str, required: bool, max: usize) -> Result<(), StoreError> {
    if required && value.trim().is_empty() {
        return Err(StoreError::invalid(field, "必填 / required"));
    }
    if value.chars().count() > max {
        return Err(StoreError::invalid(
            field,
            format!("不能超过 {max} 字 / at most {max} characters"),
        ));
    }
    Ok(())
}

/// `date` is not after `today`.
pub(crate) fn not_future(field: &str, date: Date, today: Date) -> Result<(), StoreError> {
    if date > today {
        return Err(StoreError::invalid(
            field,
            format!("{date} 在今天（{today}）之后 / cannot be in the future"),
        ));
    }
    Ok(())
}
