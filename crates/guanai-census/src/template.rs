//! The empty census template (.xlsx): sheet 普查 with the header in row 1, a one-line comment per
//! column in row 2 (skipped by the reader: its 家庭编号 cell starts with 「说明」), data from
//! row 3. Required headers are red. Long numbers are text-formatted so Excel keeps every digit,
//! and lists, grades and dates are checked by Excel's data validation as the office types.

use std::path::Path;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, ExcelDateTime, Format, FormatAlign, FormatBorder,
    Workbook, XlsxError,
};

use crate::columns::{COLUMNS, COMMENT_MARK, Column, Kind, PREFERRED_SHEET};
use crate::error::CensusError;

/// The last worksheet row (0-based) the validations cover: all of them.
const LAST_ROW: u32 = 1_048_575;

/// Row 2 (0-based 1): the comments.
const COMMENT_ROW: u32 = 1;

/// The first data row (0-based 2), i.e. Excel row 3.
const FIRST_DATA_ROW: u32 = 2;

/// Writes the empty template to `path` (an .xlsx file).
pub fn write_template(path: &Path) -> Result<(), CensusError> {
    build(path).map_err(|e| CensusError::Write {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

fn validation(column: &Column) -> Result<DataValidation, XlsxError> {
    let base = DataValidation::new();
    let v = match column.kind {
        Kind::List(words) => base
            .allow_list_strings(words)?
            .set_error_title("输入有误")?
            .set_error_message(format!("请从下拉列表中选择：{}", words.join("、")))?,
        Kind::WholeNumber(low, high) => base
            .allow_whole_number(DataValidationRule::Between(low, high))
            .set_error_title("输入有误")?
            .set_error_message(format!("请填写 {low}–{high} 的整数"))?,
        Kind::Date => base
            .allow_date(DataValidationRule::Between(
                ExcelDateTime::from_ymd(1900, 1, 1)?,
                ExcelDateTime::from_ymd(2099, 12, 31)?,
            ))
            .set_error_title("输入有误")?
            .set_error_message("请填写日期，如 1965-03-12")?,
        Kind::Text | Kind::LongNumber => base.allow_any_value(),
    };
    let message = column
        .comment
        .strip_prefix(COMMENT_MARK)
        .and_then(|rest| rest.split_once('：').map(|(_, m)| m))
        .unwrap_or(column.comment);
    v.set_input_title(column.header)?.set_input_message(message)
}

fn build(path: &Path) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(PREFERRED_SHEET)?;

    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_num_format("@");
    let required_header = header.clone().set_font_color(Color::RGB(0xC00000));
    let note = Format::new()
        .set_italic()
        .set_font_size(9)
        .set_font_color(Color::RGB(0x595959))
        .set_background_color(Color::RGB(0xFFF2CC))
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_num_format("@");
    let text = Format::new().set_num_format("@");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let general = Format::new();

    for (i, column) in COLUMNS.iter().enumerate() {
        let col = u16::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)?;
        sheet.set_column_width(col, column.width)?;
        let format = match column.kind {
            Kind::Date => &date,
            Kind::WholeNumber(..) => &general,
            Kind::Text | Kind::LongNumber | Kind::List(_) => &text,
        };
        sheet.set_column_format(col, format)?;
        let head = if column.required {
            &required_header
        } else {
            &header
        };
        sheet.write_string_with_format(0, col, column.header, head)?;
        sheet.write_string_with_format(COMMENT_ROW, col, column.comment, &note)?;
        sheet.add_data_validation(FIRST_DATA_ROW, col, LAST_ROW, col, &validation(column)?)?;
    }
    sheet.set_row_height(0, 22)?;
    sheet.set_row_height(COMMENT_ROW, 60)?;
    sheet.set_freeze_panes(FIRST_DATA_ROW, 0)?;
    workbook.save(path)
}
