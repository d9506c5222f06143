//! Return files: CSV (UTF-8 with and without BOM, GBK), XLSX and pain.002, the tolerated
//! layouts and every error with its exact message.

mod common;

use common::two_lines;
use guanai_bank::{ReturnLine, ReturnStatus, read_return, write_csv};
use guanai_rules::Fen;
use rust_xlsxwriter::{Format, Workbook};

const HEADER: &str = "序号,业务参考号,户名,账号,开户行,金额(元),身份证号,摘要,状态,失败原因";

fn line(
    row: usize,
    reference: &str,
    name: &str,
    account: &str,
    amount: i64,
    status: ReturnStatus,
    reason: Option<&str>,
) -> ReturnLine {
    ReturnLine {
        row,
        reference: reference.to_owned(),
        name: Some(name.to_owned()),
        account: Some(account.to_owned()),
        amount: Some(Fen(amount)),
        status,
        reason: reason.map(str::to_owned),
    }
}

fn read_csv(text: &str) -> Vec<ReturnLine> {
    read_return(text.as_bytes(), "回盘.csv").expect("the return file is valid")
}

fn csv_error(text: &str) -> String {
    read_return(text.as_bytes(), "回盘.csv")
        .expect_err("the file is refused")
        .to_string()
}

/// A return CSV with the given data rows below [`HEADER`].
fn csv_with(rows: &[&str]) -> String {
    let mut text = format!("{HEADER}\r\n");
    for row in rows {
        text.push_str(row);
        text.push_str("\r\n");
    }
    text
}

const PAID_ROW: &str = "1,R2026120001-000001,张桂英,6228480012345678901,中国农业银行临沂兰山支行,590.00,371302196403150021,2026年12月计划生育特别扶助金,成功,";

#[test]
fn export_with_status_columns_reads_back() {
    let batch = two_lines();
    let mut out = Vec::new();
    write_csv(&batch, &mut out).expect("the batch is valid");
    let export = String::from_utf8(out).expect("the output is UTF-8");
    let mut lines = export.split("\r\n").filter(|l| !l.is_empty());
    let mut text = format!(
        "{},状态,失败原因\r\n",
        lines.next().expect("the export has that line")
    );
    text.push_str(&format!(
        "{},成功,\r\n",
        lines.next().expect("the export has that line")
    ));
    text.push_str(&format!(
        "{},失败,账户已销户\r\n",
        lines.next().expect("the export has that line")
    ));
    text.push_str(&format!(
        "{},,\r\n",
        lines.next().expect("the export has that line")
    ));
    assert_eq!(
        read_return(text.as_bytes(), "回盘.csv").expect("the return file is valid"),
        [
            line(
                2,
                "R2026120001-000001",
                "张桂英",
                "6228480012345678901",
                59000,
                ReturnStatus::Paid,
                None
            ),
            line(
                3,
                "R2026120001-000002",
                "王秀兰",
                "6228480012345678912",
                1,
                ReturnStatus::Failed,
                Some("账户已销户")
            ),
        ]
    );
}

#[test]
fn csv_without_bom_and_with_statuses_in_every_spelling() {
    let statuses = [
        ("成功", ReturnStatus::Paid),
        ("已支付", ReturnStatus::Paid),
        ("支付成功", ReturnStatus::Paid),
        ("success", ReturnStatus::Paid),
        ("Paid", ReturnStatus::Paid),
        ("失败", ReturnStatus::Failed),
        ("退回", ReturnStatus::Failed),
        ("FAILED", ReturnStatus::Failed),
    ];
    let rows: Vec<String> = statuses
        .iter()
        .enumerate()
        .map(|(i, (s, _))| format!("{},R-{i},张桂英,6228480012345678901,,590,,,{s},", i + 1))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let read = read_csv(&csv_with(&rows));
    let got: Vec<ReturnStatus> = read.iter().map(|l| l.status).collect();
    let want: Vec<ReturnStatus> = statuses.iter().map(|(_, s)| *s).collect();
    assert_eq!(got, want);
}

#[test]
fn gbk_csv_as_older_excel_saves_it() {
    let text = csv_with(&[
        PAID_ROW,
        "2,R2026120001-000002,王秀兰,6228480012345678912,中国农业银行临沂兰山支行,0.01,37130219580722004X,2026年12月计划生育特别扶助金,失败,户名不符",
    ]);
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err());
    let read = read_return(&gbk, "回盘.csv").expect("the return file is valid");
    assert_eq!(read.len(), 2);
    assert_eq!(read[1].name.as_deref(), Some("王秀兰"));
    assert_eq!(read[1].reason.as_deref(), Some("户名不符"));
    assert_eq!(read[1].status, ReturnStatus::Failed);
}

#[test]
fn bom_title_rows_reordered_columns_and_aliases() {
    let text = "\u{feff}临沂市兰山区 2026年12月 计划生育特别扶助金 代发清单,,,\r\n\
                付款单位：临沂市兰山区财政局,,,\r\n\
                \r\n\
                状态 ,失败原因,金额（元）,户名,账 号,业务参考号,银行流水号\r\n\
                成功,,0.01,张桂英,6228 4800 1234 5678 901,R-1,20261210000123\r\n\
                ,,,,,,\r\n\
                失败,账户已冻结,\"1,000,000.00\",\"王\"\"秀\"\"兰,大\",6228480012345678912,R-2,\r\n\
                成功,,12.3,李凤英,6228480012345678923,R-3,\r\n\
                合计,,\"1,000,012.31\",,,,\r\n";
    assert_eq!(
        read_csv(text),
        [
            line(
                5,
                "R-1",
                "张桂英",
                "6228480012345678901",
                1,
                ReturnStatus::Paid,
                None
            ),
            line(
                7,
                "R-2",
                "王\"秀\"兰,大",
                "6228480012345678912",
                100_000_000,
                ReturnStatus::Failed,
                Some("账户已冻结")
            ),
            line(
                8,
                "R-3",
                "李凤英",
                "6228480012345678923",
                1230,
                ReturnStatus::Paid,
                None
            ),
        ]
    );
}

#[test]
fn amount_header_may_be_plain_and_rows_count_like_excel() {
    let text = "业务参考号,户名,账号,金额,状态\n\
                R-1,\"张桂英\n(代领)\",6228480012345678901,590,成功\n\
                R-2,王秀兰,6228480012345678912,590,bad\n";
    assert_eq!(
        csv_error(text),
        "row 3, 状态: unknown status \"bad\" (expected 成功 or 失败)"
    );
    let text = text.replace("bad", "失败");
    let read = read_csv(&text);
    assert_eq!(read[0].name.as_deref(), Some("张桂英\n(代领)"));
    assert_eq!(read[1].row, 3);
}

#[test]
fn csv_errors_name_row_and_column() {
    let cases: [(&str, &str); 11] = [
        (
            "1,R-1,张桂英,6228480012345678901,,12.345,,,成功,",
            "row 2, 金额(元): not an amount: \"12.345\" (more than 2 decimals)",
        ),
        (
            "1,R-1,张桂英,6228480012345678901,,-590.00,,,成功,",
            "row 2, 金额(元): not an amount: \"-590.00\" (no sign allowed)",
        ),
        (
            "1,R-1,张桂英,6228480012345678901,,五百九十,,,成功,",
            "row 2, 金额(元): not an amount: \"五百九十\"",
        ),
        (
            "1,R-1,张桂英,6228480012345678901,,,,,成功,",
            "row 2, 金额(元): missing amount",
        ),
        (
            "1,,张桂英,6228480012345678901,,590.00,,,成功,",
            "row 2, 业务参考号: missing reference",
        ),
        (
            "1,R-1,,6228480012345678901,,590.00,,,成功,",
            "row 2, 户名: missing name",
        ),
        (
            "1,R-1,张桂英, ,,590.00,,,成功,",
            "row 2, 账号: missing account number",
        ),
        (
            "1,R-1,张桂英,6228480012345678901,,590.00,,,处理中,",
            "row 2, 状态: unknown status \"处理中\" (expected 成功 or 失败)",
        ),
        (
            "1,R-1,张桂英,6228480012345678901,,590.00,,,,",
            "row 2, 状态: missing status",
        ),
        (
            "1,R-1,张桂英,6228480012345678901,,590.00,,,成功,\r\n2,R-1,王秀兰,6228480012345678912,,590.00,,,成功,",
            "row 3, 业务参考号: duplicate reference \"R-1\" (also row 2)",
        ),
        (
            "1,R-1,张桂英,6228480012345678901,,590.00,,,成功,\r\n\r\n2,R-2,王秀兰,6228480012345678912,,590.00,,,支付中,",
            "row 4, 状态: unknown status \"支付中\" (expected 成功 or 失败)",
        ),
    ];
    for (rows, message) in cases {
        assert_eq!(csv_error(&csv_with(&[rows])), message, "{rows}");
    }
}

#[test]
fn header_errors() {
    assert_eq!(
        csv_error("序号,业务参考号,户名,金额(元)\r\n1,R-1,张桂英,590\r\n"),
        "row 1: the header lacks the column(s) 账号, 状态"
    );
    assert_eq!(
        csv_error("标题\r\n业务参考号,户名,账号,金额(元),金额,状态\r\n"),
        "row 2, 金额: the column appears twice (columns D and E)"
    );
    assert_eq!(
        csv_error("户名,账号,金额,状态\r\n张桂英,6228480012345678901,590,成功\r\n"),
        "回盘.csv: no header row: none of the first 20 rows has a 业务参考号 cell"
    );
    let mut late = "标题\r\n".repeat(20);
    late.push_str(HEADER);
    assert_eq!(
        csv_error(&late),
        "回盘.csv: no header row: none of the first 20 rows has a 业务参考号 cell"
    );
    assert_eq!(
        csv_error(&csv_with(&[])),
        "回盘.csv: no payment lines below the header (row 1)"
    );
    assert_eq!(
        csv_error(&csv_with(&["合计,,,,,0.00,,0笔,,", ",,,,,,,,,"])),
        "回盘.csv: no payment lines below the header (row 1)"
    );
}

#[test]
fn empty_and_unreadable_files() {
    for empty in [&b""[..], b"\xEF\xBB\xBF", b" \r\n\r\n"] {
        assert_eq!(
            read_return(empty, "回盘.csv")
                .expect_err("the file is refused")
                .to_string(),
            "回盘.csv: the file is empty"
        );
    }
    assert_eq!(
        read_return(b"\xFF\xFEa\x00", "回盘.txt")
            .expect_err("the file is refused")
            .to_string(),
        "回盘.txt: the file is UTF-16 text: save it as \"CSV UTF-8\" or .xlsx"
    );
    assert_eq!(
        read_return(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00", "回盘.xls")
            .expect_err("the file is refused")
            .to_string(),
        "回盘.xls: the old Excel 97-2003 format (.xls) is not read: save the file as .xlsx or CSV"
    );
    let mut bom_not_utf8 = b"\xEF\xBB\xBF".to_vec();
    bom_not_utf8.extend_from_slice(HEADER.as_bytes());
    bom_not_utf8.extend_from_slice(b"\r\n1,R-1,\xD5\xC5,1,,1,,,\xB3\xC9\xB9\xA6,\r\n");
    assert_eq!(
        read_return(&bom_not_utf8, "回盘.csv")
            .expect_err("the file is refused")
            .to_string(),
        "回盘.csv: row 2: the file starts with a UTF-8 BOM but is not UTF-8"
    );
    let mut neither = HEADER.as_bytes().to_vec();
    neither.extend_from_slice(b"\r\n1,R-1,\xFF,1,,1,,,,\r\n");
    assert_eq!(
        read_return(&neither, "回盘.csv")
            .expect_err("the file is refused")
            .to_string(),
        "回盘.csv: row 2: the text is neither UTF-8 nor GBK/GB18030"
    );
    let broken = read_return(b"PK\x03\x04not really a zip", "回盘.xlsx")
        .expect_err("the file is refused")
        .to_string();
    assert!(
        broken.starts_with("回盘.xlsx: not a readable XLSX file: "),
        "{broken}"
    );
}

/// A return workbook as a bank might send it: a title row, the header, lines, a totals row.
fn return_xlsx(lines: &[(&str, &str, XlsxValue, XlsxValue, &str, &str)]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("回盘").expect("a valid sheet name");
    sheet
        .write_string(0, 0, "中国农业银行 代发回盘 2026-12-10")
        .expect("a cell is written");
    let headers = [
        "序号",
        "业务参考号",
        "户名",
        "账号",
        "金额(元)",
        "状态",
        "失败原因",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet
            .write_string(2, col as u16, *h)
            .expect("a cell is written");
    }
    let money = Format::new().set_num_format("0.00");
    let mut row = 3;
    for (i, (reference, name, account, amount, status, reason)) in lines.iter().enumerate() {
        sheet
            .write_number(row, 0, (i + 1) as f64)
            .expect("a cell is written");
        sheet
            .write_string(row, 1, *reference)
            .expect("a cell is written");
        sheet
            .write_string(row, 2, *name)
            .expect("a cell is written");
        for (col, value) in [(3u16, account), (4, amount)] {
            match value {
                XlsxValue::Text(t) => sheet.write_string(row, col, *t).expect("a cell is written"),
                XlsxValue::Number(n) => sheet
                    .write_number_with_format(row, col, *n, &money)
                    .expect("a cell is written"),
            };
        }
        sheet
            .write_string(row, 5, *status)
            .expect("a cell is written");
        if !reason.is_empty() {
            sheet
                .write_string(row, 6, *reason)
                .expect("a cell is written");
        }
        row += 1;
    }
    sheet
        .write_string(row, 0, "合计")
        .expect("a cell is written");
    sheet
        .write_number(row, 4, 1234.56)
        .expect("a cell is written");
    workbook.save_to_buffer().expect("the workbook is saved")
}

#[derive(Clone, Copy)]
enum XlsxValue {
    Text(&'static str),
    Number(f64),
}
use XlsxValue::{Number, Text};

#[test]
fn xlsx_return_with_numeric_amounts_and_text_accounts() {
    let bytes = return_xlsx(&[
        (
            "R-1",
            "张桂英",
            Text("6228480012345678901"),
            Number(0.01),
            "成功",
            "",
        ),
        (
            "R-2",
            "王秀兰",
            Text("6228 4800 1234 5678 912"),
            Number(1_000_000.0),
            "失败",
            "账户已销户",
        ),
        (
            "R-3",
            "李凤英",
            Number(622_848_001_234_567.0),
            Number(12.3),
            "已支付",
            "",
        ),
        (
            "R-4",
            "赵桂荣",
            Text("6228480012345678934"),
            Text("590.00"),
            "退回",
            "户名不符",
        ),
    ]);
    assert_eq!(
        read_return(&bytes, "回盘.xlsx").expect("the return file is valid"),
        [
            line(
                4,
                "R-1",
                "张桂英",
                "6228480012345678901",
                1,
                ReturnStatus::Paid,
                None
            ),
            line(
                5,
                "R-2",
                "王秀兰",
                "6228480012345678912",
                100_000_000,
                ReturnStatus::Failed,
                Some("账户已销户")
            ),
            line(
                6,
                "R-3",
                "李凤英",
                "622848001234567",
                1230,
                ReturnStatus::Paid,
                None
            ),
            line(
                7,
                "R-4",
                "赵桂荣",
                "6228480012345678934",
                59000,
                ReturnStatus::Failed,
                Some("户名不符")
            ),
        ]
    );
}

#[test]
fn xlsx_return_errors() {
    let error = |account: XlsxValue, amount: XlsxValue, status: &str| {
        read_return(
            &return_xlsx(&[
                (
                    "R-1",
                    "张桂英",
                    Text("6228480012345678901"),
                    Number(590.0),
                    "成功",
                    "",
                ),
                ("R-2", "王秀兰", account, amount, status, ""),
            ]),
            "回盘.xlsx",
        )
        .expect_err("the file is refused")
        .to_string()
    };
    assert_eq!(
        error(Number(6_228_480_012_345_678_912.0), Number(590.0), "成功"),
        "row 5, 账号: stored as a number (6228480012345679000), digits may be lost: format the column as text"
    );
    assert_eq!(
        error(Text("6228480012345678912"), Number(12.345), "成功"),
        "row 5, 金额(元): not an amount: 12.345 (more than 2 decimals)"
    );
    assert_eq!(
        error(Text("6228480012345678912"), Number(-590.0), "成功"),
        "row 5, 金额(元): not an amount: -590 (no sign allowed)"
    );
    assert_eq!(
        error(Text("6228480012345678912"), Text("590.001"), "成功"),
        "row 5, 金额(元): not an amount: \"590.001\" (more than 2 decimals)"
    );
    assert_eq!(
        error(Text("6228480012345678912"), Number(590.0), "待处理"),
        "row 5, 状态: unknown status \"待处理\" (expected 成功 or 失败)"
    );

    let mut workbook = Workbook::new();
    workbook
        .add_worksheet()
        .write_string(0, 0, "没有表头")
        .expect("a cell is written");
    let bytes = workbook.save_to_buffer().expect("the workbook is saved");
    assert_eq!(
        read_return(&bytes, "回盘.xlsx")
            .expect_err("the file is refused")
            .to_string(),
        "回盘.xlsx: no header row: none of the first 20 rows has a 业务参考号 cell (in any sheet)"
    );
}

#[test]
fn xlsx_return_on_a_later_sheet() {
    let mut workbook = Workbook::new();
    workbook
        .add_worksheet()
        .write_string(0, 0, "说明")
        .expect("a cell is written");
    let sheet = workbook.add_worksheet();
    for (col, h) in ["业务参考号", "户名", "账号", "金额", "状态"]
        .iter()
        .enumerate()
    {
        sheet
            .write_string(1, col as u16 + 2, *h)
            .expect("a cell is written");
    }
    for (col, v) in ["R-1", "张桂英", "6228480012345678901", "590", "成功"]
        .iter()
        .enumerate()
    {
        sheet
            .write_string(2, col as u16 + 2, *v)
            .expect("a cell is written");
    }
    let bytes = workbook.save_to_buffer().expect("the workbook is saved");
    assert_eq!(
        read_return(&bytes, "回盘.xlsx").expect("the return file is valid"),
        [line(
            3,
            "R-1",
            "张桂英",
            "6228480012345678901",
            59000,
            ReturnStatus::Paid,
            None
        )]
    );
}

fn pain002(transactions: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>ABC-20261210-0001</MsgId>
      <CreDtTm>2026-12-10T16:00:00+08:00</CreDtTm>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>R2026120001-371302-A954554682468ED3</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>R2026120001-371302-A954554682468ED3</OrgnlPmtInfId>
{transactions}
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
"#
    )
}

const PAID_TX: &str = r#"      <TxInfAndSts>
        <OrgnlEndToEndId>R2026120001-000001</OrgnlEndToEndId>
        <TxSts>ACSC</TxSts>
        <OrgnlTxRef>
          <Amt><InstdAmt Ccy="CNY">590.00</InstdAmt></Amt>
          <Cdtr><Pty><Nm>张桂英</Nm></Pty></Cdtr>
          <CdtrAcct><Id><Othr><Id>6228480012345678901</Id></Othr></Id></CdtrAcct>
        </OrgnlTxRef>
      </TxInfAndSts>"#;

const REJECTED_TX: &str = r#"      <TxInfAndSts>
        <OrgnlEndToEndId>R2026120001-000002</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf>
          <Rsn><Cd>AC04</Cd></Rsn>
          <AddtlInf>账户已销户</AddtlInf>
        </StsRsnInf>
        <StsRsnInf>
          <Rsn><Prtry>BE01</Prtry></Rsn>
          <AddtlInf>户名不符 &amp; 账号有误</AddtlInf>
        </StsRsnInf>
      </TxInfAndSts>"#;

fn read_pain002(xml: &str) -> Result<Vec<ReturnLine>, String> {
    read_return(xml.as_bytes(), "pain002.xml").map_err(|e| e.to_string())
}

#[test]
fn pain002_paid_and_rejected() {
    let older = r#"      <TxInfAndSts>
        <OrgnlEndToEndId>R2026120001-000003</OrgnlEndToEndId>
        <TxSts>ACCC</TxSts>
        <OrgnlTxRef>
          <Amt><InstdAmt Ccy="CNY">12.3</InstdAmt></Amt>
          <Cdtr><Nm>李凤英</Nm></Cdtr>
        </OrgnlTxRef>
      </TxInfAndSts>
      <TxInfAndSts><OrgnlEndToEndId>R2026120001-000004</OrgnlEndToEndId><TxSts>ACSP</TxSts><OrgnlTxRef/></TxInfAndSts>"#;
    let xml = format!(
        "\u{feff}\r\n  {}",
        pain002(&[PAID_TX, REJECTED_TX, older].join("\n"))
    );
    assert_eq!(
        read_pain002(&xml),
        Ok(vec![
            line(
                1,
                "R2026120001-000001",
                "张桂英",
                "6228480012345678901",
                59000,
                ReturnStatus::Paid,
                None
            ),
            ReturnLine {
                row: 2,
                reference: "R2026120001-000002".to_owned(),
                name: None,
                account: None,
                amount: None,
                status: ReturnStatus::Failed,
                reason: Some("AC04 账户已销户; BE01 户名不符 & 账号有误".to_owned()),
            },
            ReturnLine {
                row: 3,
                reference: "R2026120001-000003".to_owned(),
                name: Some("李凤英".to_owned()),
                account: None,
                amount: Some(Fen(1230)),
                status: ReturnStatus::Paid,
                reason: None,
            },
            ReturnLine {
                row: 4,
                reference: "R2026120001-000004".to_owned(),
                name: None,
                account: None,
                amount: None,
                status: ReturnStatus::Paid,
                reason: None,
            },
        ])
    );
}

#[test]
fn pain002_with_a_namespace_prefix_and_character_references() {
    let xml = pain002(PAID_TX)
        .replace("<Document xmlns=", "<p:Document xmlns:p=")
        .replace("</Document>", "</p:Document>")
        .replace("<CstmrPmtStsRpt>", "<p:CstmrPmtStsRpt>")
        .replace("</CstmrPmtStsRpt>", "</p:CstmrPmtStsRpt>");
    let xml = xml.replace("<Nm>张桂英</Nm>", "<Nm>&#x5F20;&#26690;英</Nm>");
    let lines = read_pain002(&xml).expect("the report is valid");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].name.as_deref(), Some("张桂英"));
}

#[test]
fn pain002_errors() {
    let with = |tx: &str| {
        read_pain002(&pain002(&format!("{PAID_TX}\n{tx}"))).expect_err("the file is refused")
    };
    assert_eq!(
        with(
            "<TxInfAndSts><OrgnlEndToEndId>R-2</OrgnlEndToEndId><TxSts>PDNG</TxSts></TxInfAndSts>"
        ),
        "transaction 2, TxSts: status \"PDNG\" is not final (expected ACSC, ACCC, ACSP or RJCT)"
    );
    assert_eq!(
        with("<TxInfAndSts><OrgnlEndToEndId>R-2</OrgnlEndToEndId></TxInfAndSts>"),
        "transaction 2, TxSts: missing status"
    );
    assert_eq!(
        with("<TxInfAndSts><TxSts>RJCT</TxSts></TxInfAndSts>"),
        "transaction 2, OrgnlEndToEndId: missing reference"
    );
    assert_eq!(
        with(PAID_TX),
        "transaction 2, OrgnlEndToEndId: duplicate reference \"R2026120001-000001\" (also transaction 1)"
    );
    assert_eq!(
        with(
            &PAID_TX
                .replace("R2026120001-000001", "R-2")
                .replace("CNY", "EUR")
        ),
        "transaction 2, InstdAmt: currency \"EUR\", expected CNY"
    );
    assert_eq!(
        with(
            &PAID_TX
                .replace("R2026120001-000001", "R-2")
                .replace(" Ccy=\"CNY\"", "")
        ),
        "transaction 2, InstdAmt: no currency (Ccy), expected CNY"
    );
    assert_eq!(
        with(
            &PAID_TX
                .replace("R2026120001-000001", "R-2")
                .replace("590.00", "590.005")
        ),
        "transaction 2, InstdAmt: not an amount: \"590.005\" (more than 2 decimals)"
    );

    let mut pain001 = Vec::new();
    guanai_bank::write_pain001(&two_lines(), &mut pain001).expect("the batch is valid");
    assert_eq!(
        read_return(&pain001, "pain001.xml")
            .expect_err("the file is refused")
            .to_string(),
        "pain001.xml: not a pain.002 payment status report (namespace \"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\")"
    );
    assert_eq!(
        read_pain002(
            &pain002(PAID_TX)
                .replace("pain.002.001.10\"", "pain.002.001.10\" ")
                .replace("CstmrPmtStsRpt", "FIToFIPmtStsRpt")
        ),
        Err(
            "pain002.xml: not a pain.002 payment status report (Document holds <FIToFIPmtStsRpt>)"
                .to_owned()
        )
    );
    assert_eq!(
        read_pain002("<html><body>系统维护</body></html>"),
        Err(
            "pain002.xml: not a pain.002 payment status report (the root element is <html>)"
                .to_owned()
        )
    );
    assert_eq!(
        read_pain002(&pain002("")),
        Err(
            "pain002.xml: no transaction statuses (TxInfAndSts) in the report (group status PART)"
                .to_owned()
        )
    );
    assert_eq!(
        read_pain002(&pain002(PAID_TX).replace("</TxSts>", "</TxSt>")),
        Err(
            "pain002.xml: not well-formed XML at line 17: ill-formed document: expected `</TxSts>`, but `</TxSt>` was found"
                .to_owned()
        )
    );
    let full = pain002(PAID_TX);
    assert_eq!(
        read_pain002(
            &full[..full
                .find("</OrgnlPmtInfAndSts>")
                .expect("the closing tag is there")]
        ),
        Err(
            "pain002.xml: not well-formed XML: the file ends inside <OrgnlPmtInfAndSts>".to_owned()
        )
    );
    assert_eq!(
        read_pain002(&full.replace("张桂英", "&nbsp;")),
        Err("pain002.xml: not well-formed XML at line 20: unknown entity &nbsp;".to_owned())
    );
    assert_eq!(
        read_return(b"<?xml version=\"1.0\"?>\n<a>\xC0</a>", "pain002.xml")
            .expect_err("the file is refused")
            .to_string(),
        "pain002.xml: the XML is not UTF-8 (line 2)"
    );
}
