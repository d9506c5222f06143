//! The census sheet's columns: header text, whether the column must exist, the template's
//! comment and width, and the kind of value it holds. The reader and the template both read this
//! one table, so a header renamed here is renamed everywhere.
//!
//! A [`Schema`] names such a table together with the header that marks the header row, so that
//! the row sources can read other sheets too (the death list of [`crate::death_list`]).

/// The kind of value a column holds; drives the template's cell format and data validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Free text.
    Text,
    /// Digits that Excel must keep as text (ID, account, phone and area numbers).
    LongNumber,
    /// One of a fixed list of words.
    List(&'static [&'static str]),
    /// A calendar date.
    Date,
    /// A whole number in a range.
    WholeNumber(i32, i32),
}

/// One column of the census sheet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// The header text (matched after trimming whitespace, incl. full-width spaces).
    pub header: &'static str,
    /// Other headers offices write for the same column (e.g. 身份证号 for 公民身份号码).
    pub aliases: &'static [&'static str],
    /// A file without this column is rejected as a whole.
    pub required: bool,
    pub kind: Kind,
    /// The template's one-line instruction (row 2).
    pub comment: &'static str,
    /// The template's column width in characters.
    pub width: f64,
}

impl Column {
    /// Whether a (trimmed) header cell names this column.
    pub fn matches(&self, text: &str) -> bool {
        self.header == text || self.aliases.contains(&text)
    }
}

/// Headers that other offices' sheets use for the resident ID number.
pub(crate) const ID_ALIASES: &[&str] =
    &["身份证号", "身份证号码", "公民身份证号码", "居民身份证号码"];

/// The columns of one kind of sheet, and how its header row and worksheet are found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schema {
    /// Every column, in template order; a raw row's cells follow this order.
    pub columns: &'static [Column],
    /// The header that marks the header row: the first row, among the first
    /// [`crate::csv_source::HEADER_SEARCH_ROWS`] non-blank ones, with a cell equal to it.
    pub anchor: &'static str,
    /// The worksheet read first when a workbook has it; otherwise the first sheet whose header
    /// row has every required column.
    pub preferred_sheet: Option<&'static str>,
}

impl Schema {
    /// Whether a header cell marks the header row: the anchor column's header or an alias.
    pub fn is_anchor(&self, cell: &str) -> bool {
        let cell = trim_cell(cell);
        self.columns
            .iter()
            .find(|c| c.header == self.anchor)
            .map_or(cell == self.anchor, |c| c.matches(cell))
    }
}

/// The census worksheet's name, read first when a workbook has it and written by the template.
pub(crate) const PREFERRED_SHEET: &str = "普查";

/// The census sheet: [`COLUMNS`], header row marked by 家庭编号, worksheet 普查 preferred.
pub(crate) const CENSUS: Schema = Schema {
    columns: &COLUMNS,
    anchor: COLUMNS[Col::FamilyNo as usize].header,
    preferred_sheet: Some(PREFERRED_SHEET),
};

// `RawRow::numeric` has one bit per column.
const _: () = assert!(COLUMNS.len() <= 32);

/// Index of each column in [`COLUMNS`] and in every raw row's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    FamilyNo,
    Relation,
    Name,
    Sex,
    IdNumber,
    BirthDate,
    Hukou,
    Village,
    Phone,
    BankName,
    BankAccount,
    Dibao,
    Wubao,
    ChronicallyIll,
    Living,
    HonorCertificate,
    DeathDate,
    DeathCertificate,
    LaterChildDate,
    DisabilityGrade,
    DisabilityDate,
    DisabilityCertificate,
    Note,
}

impl Col {
    /// The Chinese header, used to name the column in errors.
    pub fn header(self) -> &'static str {
        COLUMNS[self as usize].header
    }
}

const YES_NO: &[&str] = &["是", "否"];

/// The prefix that marks the template's comment row; see [`crate::reader`] for the rule.
pub(crate) const COMMENT_MARK: &str = "说明";

/// Every column, in template order; `COLUMNS[c as usize]` describes `Col` `c`.
pub(crate) const COLUMNS: [Column; 23] = [
    Column {
        header: "家庭编号",
        aliases: &[],
        required: true,
        kind: Kind::Text,
        comment: "说明（本行不导入）：必填；同一家庭各行填相同编号，且各行相邻",
        width: 16.0,
    },
    Column {
        header: "成员关系",
        aliases: &[],
        required: true,
        kind: Kind::List(&["母亲", "父亲", "子女", "监护人"]),
        comment: "必填：母亲/父亲/子女/监护人；每户有且只有一行子女",
        width: 12.0,
    },
    Column {
        header: "姓名",
        aliases: &[],
        required: true,
        kind: Kind::Text,
        comment: "必填",
        width: 10.0,
    },
    Column {
        header: "性别",
        aliases: &[],
        required: true,
        kind: Kind::List(&["男", "女"]),
        comment: "必填：男/女；母亲为女，父亲为男",
        width: 8.0,
    },
    Column {
        header: "公民身份号码",
        aliases: ID_ALIASES,
        required: true,
        kind: Kind::LongNumber,
        comment: "18 位（15 位旧号自动转换）；母亲、父亲、监护人必填，子女可空",
        width: 22.0,
    },
    Column {
        header: "出生日期",
        aliases: &[],
        required: true,
        kind: Kind::Date,
        comment: "必填：如 1965-03-12，须与身份号码一致",
        width: 13.0,
    },
    Column {
        header: "户籍性质",
        aliases: &[],
        required: true,
        kind: Kind::List(&["城镇", "农村"]),
        comment: "必填：城镇/农村；全家一致",
        width: 10.0,
    },
    Column {
        header: "所在村居代码",
        aliases: &["村居代码", "村（居）代码"],
        required: true,
        kind: Kind::LongNumber,
        comment: "必填：12 位统计用村居代码；全家一致",
        width: 16.0,
    },
    Column {
        header: "联系电话",
        aliases: &["电话", "手机号码"],
        required: false,
        kind: Kind::LongNumber,
        comment: "选填：手机或座机，7–15 位数字",
        width: 15.0,
    },
    Column {
        header: "开户银行",
        aliases: &[],
        required: false,
        kind: Kind::Text,
        comment: "选填：如 临沂农商银行某某支行",
        width: 20.0,
    },
    Column {
        header: "银行账号",
        aliases: &["账号", "银行卡号"],
        required: false,
        kind: Kind::LongNumber,
        comment: "选填：10–30 位数字",
        width: 24.0,
    },
    Column {
        header: "低保",
        aliases: &[],
        required: false,
        kind: Kind::List(YES_NO),
        comment: "是/否，空白为否",
        width: 7.0,
    },
    Column {
        header: "五保",
        aliases: &[],
        required: false,
        kind: Kind::List(YES_NO),
        comment: "是/否，空白为否",
        width: 7.0,
    },
    Column {
        header: "慢性病",
        aliases: &[],
        required: false,
        kind: Kind::List(YES_NO),
        comment: "是/否，空白为否",
        width: 8.0,
    },
    Column {
        header: "居住状况",
        aliases: &[],
        required: false,
        kind: Kind::Text,
        comment: "选填：如 独居/与配偶同住/养老机构",
        width: 16.0,
    },
    Column {
        header: "独生子女父母光荣证号",
        aliases: &[],
        required: false,
        kind: Kind::Text,
        comment: "选填",
        width: 20.0,
    },
    Column {
        header: "死亡日期",
        aliases: &[],
        required: false,
        kind: Kind::Date,
        comment: "已去世者填写，如 2012-05-01",
        width: 13.0,
    },
    Column {
        header: "死亡证明编号",
        aliases: &[],
        required: false,
        kind: Kind::Text,
        comment: "已去世者填写",
        width: 16.0,
    },
    Column {
        header: "再生育或收养日期",
        aliases: &[],
        required: false,
        kind: Kind::Date,
        comment: "仅母亲/父亲行：再生育或收养子女的日期",
        width: 16.0,
    },
    Column {
        header: "残疾等级",
        aliases: &[],
        required: false,
        kind: Kind::WholeNumber(1, 4),
        comment: "仅子女行：1–4（1 级最重）",
        width: 10.0,
    },
    Column {
        header: "残疾评定日期",
        aliases: &[],
        required: false,
        kind: Kind::Date,
        comment: "仅子女行：填了残疾等级则必填",
        width: 13.0,
    },
    Column {
        header: "残疾证号",
        aliases: &[],
        required: false,
        kind: Kind::Text,
        comment: "仅子女行，选填",
        width: 22.0,
    },
    Column {
        header: "备注",
        aliases: &[],
        required: false,
        kind: Kind::Text,
        comment: "选填",
        width: 24.0,
    },
];

/// Trims ASCII and Unicode whitespace (incl. the full-width space U+3000) and a stray BOM.
pub(crate) fn trim_cell(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Where each known column sits in a file: `slots[c]` is the file column of the schema's
/// column `c` (for the census, `Col` `c`).
#[derive(Debug, Clone)]
pub(crate) struct ColumnMap {
    pub slots: Vec<Option<usize>>,
}

/// Why a header row cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// Required headers absent, in template order.
    Missing(Vec<String>),
    /// A known header appears in more than one column.
    Duplicate(String),
}

impl ColumnMap {
    /// Maps a header row (file order) to the schema's columns; extra headers are ignored.
    pub fn from_headers<'a>(
        schema: &Schema,
        headers: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> Result<ColumnMap, HeaderProblem> {
        let mut slots = vec![None; schema.columns.len()];
        for (file_col, text) in headers {
            let text = trim_cell(text);
            if let Some(slot) = schema
                .columns
                .iter()
                .position(|c| c.matches(text))
                .and_then(|i| slots.get_mut(i))
            {
                if slot.is_some() {
                    return Err(HeaderProblem::Duplicate(text.to_owned()));
                }
                *slot = Some(file_col);
            }
        }
        let missing: Vec<String> = schema
            .columns
            .iter()
            .zip(&slots)
            .filter(|(c, slot)| c.required && slot.is_none())
            .map(|(c, _)| c.header.to_owned())
            .collect();
        if missing.is_empty() {
            Ok(ColumnMap { slots })
        } else {
            Err(HeaderProblem::Missing(missing))
        }
    }

    /// The inverse map for a row source: for each file column, the known column it holds.
    pub fn by_file_column(&self) -> Vec<Option<usize>> {
        let width = self.slots.iter().flatten().max().map_or(0, |&m| m + 1);
        let mut inverse = vec![None; width];
        for (col, slot) in self.slots.iter().enumerate() {
            if let Some(&file_col) = slot.as_ref()
                && let Some(entry) = inverse.get_mut(file_col)
            {
                *entry = Some(col);
            }
        }
        inverse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_offices_headers_name_the_same_columns() {
        let headers = [
            (0, "家庭编号"),
            (1, "身份证号"),
            (2, "村居代码"),
            (3, "手机号码"),
        ];
        let map =
            ColumnMap::from_headers(&CENSUS, headers).expect_err("still missing required columns");
        let HeaderProblem::Missing(missing) = map else {
            panic!("expected missing columns")
        };
        assert!(
            !missing
                .iter()
                .any(|m| m == "公民身份号码" || m == "所在村居代码"),
            "{missing:?}"
        );
        assert!(CENSUS.is_anchor(" 家庭编号 "));
        assert!(
            !CENSUS.is_anchor("身份证号"),
            "the census header row is marked by 家庭编号 only"
        );
    }

    #[test]
    fn the_table_is_indexed_by_col() {
        assert_eq!(Col::FamilyNo.header(), "家庭编号");
        assert_eq!(Col::Village.header(), "所在村居代码");
        assert_eq!(Col::LaterChildDate.header(), "再生育或收养日期");
        assert_eq!(Col::Note.header(), "备注");
        assert!(COLUMNS[0].comment.starts_with(COMMENT_MARK));
        assert_eq!(CENSUS.anchor, "家庭编号");
    }

    #[test]
    fn headers_match_after_trimming_full_width_spaces() {
        let headers: Vec<String> = COLUMNS
            .iter()
            .map(|c| format!("\u{3000} {}\u{3000}", c.header))
            .collect();
        let map = ColumnMap::from_headers(&CENSUS, headers.iter().map(String::as_str).enumerate());
        assert!(map.is_ok());
    }

    #[test]
    fn missing_required_headers_are_listed_in_template_order() {
        let map = ColumnMap::from_headers(&CENSUS, [(0, "姓名"), (1, "备注"), (2, "家庭编号")]);
        assert_eq!(
            map.map(|_| ()),
            Err(HeaderProblem::Missing(vec![
                "成员关系".into(),
                "性别".into(),
                "公民身份号码".into(),
                "出生日期".into(),
                "户籍性质".into(),
                "所在村居代码".into(),
            ]))
        );
    }
}
