//! The crate's one error type, [`BankError`]: what is wrong with a batch before it is written,
//! what went wrong writing it, and where a return file breaks the rules (by row and column for
//! CSV/XLSX, by transaction and element for pain.002).

/// Everything that can go wrong in this crate. Messages are in English and name the place (row
/// and column, with the column's Chinese name) and the problem.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    /// [`Batch::check`](crate::Batch::check): a batch must pay someone.
    #[error("the batch has no transfers")]
    EmptyBatch,

    /// [`Batch::check`](crate::Batch::check): a field of the batch itself (批次号, 付款单位, ...).
    #[error("batch, {field}: {problem}")]
    BatchField {
        field: &'static str,
        problem: String,
    },

    /// [`Batch::check`](crate::Batch::check): a field of one transfer; `number` is its 序号
    /// (1-based position in the batch).
    #[error("transfer {number}, {column}: {problem}")]
    Transfer {
        number: usize,
        column: &'static str,
        problem: String,
    },

    /// A cell of a CSV/XLSX return file; `row` is the row Excel shows, `column` the header as
    /// the file spells it.
    #[error("row {row}, {column}: {problem}")]
    Cell {
        row: usize,
        column: String,
        problem: String,
    },

    /// The header row of a CSV/XLSX return file lacks required columns.
    #[error("row {row}: the header lacks the column(s) {}", .missing.join(", "))]
    MissingColumns {
        row: usize,
        missing: Vec<&'static str>,
    },

    /// One `TxInfAndSts` of a pain.002 return file; `number` counts them from 1 in document
    /// order.
    #[error("transaction {number}, {element}: {problem}")]
    Transaction {
        number: usize,
        element: &'static str,
        problem: String,
    },

    /// A return file as a whole: empty, of an unknown or unreadable format, without a header or
    /// without lines.
    #[error("{file}: {problem}")]
    File { file: String, problem: String },

    /// Writing failed in the output stream.
    #[error("writing the file failed: {0}")]
    Io(#[from] std::io::Error),

    /// The CSV writer failed (in practice: the output stream).
    #[error("writing the CSV file failed: {0}")]
    Csv(#[from] csv::Error),

    /// The XLSX writer failed.
    #[error("writing the XLSX file failed: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}
