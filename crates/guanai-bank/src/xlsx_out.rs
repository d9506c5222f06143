//! The 代发 file as XLSX, for banks that take spreadsheets and for people to read and print.
//!
//! One sheet, 代发清单:
//! - row 1: the batch's title, merged across the 8 columns;
//! - row 2: `付款单位：…` (A–C merged), `付款账号：…` (D–E), `执行日期：YYYY-MM-DD` (F–G),
//!   `生成时间：YYYY-MM-DD HH:MM:SS` (H);
//! - row 3: the header (bold): 序号, 业务参考号, 户名, 账号, 开户行, 金额(元), 身份证号, 摘要;
//! - one row per transfer: 序号 a number, 金额(元) a number formatted `0.00`, every other cell
//!   text (账号 and 身份证号 too, so that Excel never shows them in scientific notation);
//! - the totals row: 合计 in A, the total in F (a number, `0.00`), `N笔` in H.
//!
//! The panes are frozen below the header, which is repeated on every printed page.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use crate::batch::{Batch, normalize_account};
use crate::columns::{AMOUNT_COLUMN, HEADERS, MEMO_COLUMN, TOTAL_LABEL, count_text};
use crate::error::BankError;

/// The sheet's name.
pub(crate) const SHEET: &str = "代发清单";

/// Column widths, in [`HEADERS`] order.
const WIDTHS: [f64; 8] = [6.0, 22.0, 12.0, 24.0, 28.0, 14.0, 21.0, 32.0];

const TITLE_ROW: u32 = 0;
const INFO_ROW: u32 = 1;
const HEADER_ROW: u32 = 2;
const FIRST_LINE_ROW: u32 = 3;

/// The cell value of an amount. Excel needs a number; this is the only place money becomes
/// floating point, computed from the integer fen.
fn yuan_cell(fen: guanai_rules::Fen) -> f64 {
    fen.get() as f64 / 100.0
}

/// Writes the batch as an XLSX workbook (see the module documentation for the layout), after
/// [`Batch::check`].
pub fn write_xlsx(batch: &Batch) -> Result<Vec<u8>, BankError> {
    batch.check()?;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET)?;

    let title = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let info = Format::new().set_num_format("@");
    let header = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin)
        .set_background_color("#D9E1F2");
    let text = Format::new()
        .set_num_format("@")
        .set_border(FormatBorder::Thin);
    let number = Format::new().set_border(FormatBorder::Thin);
    let money = Format::new()
        .set_num_format("0.00")
        .set_border(FormatBorder::Thin);
    let total_text = text.clone().set_bold();
    let total_money = money.clone().set_bold();

    let last_col = (HEADERS.len() - 1) as u16;
    sheet.set_row_height(TITLE_ROW, 24)?;
    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, &batch.title, &title)?;

    let created = batch.created_at;
    let info_cells = [
        (0, 2, format!("付款单位：{}", batch.payer.name)),
        (
            3,
            4,
            format!("付款账号：{}", normalize_account(&batch.payer.account)),
        ),
        (5, 6, format!("执行日期：{}", batch.execution_date)),
        (
            7,
            7,
            format!(
                "生成时间：{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                created.year(),
                created.month(),
                created.day(),
                created.hour(),
                created.minute(),
                created.second()
            ),
        ),
    ];
    for (first, last, value) in &info_cells {
        if first == last {
            sheet.write_string_with_format(INFO_ROW, *first, value, &info)?;
        } else {
            sheet.merge_range(INFO_ROW, *first, INFO_ROW, *last, value, &info)?;
        }
    }

    for (col, (name, width)) in HEADERS.iter().zip(WIDTHS).enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, width)?;
        sheet.write_string_with_format(HEADER_ROW, col, *name, &header)?;
    }

    let mut row = FIRST_LINE_ROW;
    for (i, t) in batch.transfers.iter().enumerate() {
        sheet.write_number_with_format(row, 0, (i + 1) as f64, &number)?;
        sheet.write_string_with_format(row, 1, &t.reference, &text)?;
        sheet.write_string_with_format(row, 2, &t.name, &text)?;
        sheet.write_string_with_format(row, 3, normalize_account(&t.account), &text)?;
        sheet.write_string_with_format(row, 4, &t.bank, &text)?;
        sheet.write_number_with_format(row, AMOUNT_COLUMN as u16, yuan_cell(t.amount), &money)?;
        sheet.write_string_with_format(row, 6, &t.id_number, &text)?;
        sheet.write_string_with_format(row, MEMO_COLUMN as u16, &t.memo, &text)?;
        row += 1;
    }

    for col in 0..=last_col {
        sheet.write_blank(row, col, &total_text)?;
    }
    sheet.write_string_with_format(row, 0, TOTAL_LABEL, &total_text)?;
    sheet.write_number_with_format(
        row,
        AMOUNT_COLUMN as u16,
        yuan_cell(batch.total()),
        &total_money,
    )?;
    sheet.write_string_with_format(
        row,
        MEMO_COLUMN as u16,
        count_text(batch.count()),
        &total_text,
    )?;

    sheet.set_freeze_panes(FIRST_LINE_ROW, 0)?;
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    Ok(workbook.save_to_buffer()?)
}
