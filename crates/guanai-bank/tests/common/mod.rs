//! Sample batches for the tests: a county's 代发 file to 中国农业银行 with synthetic people.

#![allow(dead_code)]

use guanai_bank::{Batch, Payer, Transfer};
use guanai_rules::Fen;
use jiff::civil::{date, datetime};

pub const MEMO: &str = "2026年12月计划生育特别扶助金";

pub fn transfer(n: usize, name: &str, account: &str, amount: Fen, id_number: &str) -> Transfer {
    Transfer {
        reference: format!("R2026120001-{n:06}"),
        name: name.to_owned(),
        account: account.to_owned(),
        bank: "中国农业银行临沂兰山支行".to_owned(),
        amount,
        id_number: id_number.to_owned(),
        memo: MEMO.to_owned(),
    }
}

/// A batch with the given transfers.
pub fn batch_of(transfers: Vec<Transfer>) -> Batch {
    Batch {
        batch_id: "R2026120001-371302-农业银行".to_owned(),
        title: "临沂市兰山区 2026年12月 计划生育特别扶助金 代发清单".to_owned(),
        county_code: "371302".to_owned(),
        county_name: "兰山区".to_owned(),
        bank: "中国农业银行".to_owned(),
        payer: Payer {
            name: "临沂市兰山区财政局 特扶资金专户".to_owned(),
            account: "1525 0101 0400 1234 5".to_owned(),
            bank: "中国农业银行临沂分行营业部".to_owned(),
        },
        created_at: datetime(2026, 12, 5, 9, 30, 0, 0),
        execution_date: date(2026, 12, 10),
        transfers,
    }
}

/// Two transfers: 590.00 and 0.01.
pub fn two_lines() -> Batch {
    batch_of(vec![
        transfer(
            1,
            "张桂英",
            "6228 4800 1234 5678 901",
            Fen(59000),
            "371302196403150021",
        ),
        transfer(
            2,
            "王秀兰",
            "6228480012345678912",
            Fen(1),
            "37130219580722004X",
        ),
    ])
}
