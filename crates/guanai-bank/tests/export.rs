//! The exports: CSV layout and quoting, the XLSX read back with calamine, pain.001 (snapshot and
//! parsed back), the message id, and every problem `Batch::check` reports.

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::{MEMO, batch_of, transfer, two_lines};
use guanai_bank::{
    BankError, Batch, PAIN001_NAMESPACE, message_id, write_csv, write_pain001, write_xlsx,
};
use guanai_rules::Fen;
use quick_xml::events::Event;

fn csv_text(batch: &Batch) -> String {
    let mut out = Vec::new();
    write_csv(batch, &mut out).expect("the batch is valid");
    String::from_utf8(out).expect("the output is UTF-8")
}

fn pain001_text(batch: &Batch) -> String {
    let mut out = Vec::new();
    write_pain001(batch, &mut out).expect("the batch is valid");
    String::from_utf8(out).expect("the output is UTF-8")
}

#[test]
fn csv_layout_is_exact() {
    assert_eq!(
        csv_text(&two_lines()),
        "\u{feff}序号,业务参考号,户名,账号,开户行,金额(元),身份证号,摘要\r\n\
         1,R2026120001-000001,张桂英,6228480012345678901,中国农业银行临沂兰山支行,590.00,371302196403150021,2026年12月计划生育特别扶助金\r\n\
         2,R2026120001-000002,王秀兰,6228480012345678912,中国农业银行临沂兰山支行,0.01,37130219580722004X,2026年12月计划生育特别扶助金\r\n\
         合计,,,,,590.01,,2笔\r\n"
    );
}

#[test]
fn csv_quotes_commas_and_quotes() {
    let mut t = transfer(
        1,
        "张\"小\"英,二",
        "6228480012345678901",
        Fen(59000),
        "371302196403150021",
    );
    t.memo = "2026年12月特扶金,补发".to_owned();
    let text = csv_text(&batch_of(vec![t]));
    let line = text.lines().nth(1).expect("the line has that many cells");
    assert_eq!(
        line,
        "1,R2026120001-000001,\"张\"\"小\"\"英,二\",6228480012345678901,中国农业银行临沂兰山支行,590.00,371302196403150021,\"2026年12月特扶金,补发\""
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&records[1][2], "张\"小\"英,二");
    assert_eq!(&records[1][7], "2026年12月特扶金,补发");
}

#[test]
fn csv_amounts_have_two_decimals() {
    let batch = batch_of(vec![
        transfer(
            1,
            "张桂英",
            "6228480012345678901",
            Fen(1),
            "371302196403150021",
        ),
        transfer(
            2,
            "王秀兰",
            "6228480012345678912",
            Fen(100_000_000),
            "37130219580722004X",
        ),
        transfer(
            3,
            "李凤英",
            "6228480012345678923",
            Fen(1230),
            "371302195512010047",
        ),
    ]);
    let text = csv_text(&batch);
    let amounts: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(5).expect("the line has that many cells"))
        .collect();
    assert_eq!(amounts, ["0.01", "1000000.00", "12.30", "1000012.31"]);
    assert!(text.ends_with("合计,,,,,1000012.31,,3笔\r\n"));
}

#[test]
fn xlsx_reads_back_with_text_accounts_and_totals() {
    let bytes = write_xlsx(&two_lines()).expect("the batch is valid");
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("calamine opens the workbook");
    assert_eq!(workbook.sheet_names(), ["代发清单"]);
    let range = workbook
        .worksheet_range("代发清单")
        .expect("the sheet exists");
    assert_eq!(range.start(), Some((0, 0)));
    let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    let text = |s: &str| Data::String(s.to_owned());

    assert_eq!(
        cell(0, 0),
        text("临沂市兰山区 2026年12月 计划生育特别扶助金 代发清单")
    );
    assert_eq!(
        cell(1, 0),
        text("付款单位：临沂市兰山区财政局 特扶资金专户")
    );
    assert_eq!(cell(1, 3), text("付款账号：15250101040012345"));
    assert_eq!(cell(1, 5), text("执行日期：2026-12-10"));
    assert_eq!(cell(1, 7), text("生成时间：2026-12-05 09:30:00"));

    let header: Vec<Data> = (0..8).map(|c| cell(2, c)).collect();
    assert_eq!(
        header,
        [
            "序号",
            "业务参考号",
            "户名",
            "账号",
            "开户行",
            "金额(元)",
            "身份证号",
            "摘要"
        ]
        .map(text)
    );

    let first: Vec<Data> = (0..8).map(|c| cell(3, c)).collect();
    assert_eq!(
        first,
        [
            Data::Float(1.0),
            text("R2026120001-000001"),
            text("张桂英"),
            text("6228480012345678901"),
            text("中国农业银行临沂兰山支行"),
            Data::Float(590.0),
            text("371302196403150021"),
            text(MEMO),
        ]
    );
    assert_eq!(cell(4, 3), text("6228480012345678912"));
    assert_eq!(cell(4, 5), Data::Float(0.01));
    assert_eq!(cell(4, 6), text("37130219580722004X"));

    assert_eq!(cell(5, 0), text("合计"));
    assert_eq!(cell(5, 5), Data::Float(590.01));
    assert_eq!(cell(5, 7), text("2笔"));
    assert_eq!(range.end(), Some((5, 7)));
}

#[test]
fn pain001_matches_the_snapshot() {
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>R2026120001-371302-A954554682468ED3</MsgId>
      <CreDtTm>2026-12-05T09:30:00+08:00</CreDtTm>
      <NbOfTxs>2</NbOfTxs>
      <CtrlSum>590.01</CtrlSum>
      <InitgPty>
        <Nm>临沂市兰山区财政局 特扶资金专户</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>R2026120001-371302-A954554682468ED3</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>2</NbOfTxs>
      <CtrlSum>590.01</CtrlSum>
      <ReqdExctnDt>
        <Dt>2026-12-10</Dt>
      </ReqdExctnDt>
      <Dbtr>
        <Nm>临沂市兰山区财政局 特扶资金专户</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id>
          <Othr>
            <Id>15250101040012345</Id>
          </Othr>
        </Id>
      </DbtrAcct>
      <DbtrAgt>
        <FinInstnId>
          <Nm>中国农业银行临沂分行营业部</Nm>
        </FinInstnId>
      </DbtrAgt>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>R2026120001-000001</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="CNY">590.00</InstdAmt>
        </Amt>
        <CdtrAgt>
          <FinInstnId>
            <Nm>中国农业银行临沂兰山支行</Nm>
          </FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>张桂英</Nm>
          <Id>
            <PrvtId>
              <Othr>
                <Id>371302196403150021</Id>
                <SchmeNm>
                  <Cd>NIDN</Cd>
                </SchmeNm>
              </Othr>
            </PrvtId>
          </Id>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <Othr>
              <Id>6228480012345678901</Id>
            </Othr>
          </Id>
        </CdtrAcct>
        <RmtInf>
          <Ustrd>2026年12月计划生育特别扶助金</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>R2026120001-000002</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="CNY">0.01</InstdAmt>
        </Amt>
        <CdtrAgt>
          <FinInstnId>
            <Nm>中国农业银行临沂兰山支行</Nm>
          </FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>王秀兰</Nm>
          <Id>
            <PrvtId>
              <Othr>
                <Id>37130219580722004X</Id>
                <SchmeNm>
                  <Cd>NIDN</Cd>
                </SchmeNm>
              </Othr>
            </PrvtId>
          </Id>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <Othr>
              <Id>6228480012345678912</Id>
            </Othr>
          </Id>
        </CdtrAcct>
        <RmtInf>
          <Ustrd>2026年12月计划生育特别扶助金</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
"#;
    assert_eq!(pain001_text(&two_lines()), expected);
}

/// Parses yuan with 2 decimals by hand (the test's own reading of the XML).
fn fen_of(text: &str) -> i64 {
    let (whole, cents) = text.split_once('.').expect("the amount has decimals");
    assert_eq!(cents.len(), 2, "{text}");
    whole.parse::<i64>().expect("digits") * 100 + cents.parse::<i64>().expect("digits")
}

#[test]
fn pain001_parses_back_with_counts_sums_and_references() {
    let mut transfers: Vec<_> = (1..=25)
        .map(|n| {
            transfer(
                n,
                "刘玉兰",
                "6228480012345678901",
                Fen(59000 + n as i64),
                "371302196403150021",
            )
        })
        .collect();
    transfers[3].name = "A&B <张>".to_owned();
    transfers[4].amount = Fen(100_000_000);
    let batch = batch_of(transfers);
    let xml = pain001_text(&batch);

    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut references = Vec::new();
    let mut names = Vec::new();
    let mut sum = 0i64;
    let mut currencies = Vec::new();
    let mut counts = Vec::new();
    let mut ctrl_sums = Vec::new();
    let mut namespace = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                if name == "Document" {
                    let ns = e
                        .try_get_attribute("xmlns")
                        .expect("a well-formed attribute")
                        .expect("the attribute is there");
                    namespace = ns.value.into_owned();
                }
                if name == "InstdAmt" {
                    let ccy = e
                        .try_get_attribute("Ccy")
                        .expect("a well-formed attribute")
                        .expect("the attribute is there");
                    currencies.push(ccy.value.into_owned());
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => text.push_str(
                quick_xml::escape::resolve_predefined_entity(&r).expect("a predefined entity"),
            ),
            Event::End(_) => {
                let joined = path.join("/");
                if joined.ends_with("PmtId/EndToEndId") {
                    references.push(text.clone());
                } else if joined.ends_with("Amt/InstdAmt") {
                    sum += fen_of(&text);
                } else if joined.ends_with("Cdtr/Nm") {
                    names.push(text.clone());
                } else if joined.ends_with("NbOfTxs") {
                    counts.push(text.clone());
                } else if joined.ends_with("CtrlSum") {
                    ctrl_sums.push(fen_of(&text));
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(namespace, PAIN001_NAMESPACE);
    let expected: Vec<String> = (1..=25).map(|n| format!("R2026120001-{n:06}")).collect();
    assert_eq!(references, expected);
    assert_eq!(sum, batch.total().get());
    assert_eq!(ctrl_sums, [batch.total().get(), batch.total().get()]);
    assert_eq!(counts, ["25", "25"]);
    assert_eq!(currencies, vec!["CNY"; 25]);
    assert_eq!(names[3], "A&B <张>");
    assert!(xml.contains("<Nm>A&amp;B &lt;张&gt;</Nm>"));
}

#[test]
fn message_ids_are_ascii_short_and_deterministic() {
    let nong = message_id("R2026120001-371302-农业银行");
    assert_eq!(nong, "R2026120001-371302-A954554682468ED3");
    assert_eq!(message_id("R2026120001-371302-农业银行"), nong);
    let gong = message_id("R2026120001-371302-工商银行");
    assert_ne!(gong, nong);
    assert!(gong.starts_with("R2026120001-371302-"));
    assert_eq!(message_id("R2026120001-371302"), "R2026120001-371302");
    let long = message_id("R2026120001-371302-ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    assert_eq!(long.len(), 35);
    assert!(long.starts_with("R2026120001-371302-"));
    let chinese = message_id("兰山区农业银行");
    assert_eq!(chinese.len(), 16);
    for id in [nong, gong, long, chinese] {
        assert!(id.len() <= 35);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
}

#[test]
fn count_and_total() {
    let batch = two_lines();
    assert_eq!(batch.count(), 2);
    assert_eq!(batch.total(), Fen(59001));
    assert_eq!(batch.check().map_err(|e| e.to_string()), Ok(()));
}

fn problem(change: impl FnOnce(&mut Batch)) -> String {
    let mut batch = two_lines();
    change(&mut batch);
    let message = batch.check().expect_err("the batch is refused").to_string();
    // Every writer checks first and writes nothing.
    let mut out = Vec::new();
    assert_eq!(
        write_csv(&batch, &mut out)
            .expect_err("the batch is refused")
            .to_string(),
        message
    );
    assert_eq!(
        write_pain001(&batch, &mut out)
            .expect_err("the batch is refused")
            .to_string(),
        message
    );
    assert_eq!(
        write_xlsx(&batch)
            .expect_err("the batch is refused")
            .to_string(),
        message
    );
    assert!(out.is_empty());
    message
}

#[test]
fn check_reports_each_problem() {
    assert_eq!(
        problem(|b| b.transfers.clear()),
        "the batch has no transfers"
    );
    assert_eq!(
        problem(|b| b.transfers[1].reference = "R2026120001-000001".to_owned()),
        "transfer 2, 业务参考号: duplicate reference \"R2026120001-000001\" (also transfer 1)"
    );
    assert_eq!(
        problem(|b| b.transfers[0].reference = "R2026120001_000001".to_owned()),
        "transfer 1, 业务参考号: \"R2026120001_000001\" may hold only ASCII letters, digits and '-'"
    );
    assert_eq!(
        problem(|b| b.transfers[0].reference = "R".repeat(36)),
        format!(
            "transfer 1, 业务参考号: \"{}\" is longer than 35 characters (36)",
            "R".repeat(36)
        )
    );
    assert_eq!(
        problem(|b| b.transfers[0].reference.clear()),
        "transfer 1, 业务参考号: must not be empty"
    );
    assert_eq!(
        problem(|b| b.transfers[1].amount = Fen(0)),
        "transfer 2, 金额(元): must be more than 0.00, is 0.00"
    );
    assert_eq!(
        problem(|b| b.transfers[1].amount = Fen(-500)),
        "transfer 2, 金额(元): must be more than 0.00, is -5.00"
    );
    assert_eq!(
        problem(|b| b.transfers[1].amount = Fen(999_999_999_999_999_999)),
        "transfer 2, 金额(元): the batch total is too large"
    );
    assert_eq!(
        problem(|b| b.transfers[0].name = "  ".to_owned()),
        "transfer 1, 户名: must not be empty"
    );
    assert_eq!(
        problem(|b| b.transfers[0].bank.clear()),
        "transfer 1, 开户行: must not be empty"
    );
    assert_eq!(
        problem(|b| b.transfers[0].id_number.clear()),
        "transfer 1, 身份证号: must not be empty"
    );
    assert_eq!(
        problem(|b| b.transfers[1].memo = "特扶金\n12月".to_owned()),
        "transfer 2, 摘要: control character '\\n' in \"特扶金\\n12月\""
    );
    assert_eq!(
        problem(|b| b.transfers[1].memo = "特".repeat(141)),
        "transfer 2, 摘要: longer than 140 characters (141)"
    );
    assert_eq!(
        problem(|b| b.transfers[0].account = "6228-4800".to_owned()),
        "transfer 1, 账号: not an account number (digits, spaces allowed): \"6228-4800\""
    );
    assert_eq!(
        problem(|b| b.transfers[0].account = "1".repeat(35)),
        format!(
            "transfer 1, 账号: longer than 34 digits (35): \"{}\"",
            "1".repeat(35)
        )
    );
    assert_eq!(
        problem(|b| b.transfers[0].account = "\t".to_owned()),
        "transfer 1, 账号: must not be empty"
    );
    assert_eq!(
        problem(|b| b.payer.account.clear()),
        "batch, 付款账号: must not be empty"
    );
    assert_eq!(
        problem(|b| b.payer.name = "财政局\u{7}".to_owned()),
        "batch, 付款单位: control character '\\u{7}' in \"财政局\\u{7}\""
    );
    assert_eq!(
        problem(|b| b.batch_id.clear()),
        "batch, 批次号: must not be empty"
    );
    assert_eq!(
        problem(|b| b.title.clear()),
        "batch, 标题: must not be empty"
    );
    assert_eq!(
        problem(|b| b.payer.bank.clear()),
        "batch, 付款开户行: must not be empty"
    );
}

#[test]
fn check_error_is_a_bank_error() {
    let mut batch = two_lines();
    batch.transfers.clear();
    assert!(matches!(batch.check(), Err(BankError::EmptyBatch)));
}
