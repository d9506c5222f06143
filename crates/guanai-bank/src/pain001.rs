//! The 代发 file as an ISO 20022 customer credit transfer initiation, pain.001.001.09: one
//! `GrpHdr`, one `PmtInf` for the payer's account, one `CdtTrfTxInf` per transfer, elements in
//! the schema's order. UTF-8, indented by two spaces, ending in a line break.
//!
//! Choices made here: `MsgId` and `PmtInfId` are both [`message_id`] of the batch id (35 ASCII
//! characters at most); `CreDtTm` is the batch's creation time with `+08:00`; agents are named
//! (`FinInstnId/Nm`), having no BIC; accounts go in `Id/Othr/Id` without spaces; the creditor's
//! ID number goes in `Cdtr/Id/PrvtId/Othr` with the ISO scheme code `NIDN` (national identity
//! number); the memo is `RmtInf/Ustrd`.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::batch::{Batch, Transfer, normalize_account};
use crate::error::BankError;

/// The namespace of pain.001.001.09.
pub const PAIN001_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// The longest `MsgId` / `PmtInfId` (`Max35Text`).
const MAX_ID: usize = 35;
/// Characters of the readable head kept before the hash in a derived id.
const HEAD: usize = 18;

/// The pain.001 `MsgId` and `PmtInfId` for a batch id: the id itself when it is at most 35
/// ASCII letters, digits and `-`; otherwise its ASCII letters, digits and `-` (runs of `-`
/// collapsed, none at either end, at most 18 characters), a `-` and 16 hex digits of the
/// FNV-1a hash of the whole id. Deterministic: the same batch id always gives the same message
/// id, e.g. `R2026120001-371302-农业银行` gives `R2026120001-371302-` and 16 hex digits.
pub fn message_id(batch_id: &str) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if !batch_id.is_empty() && batch_id.len() <= MAX_ID && batch_id.chars().all(allowed) {
        return batch_id.to_owned();
    }
    let mut head = String::new();
    for c in batch_id.chars().filter(|&c| allowed(c)) {
        if !(c == '-' && (head.is_empty() || head.ends_with('-'))) {
            head.push(c);
        }
    }
    head.truncate(HEAD);
    while head.ends_with('-') {
        head.pop();
    }
    let hash = fnv1a64(batch_id.as_bytes());
    if head.is_empty() {
        format!("{hash:016X}")
    } else {
        format!("{head}-{hash:016X}")
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `<name>text</name>`, the text escaped by quick-xml.
fn leaf<W: Write>(w: &mut Writer<W>, name: &str, text: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(text))?;
    Ok(())
}

/// `<outer><Id><Othr><Id>id</Id></Othr></Id></outer>`, an account.
fn account<W: Write>(w: &mut Writer<W>, outer: &str, id: &str) -> io::Result<()> {
    w.create_element(outer).write_inner_content(|w| {
        w.create_element("Id").write_inner_content(|w| {
            w.create_element("Othr")
                .write_inner_content(|w| leaf(w, "Id", id))?;
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(())
}

/// `<outer><FinInstnId><Nm>name</Nm></FinInstnId></outer>`, a bank.
fn agent<W: Write>(w: &mut Writer<W>, outer: &str, name: &str) -> io::Result<()> {
    w.create_element(outer).write_inner_content(|w| {
        w.create_element("FinInstnId")
            .write_inner_content(|w| leaf(w, "Nm", name))?;
        Ok(())
    })?;
    Ok(())
}

/// `<outer><Nm>name</Nm></outer>`, a party.
fn party<W: Write>(w: &mut Writer<W>, outer: &str, name: &str) -> io::Result<()> {
    w.create_element(outer)
        .write_inner_content(|w| leaf(w, "Nm", name))?;
    Ok(())
}

fn transaction<W: Write>(w: &mut Writer<W>, t: &Transfer) -> io::Result<()> {
    w.create_element("CdtTrfTxInf").write_inner_content(|w| {
        w.create_element("PmtId")
            .write_inner_content(|w| leaf(w, "EndToEndId", &t.reference))?;
        w.create_element("Amt").write_inner_content(|w| {
            w.create_element("InstdAmt")
                .with_attribute(("Ccy", "CNY"))
                .write_text_content(BytesText::new(&t.amount.to_string()))?;
            Ok(())
        })?;
        agent(w, "CdtrAgt", &t.bank)?;
        w.create_element("Cdtr").write_inner_content(|w| {
            leaf(w, "Nm", &t.name)?;
            w.create_element("Id").write_inner_content(|w| {
                w.create_element("PrvtId").write_inner_content(|w| {
                    w.create_element("Othr").write_inner_content(|w| {
                        leaf(w, "Id", &t.id_number)?;
                        w.create_element("SchmeNm")
                            .write_inner_content(|w| leaf(w, "Cd", "NIDN"))?;
                        Ok(())
                    })?;
                    Ok(())
                })?;
                Ok(())
            })?;
            Ok(())
        })?;
        account(w, "CdtrAcct", &normalize_account(&t.account))?;
        w.create_element("RmtInf")
            .write_inner_content(|w| leaf(w, "Ustrd", &t.memo))?;
        Ok(())
    })?;
    Ok(())
}

fn document<W: Write>(w: &mut Writer<W>, batch: &Batch) -> io::Result<()> {
    let id = message_id(&batch.batch_id);
    let count = batch.count().to_string();
    let total = batch.total().to_string();
    let c = batch.created_at;
    let created = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        c.year(),
        c.month(),
        c.day(),
        c.hour(),
        c.minute(),
        c.second()
    );
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("Document")
        .with_attribute(("xmlns", PAIN001_NAMESPACE))
        .write_inner_content(|w| {
            w.create_element("CstmrCdtTrfInitn")
                .write_inner_content(|w| {
                    w.create_element("GrpHdr").write_inner_content(|w| {
                        leaf(w, "MsgId", &id)?;
                        leaf(w, "CreDtTm", &created)?;
                        leaf(w, "NbOfTxs", &count)?;
                        leaf(w, "CtrlSum", &total)?;
                        party(w, "InitgPty", &batch.payer.name)
                    })?;
                    w.create_element("PmtInf").write_inner_content(|w| {
                        leaf(w, "PmtInfId", &id)?;
                        leaf(w, "PmtMtd", "TRF")?;
                        leaf(w, "NbOfTxs", &count)?;
                        leaf(w, "CtrlSum", &total)?;
                        w.create_element("ReqdExctnDt").write_inner_content(|w| {
                            leaf(w, "Dt", &batch.execution_date.to_string())
                        })?;
                        party(w, "Dbtr", &batch.payer.name)?;
                        account(w, "DbtrAcct", &normalize_account(&batch.payer.account))?;
                        agent(w, "DbtrAgt", &batch.payer.bank)?;
                        for t in &batch.transfers {
                            transaction(w, t)?;
                        }
                        Ok(())
                    })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    w.get_mut().write_all(b"\n")
}

/// Writes the batch as pain.001.001.09 (see the module documentation), after
/// [`Batch::check`].
pub fn write_pain001(batch: &Batch, out: &mut dyn Write) -> Result<(), BankError> {
    batch.check()?;
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    document(&mut writer, batch)?;
    Ok(())
}
