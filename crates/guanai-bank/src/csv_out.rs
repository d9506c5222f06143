//! The 代发 file as CSV, for banks whose systems take CSV. The exact layout:
//!
//! ```text
//! <UTF-8 BOM>序号,业务参考号,户名,账号,开户行,金额(元),身份证号,摘要<CRLF>
//! 1,R2026120001-000001,张桂英,6228480012345678901,中国农业银行临沂兰山支行,1200.00,371302196403150021,2026年12月计划生育特别扶助金<CRLF>
//! ...one row per transfer, 序号 counting from 1...
//! 合计,,,,,<total>,,<N>笔<CRLF>
//! ```
//!
//! UTF-8 with a BOM (so that Excel opens it as UTF-8), CRLF line ends, fields quoted only when
//! they hold a comma, a quote or a line break (quotes doubled). Amounts have exactly 2
//! decimals, without grouping; accounts are written without spaces. There is no title row: the
//! header is the first line. Excel shows long digit strings (账号, 身份证号) of a CSV in
//! scientific notation and loses digits when it saves: people should open the XLSX instead.

use std::io::Write;

use crate::batch::Batch;
use crate::columns::{
    AMOUNT_COLUMN, HEADERS, MEMO_COLUMN, TOTAL_LABEL, count_text, transfer_cells,
};
use crate::error::BankError;

/// Writes the batch as CSV (see the module documentation for the layout), after
/// [`Batch::check`].
pub fn write_csv(batch: &Batch, out: &mut dyn Write) -> Result<(), BankError> {
    batch.check()?;
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(HEADERS)?;
    for (i, t) in batch.transfers.iter().enumerate() {
        writer.write_record(transfer_cells(i + 1, t))?;
    }
    let mut totals: [String; 8] = Default::default();
    totals[0] = TOTAL_LABEL.to_owned();
    totals[AMOUNT_COLUMN] = batch.total().to_string();
    totals[MEMO_COLUMN] = count_text(batch.count());
    writer.write_record(&totals)?;
    writer.flush()?;
    Ok(())
}
