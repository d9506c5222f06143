//! What a valid census row and family are: [`CensusPerson`] (one row) and [`CensusFamily`]
//! (the contiguous rows sharing a 家庭编号), as yielded by [`crate::CensusReader`].

use std::fmt;

use guanai_rules::{CountyCode, Disability, Hukou, ResidentId, Sex, VillageCode};
use jiff::civil::Date;

pub use guanai_rules::Relation;

/// One valid row: a member of a census family. Optional columns that are blank or absent are
/// `None` (or `false` for 低保/五保/慢性病).
///
/// `Debug` leaves out the name, phone, bank account and certificate numbers, and masks the ID
/// number, so that a person never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct CensusPerson {
    /// The row number as Excel shows it.
    pub row: usize,
    pub relation: Relation,
    /// 姓名.
    pub name: String,
    /// 性别.
    pub sex: Sex,
    /// 公民身份号码; always present for parents and guardians. A 15-character legacy number in
    /// the file is stored converted to 18 characters.
    pub id_number: Option<ResidentId>,
    /// 出生日期; agrees with `id_number` when both are given.
    pub birth_date: Date,
    /// 联系电话, digits only (a leading +86, spaces and hyphens removed).
    pub phone: Option<String>,
    /// 开户银行.
    pub bank_name: Option<String>,
    /// 银行账号, digits only (spaces removed).
    pub bank_account: Option<String>,
    /// 低保 (minimum living guarantee).
    pub dibao: bool,
    /// 五保.
    pub wubao: bool,
    /// 慢性病.
    pub chronically_ill: bool,
    /// 居住状况, free text (独居, 与配偶同住, 养老机构 …).
    pub living_situation: Option<String>,
    /// 独生子女父母光荣证号.
    pub honor_certificate_no: Option<String>,
    /// 死亡日期: not before the birth date, not after the reading date.
    pub death_date: Option<Date>,
    /// 死亡证明编号.
    pub death_certificate_no: Option<String>,
    /// 再生育或收养日期: only ever set on a mother or father.
    pub later_child_date: Option<Date>,
    /// 残疾等级 and 残疾评定日期: only ever set on the child.
    pub disability: Option<Disability>,
    /// 残疾证号: only ever set on the child.
    pub disability_certificate_no: Option<String>,
    /// 备注.
    pub note: Option<String>,
}

impl fmt::Debug for CensusPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let given = |v: &Option<String>| if v.is_some() { "<given>" } else { "<none>" };
        f.debug_struct("CensusPerson")
            .field("row", &self.row)
            .field("relation", &self.relation)
            .field("name", &"<redacted>")
            .field("sex", &self.sex)
            .field("id_number", &self.id_number)
            .field("birth_date", &self.birth_date)
            .field("phone", &given(&self.phone))
            .field("bank_name", &self.bank_name)
            .field("bank_account", &given(&self.bank_account))
            .field("dibao", &self.dibao)
            .field("wubao", &self.wubao)
            .field("chronically_ill", &self.chronically_ill)
            .field("living_situation", &self.living_situation)
            .field("honor_certificate_no", &given(&self.honor_certificate_no))
            .field("death_date", &self.death_date)
            .field("death_certificate_no", &given(&self.death_certificate_no))
            .field("later_child_date", &self.later_child_date)
            .field("disability", &self.disability)
            .field(
                "disability_certificate_no",
                &given(&self.disability_certificate_no),
            )
            .field("note", &given(&self.note))
            .finish()
    }
}

/// A valid census family: the contiguous rows that share one 家庭编号. The reader guarantees
/// exactly one child, at most one mother and one father, any number of guardians, and one
/// household registration and village for all rows. Members are in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusFamily {
    /// 家庭编号 as written (trimmed).
    pub family_no: String,
    /// The row number of the family's first row.
    pub first_row: usize,
    /// 所在村居代码, shared by all rows.
    pub village: VillageCode,
    /// 户籍性质, shared by all rows.
    pub hukou: Hukou,
    pub members: Vec<CensusPerson>,
}

/// Returned by [`CensusFamily::child`] only if `members` was emptied after reading.
static NO_MEMBER: CensusPerson = CensusPerson {
    row: 0,
    relation: Relation::Child,
    name: String::new(),
    sex: Sex::Female,
    id_number: None,
    birth_date: Date::MIN,
    phone: None,
    bank_name: None,
    bank_account: None,
    dibao: false,
    wubao: false,
    chronically_ill: false,
    living_situation: None,
    honor_certificate_no: None,
    death_date: None,
    death_certificate_no: None,
    later_child_date: None,
    disability: None,
    disability_certificate_no: None,
    note: None,
};

impl CensusFamily {
    /// The county-level area, from the village code: the unit whose finance pays (二(二)).
    pub fn county(&self) -> CountyCode {
        self.village.county()
    }

    /// The only child (子女). A family from the reader always has exactly one; should `members`
    /// have been edited to hold none, this is the first member (or, for no members at all, an
    /// empty placeholder with row 0) rather than a panic.
    pub fn child(&self) -> &CensusPerson {
        self.members
            .iter()
            .find(|m| m.relation == Relation::Child)
            .or_else(|| self.members.first())
            .unwrap_or(&NO_MEMBER)
    }

    /// The mother and father rows present, in file order; guardians are not parents.
    pub fn parents(&self) -> impl Iterator<Item = &CensusPerson> {
        self.members.iter().filter(|m| m.relation.is_parent())
    }

    /// The guardians (监护人), in file order.
    pub fn guardians(&self) -> impl Iterator<Item = &CensusPerson> {
        self.members
            .iter()
            .filter(|m| m.relation == Relation::Guardian)
    }
}
