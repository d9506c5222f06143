//! How the archive's records read on screen: one sentence per fact, private values masked
//! unless revealed, in Chinese or English.

use guanai_crypto::mask;
use guanai_rules::{Hukou, Sex};
use guanai_store::{FactValue, Relation};

use crate::i18n::Lang;
use crate::pages::village_path;

pub fn relation_label(lang: Lang, r: Relation) -> &'static str {
    lang.pick(r.as_zh(), r.as_str())
}

pub fn kind_label(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "registration" => lang.pick("户籍", "registration"),
        "identity" => lang.pick("身份", "identity"),
        "id_number" => lang.pick("身份证号", "ID number"),
        "phone" => lang.pick("电话", "phone"),
        "bank_account" => lang.pick("银行账户", "bank account"),
        "welfare" => lang.pick("低保/五保", "dibao/wubao"),
        "health" => lang.pick("健康", "health"),
        "living" => lang.pick("居住状况", "living situation"),
        "honor_certificate" => lang.pick("光荣证", "honour certificate"),
        "death" => lang.pick("死亡", "death"),
        "later_child" => lang.pick("再生育/收养", "later child"),
        "disability" => lang.pick("伤残评定", "disability"),
        "note" => lang.pick("备注", "note"),
        _ => lang.pick("记录", "record"),
    }
}

/// One fact as a sentence; sealed values masked unless `reveal`.
pub fn fact_text(lang: Lang, value: &FactValue, reveal: bool) -> String {
    let yes_no = |b: bool| {
        lang.pick(if b { "是" } else { "否" }, if b { "yes" } else { "no" })
            .to_owned()
    };
    match value {
        FactValue::Registration { hukou, village } => format!(
            "{} {} ({})",
            if *hukou == Hukou::Urban {
                lang.pick("城镇户口", "urban hukou")
            } else {
                lang.pick("农村户口", "rural hukou")
            },
            village_path(&village.to_string()),
            village
        ),
        FactValue::Identity {
            name,
            sex,
            birth_date,
        } => format!(
            "{name}, {}, {birth_date}",
            if *sex == Sex::Female {
                lang.pick("女", "female")
            } else {
                lang.pick("男", "male")
            }
        ),
        FactValue::IdNumber { number } => {
            if reveal {
                number.as_str().to_owned()
            } else {
                number.masked()
            }
        }
        FactValue::Phone { number } => {
            if reveal {
                number.clone()
            } else {
                mask::phone(number)
            }
        }
        FactValue::BankAccount { bank, account } => {
            format!(
                "{bank} {}",
                if reveal {
                    account.clone()
                } else {
                    mask::bank_account(account)
                }
            )
        }
        FactValue::Welfare { dibao, wubao } => format!(
            "{} {}, {} {}",
            lang.pick("低保", "dibao"),
            yes_no(*dibao),
            lang.pick("五保", "wubao"),
            yes_no(*wubao)
        ),
        FactValue::Health { chronically_ill } => {
            format!(
                "{} {}",
                lang.pick("慢性病", "chronically ill"),
                yes_no(*chronically_ill)
            )
        }
        FactValue::Living { situation } => situation.clone(),
        FactValue::HonorCertificate { number } => number.clone(),
        FactValue::Death { certificate_no } => match certificate_no {
            Some(c) => format!("{} ({c})", lang.pick("死亡", "died")),
            None => lang.pick("死亡", "died").to_owned(),
        },
        FactValue::LaterChild => lang
            .pick("再生育或收养子女", "had or adopted another child")
            .to_owned(),
        FactValue::Disability {
            grade,
            certificate_no,
        } => {
            let g = format!("{} {}", lang.pick("伤残等级", "grade"), grade.get());
            match certificate_no {
                Some(c) => format!("{g} ({c})"),
                None => g,
            }
        }
        FactValue::Note { text } => text.clone(),
    }
}
