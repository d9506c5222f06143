//! What the archive records: families, persons and dated facts (专门档案, 二(一)). A fact is
//! never changed; a correction is a new fact that names the one it replaces (or withdraws it).

use std::fmt;

use guanai_rules::{DisabilityGrade, Hukou, ResidentId, Sex, VillageCode};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new id: 12 hex digits of the current time in microseconds, then 20 random ones.
            /// Time-ordered ids keep index inserts at the end of the B-tree (fast bulk loads).
            pub fn generate() -> $name {
                let micros = jiff::Timestamp::now().as_microsecond().max(0) as u128;
                let random = rand::random::<u128>() & ((1u128 << 80) - 1);
                $name(format!("{}{:032x}", $prefix, ((micros & 0xffff_ffff_ffff) << 80) | random))
            }

            /// An id read back from the database or typed by a user.
            pub fn parse(text: &str) -> Option<$name> {
                let hex = text.strip_prefix($prefix)?;
                (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| $name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub(crate) fn from_db(text: String) -> $name {
                $name(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A family's archive id.
    FamilyId,
    "F"
);
id_type!(
    /// A person's archive id.
    PersonId,
    "P"
);
id_type!(
    /// A fact record's id.
    FactId,
    "X"
);
id_type!(
    /// A document's id on a family's file (材料, `crate::documents`).
    DocumentId,
    "D"
);

pub use guanai_rules::Relation;

/// The content of a fact. Each kind says whether it is about the family or a person, whether it
/// is dated (its `valid_from` is an event date or the date since which it holds), and whether it
/// is sealed (encrypted at rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FactValue {
    /// Household registration (户籍) from `valid_from`: hukou and village; a move to another
    /// county is a new registration.
    Registration {
        #[serde(with = "hukou_text")]
        hukou: Hukou,
        #[serde(with = "village_text")]
        village: VillageCode,
    },
    /// Name, sex and birth date of a person.
    Identity {
        name: String,
        #[serde(with = "sex_text")]
        sex: Sex,
        birth_date: Date,
    },
    /// Resident ID number (sealed; looked up through the blind index).
    IdNumber {
        #[serde(with = "id_text")]
        number: ResidentId,
    },
    /// Phone number (sealed).
    Phone { number: String },
    /// Bank account for payments (sealed).
    BankAccount { bank: String, account: String },
    /// 低保 / 五保 status from `valid_from`.
    Welfare { dibao: bool, wubao: bool },
    /// Chronic illness from `valid_from` (sealed: a health detail).
    Health { chronically_ill: bool },
    /// Living situation (居住状况), e.g. 独居.
    Living { situation: String },
    /// 独生子女父母光荣证 number.
    HonorCertificate { number: String },
    /// Death on `valid_from`, with the death certificate number if known.
    Death { certificate_no: Option<String> },
    /// Another child by birth or adoption on `valid_from` (再生育或收养).
    LaterChild,
    /// Disability assessment on `valid_from` (sealed: a health detail).
    Disability {
        #[serde(with = "grade_number")]
        grade: DisabilityGrade,
        certificate_no: Option<String>,
    },
    /// A free note on the file.
    Note { text: String },
}

impl FactValue {
    /// The kind as stored in the `fact.kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            FactValue::Registration { .. } => "registration",
            FactValue::Identity { .. } => "identity",
            FactValue::IdNumber { .. } => "id_number",
            FactValue::Phone { .. } => "phone",
            FactValue::BankAccount { .. } => "bank_account",
            FactValue::Welfare { .. } => "welfare",
            FactValue::Health { .. } => "health",
            FactValue::Living { .. } => "living",
            FactValue::HonorCertificate { .. } => "honor_certificate",
            FactValue::Death { .. } => "death",
            FactValue::LaterChild => "later_child",
            FactValue::Disability { .. } => "disability",
            FactValue::Note { .. } => "note",
        }
    }

    /// Sealed kinds are encrypted at rest: ID numbers, phones, bank accounts, health details.
    pub fn is_sealed(&self) -> bool {
        matches!(
            self,
            FactValue::IdNumber { .. }
                | FactValue::Phone { .. }
                | FactValue::BankAccount { .. }
                | FactValue::Health { .. }
                | FactValue::Disability { .. }
        )
    }

    /// Whether the fact needs a `valid_from` date: events do. A status without a date
    /// (a registration, 低保/五保, chronic illness as found by the census) holds from the start.
    pub fn is_dated(&self) -> bool {
        matches!(
            self,
            FactValue::Death { .. } | FactValue::LaterChild | FactValue::Disability { .. }
        )
    }

    /// Kinds a person has one of at a time (a name, an ID number, a phone, an account …): a new
    /// record of such a kind replaces the current one. Dated kinds keep their history instead.
    pub fn is_single_valued(&self) -> bool {
        matches!(
            self,
            FactValue::Identity { .. }
                | FactValue::IdNumber { .. }
                | FactValue::Phone { .. }
                | FactValue::BankAccount { .. }
                | FactValue::Living { .. }
                | FactValue::HonorCertificate { .. }
        )
    }

    /// Facts that may stand without a person (a registration always does; a note may).
    pub fn is_family_level(&self) -> bool {
        matches!(
            self,
            FactValue::Registration { .. } | FactValue::Note { .. }
        )
    }
}

/// A fact as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRecord {
    pub fact_id: FactId,
    pub person_id: Option<PersonId>,
    /// `None` when the record withdraws the fact it replaces.
    pub value: Option<FactValue>,
    pub kind: String,
    pub valid_from: Option<Date>,
    pub recorded_at: Timestamp,
    pub recorded_by: String,
    pub reason: String,
    pub replaces: Option<FactId>,
}

/// A person of a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub person_id: PersonId,
    pub relation: Relation,
}

/// A new fact to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFact {
    pub person_id: Option<PersonId>,
    pub value: FactValue,
    pub valid_from: Option<Date>,
}

/// A new person with their first facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub relation: Relation,
    /// Facts about this person (their `person_id` is filled in on insert).
    pub facts: Vec<(FactValue, Option<Date>)>,
}

/// A new family as registered by the census or a caseworker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFamily {
    pub family_no: String,
    pub county_code: guanai_rules::CountyCode,
    pub registration: (Hukou, VillageCode, Option<Date>),
    pub persons: Vec<NewPerson>,
    pub import_hash: Option<Vec<u8>>,
}

/// Who writes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
}

impl Actor {
    pub fn new(name: impl Into<String>) -> Actor {
        Actor { name: name.into() }
    }
}

mod hukou_text {
    use guanai_rules::Hukou;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(h: &Hukou, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(h.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hukou, D::Error> {
        match String::deserialize(d)?.as_str() {
            "urban" => Ok(Hukou::Urban),
            "rural" => Ok(Hukou::Rural),
            other => Err(D::Error::custom(format!("unknown hukou {other:?}"))),
        }
    }
}

mod sex_text {
    use guanai_rules::Sex;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &Sex, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Sex, D::Error> {
        match String::deserialize(d)?.as_str() {
            "female" => Ok(Sex::Female),
            "male" => Ok(Sex::Male),
            other => Err(D::Error::custom(format!("unknown sex {other:?}"))),
        }
    }
}

mod village_text {
    use guanai_rules::VillageCode;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &VillageCode, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VillageCode, D::Error> {
        VillageCode::parse(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

mod id_text {
    use guanai_rules::ResidentId;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &ResidentId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ResidentId, D::Error> {
        // Stored numbers were validated on the way in; only the form is checked on the way out.
        let text = String::deserialize(d)?;
        ResidentId::parse(&text, jiff::civil::Date::MAX).map_err(D::Error::custom)
    }
}

mod grade_number {
    use guanai_rules::DisabilityGrade;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &DisabilityGrade, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(v.get())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DisabilityGrade, D::Error> {
        let g = i64::deserialize(d)?;
        DisabilityGrade::new(g)
            .ok_or_else(|| D::Error::custom(format!("disability grade {g} out of range")))
    }
}
