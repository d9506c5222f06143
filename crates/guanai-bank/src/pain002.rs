//! A pain.002 return file (ISO 20022 customer payment status report, written for
//! pain.002.001.10; other pain.002 versions have the same elements used here), read as a stream
//! of XML events with quick-xml.
//!
//! The root must be `Document` in a `urn:iso:std:iso:20022:tech:xsd:pain.002.*` namespace,
//! holding `CstmrPmtStsRpt`. Each `OrgnlPmtInfAndSts/TxInfAndSts` is one [`ReturnLine`]:
//! - `OrgnlEndToEndId`: the reference, required and unique;
//! - `TxSts`: `ACSC`, `ACCC`, `ACSP` are [`ReturnStatus::Paid`], `RJCT` is
//!   [`ReturnStatus::Failed`], anything else (`PDNG`, `ACTC`, ...) or nothing is an error;
//! - `StsRsnInf`: `Rsn/Cd` (or `Rsn/Prtry`) and `AddtlInf`, joined by spaces, several
//!   `StsRsnInf` by `; `, make the reason;
//! - `OrgnlTxRef`, when present: `Amt/InstdAmt` (which must be in CNY) the amount, `Cdtr/Nm` or
//!   `Cdtr/Pty/Nm` the name, `CdtrAcct/Id/Othr/Id` (or `IBAN`) the account; each `None` when
//!   absent.
//!
//! Elements are matched by local name, so any namespace prefix is accepted. The file must be
//! UTF-8.

use std::collections::HashMap;

use guanai_rules::Fen;
use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::amount::parse_yuan;
use crate::batch::normalize_account;
use crate::error::BankError;
use crate::returns::{ReturnLine, ReturnStatus, file_error, line_of};

const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.";
const NOT_PAIN002: &str = "not a pain.002 payment status report";

/// What one `TxInfAndSts` said, as read so far.
#[derive(Debug, Default)]
struct Tx {
    reference: Option<String>,
    status: Option<String>,
    /// One entry per `StsRsnInf`: its codes and texts.
    reasons: Vec<Vec<String>>,
    currency: Option<String>,
    amount: Option<Fen>,
    name: Option<String>,
    account: Option<String>,
}

/// The reader's state: the open elements (local names), the text of the innermost one, the
/// transaction being read.
struct Parser<'f> {
    file_name: &'f str,
    stack: Vec<String>,
    text: String,
    tx: Option<Tx>,
    /// `TxInfAndSts` elements met so far.
    number: usize,
    seen: HashMap<String, usize>,
    group_status: Option<String>,
    lines: Vec<ReturnLine>,
}

fn local_name(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

/// Text content, trimmed; `None` when empty.
fn non_empty(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

fn tx_error(number: usize, element: &'static str, problem: String) -> BankError {
    BankError::Transaction {
        number,
        element,
        problem,
    }
}

impl Parser<'_> {
    /// Whether the open elements below the innermost `TxInfAndSts` are exactly `path`.
    fn tx_path_is(&self, path: &[&str]) -> bool {
        self.stack
            .iter()
            .rposition(|n| n == "TxInfAndSts")
            .is_some_and(|at| {
                self.stack[at + 1..]
                    .iter()
                    .map(String::as_str)
                    .eq(path.iter().copied())
            })
    }

    /// A start tag (or the start of an empty one).
    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), BankError> {
        let name = local_name(e);
        match self.stack.len() {
            0 => self.check_root(e, &name)?,
            1 if name != "CstmrPmtStsRpt" => {
                return Err(file_error(
                    self.file_name,
                    format!("{NOT_PAIN002} (Document holds <{name}>)"),
                ));
            }
            _ => {}
        }
        match name.as_str() {
            "TxInfAndSts" => {
                self.number += 1;
                self.tx = Some(Tx::default());
            }
            "StsRsnInf" if self.tx_path_is(&[]) => {
                if let Some(tx) = &mut self.tx {
                    tx.reasons.push(Vec::new());
                }
            }
            "InstdAmt" if self.tx_path_is(&["OrgnlTxRef", "Amt"]) => {
                let currency = e
                    .try_get_attribute("Ccy")
                    .ok()
                    .flatten()
                    .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
                    .map(|v| v.trim().to_owned());
                if let Some(tx) = &mut self.tx {
                    tx.currency = currency;
                }
            }
            _ => {}
        }
        self.stack.push(name);
        self.text.clear();
        Ok(())
    }

    fn check_root(&self, e: &BytesStart<'_>, name: &str) -> Result<(), BankError> {
        if name != "Document" {
            return Err(file_error(
                self.file_name,
                format!("{NOT_PAIN002} (the root element is <{name}>)"),
            ));
        }
        let binding = match e.name().prefix() {
            Some(prefix) => format!("xmlns:{}", prefix.into_inner()),
            None => "xmlns".to_owned(),
        };
        let namespace = e
            .try_get_attribute(binding.as_str())
            .ok()
            .flatten()
            .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
            .map(|v| v.into_owned())
            .unwrap_or_default();
        if namespace.starts_with(NAMESPACE_PREFIX) {
            Ok(())
        } else {
            Err(file_error(
                self.file_name,
                format!("{NOT_PAIN002} (namespace {namespace:?})"),
            ))
        }
    }

    /// An end tag (or the end of an empty one).
    fn end(&mut self) -> Result<(), BankError> {
        let text = std::mem::take(&mut self.text);
        let Some(name) = self.stack.pop() else {
            return Ok(());
        };
        if name == "TxInfAndSts" {
            return self.finish();
        }
        let number = self.number;
        let Some(at) = self.stack.iter().rposition(|n| n == "TxInfAndSts") else {
            if name == "GrpSts"
                && self.stack.iter().map(String::as_str).eq([
                    "Document",
                    "CstmrPmtStsRpt",
                    "OrgnlGrpInfAndSts",
                ])
            {
                self.group_status = non_empty(&text);
            }
            return Ok(());
        };
        let mut path: Vec<&str> = self.stack[at + 1..].iter().map(String::as_str).collect();
        path.push(&name);
        let Some(tx) = self.tx.as_mut() else {
            return Ok(());
        };
        match path.as_slice() {
            ["OrgnlEndToEndId"] => tx.reference = non_empty(&text),
            ["TxSts"] => tx.status = non_empty(&text),
            ["StsRsnInf", "Rsn", "Cd" | "Prtry"] | ["StsRsnInf", "AddtlInf"] => {
                if let (Some(reason), Some(part)) = (tx.reasons.last_mut(), non_empty(&text)) {
                    reason.push(part);
                }
            }
            ["OrgnlTxRef", "Amt", "InstdAmt"] => {
                match tx.currency.as_deref() {
                    Some("CNY") => {}
                    Some(other) => {
                        return Err(tx_error(
                            number,
                            "InstdAmt",
                            format!("currency {other:?}, expected CNY"),
                        ));
                    }
                    None => {
                        return Err(tx_error(
                            number,
                            "InstdAmt",
                            "no currency (Ccy), expected CNY".to_owned(),
                        ));
                    }
                }
                tx.amount = Some(parse_yuan(&text).map_err(|p| tx_error(number, "InstdAmt", p))?);
            }
            ["OrgnlTxRef", "Cdtr", "Nm"] | ["OrgnlTxRef", "Cdtr", "Pty", "Nm"] => {
                tx.name = non_empty(&text);
            }
            ["OrgnlTxRef", "CdtrAcct", "Id", "Othr", "Id"]
            | ["OrgnlTxRef", "CdtrAcct", "Id", "IBAN"] => {
                tx.account = non_empty(&normalize_account(&text));
            }
            _ => {}
        }
        Ok(())
    }

    /// The end of a `TxInfAndSts`: checks it and adds its line.
    fn finish(&mut self) -> Result<(), BankError> {
        let Some(tx) = self.tx.take() else {
            return Ok(());
        };
        let Some(reference) = tx.reference else {
            return Err(tx_error(
                self.number,
                "OrgnlEndToEndId",
                "missing reference".to_owned(),
            ));
        };
        if let Some(first) = self.seen.insert(reference.clone(), self.number) {
            return Err(tx_error(
                self.number,
                "OrgnlEndToEndId",
                format!("duplicate reference {reference:?} (also transaction {first})"),
            ));
        }
        let status = match tx.status.as_deref() {
            Some("ACSC" | "ACCC" | "ACSP") => ReturnStatus::Paid,
            Some("RJCT") => ReturnStatus::Failed,
            Some(other) => {
                return Err(tx_error(
                    self.number,
                    "TxSts",
                    format!("status {other:?} is not final (expected ACSC, ACCC, ACSP or RJCT)"),
                ));
            }
            None => return Err(tx_error(self.number, "TxSts", "missing status".to_owned())),
        };
        let reason = tx
            .reasons
            .iter()
            .filter(|parts| !parts.is_empty())
            .map(|parts| parts.join(" "))
            .collect::<Vec<_>>()
            .join("; ");
        self.lines.push(ReturnLine {
            row: self.number,
            reference,
            name: tx.name,
            account: tx.account,
            amount: tx.amount,
            status,
            reason: non_empty(&reason),
        });
        Ok(())
    }
}

/// Reads a pain.002 file (see the module documentation); `body` is the file after any BOM.
pub(crate) fn read(body: &[u8], file_name: &str) -> Result<Vec<ReturnLine>, BankError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        file_error(
            file_name,
            format!(
                "the XML is not UTF-8 (line {})",
                line_of(body, e.valid_up_to())
            ),
        )
    })?;
    let mut reader = Reader::from_str(text);
    let mut parser = Parser {
        file_name,
        stack: Vec::new(),
        text: String::new(),
        tx: None,
        number: 0,
        seen: HashMap::new(),
        group_status: None,
        lines: Vec::new(),
    };
    let malformed = |offset: u64, problem: String| {
        file_error(
            file_name,
            format!(
                "not well-formed XML at line {}: {problem}",
                line_of(
                    text.as_bytes(),
                    usize::try_from(offset).unwrap_or(usize::MAX)
                )
            ),
        )
    };
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => return Err(malformed(reader.error_position(), e.to_string())),
        };
        match event {
            Event::Start(e) => parser.start(&e)?,
            Event::Empty(e) => {
                parser.start(&e)?;
                parser.end()?;
            }
            Event::End(_) => parser.end()?,
            Event::Text(t) => parser.text.push_str(&t.xml10_content()),
            Event::CData(c) => parser.text.push_str(&c.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => s.to_owned(),
                        None => {
                            return Err(malformed(
                                reader.buffer_position(),
                                format!("unknown entity &{};", &*r),
                            ));
                        }
                    },
                    Err(e) => return Err(malformed(reader.buffer_position(), e.to_string())),
                };
                parser.text.push_str(&resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = parser.stack.last() {
        return Err(file_error(
            file_name,
            format!("not well-formed XML: the file ends inside <{open}>"),
        ));
    }
    if parser.lines.is_empty() {
        let group = parser
            .group_status
            .map(|s| format!(" (group status {s})"))
            .unwrap_or_default();
        return Err(file_error(
            file_name,
            format!("no transaction statuses (TxInfAndSts) in the report{group}"),
        ));
    }
    Ok(parser.lines)
}
