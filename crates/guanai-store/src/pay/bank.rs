//! Bank files for a run: the approved run's transfers exported as the generic 代发 layout (XLSX
//! and CSV) and ISO 20022 pain.001, one file per county and bank; and the bank's return files
//! applied — paid transfers settled, failed ones reversed into what is owed and flagged, so the
//! next run pays them once the account is fixed. A return file that does not match the run
//! changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use guanai_bank::{Batch, Payer, ReturnStatus, Transfer, normalize_account};
use guanai_rules::{CountyCode, Fen};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use super::lifecycle::advance_run;
use super::{PayError, RunId, RunStatus};
use crate::archive::{Archive, now_micros};
use crate::file::FamilyFile;
use crate::model::{Actor, FactValue, FamilyId};
use crate::on_db;

/// One file set written for a county and bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankFile {
    pub county_code: String,
    pub bank: String,
    pub count: usize,
    pub total: Fen,
    pub paths: Vec<PathBuf>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFiles {
    pub files: Vec<BankFile>,
    pub count: usize,
    pub total: Fen,
}

/// What a return file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnReport {
    pub paid: usize,
    pub paid_total: Fen,
    pub failed: Vec<(i64, String, Fen, String)>,
    /// Transfers of the run still waiting for a result.
    pub waiting: i64,
    pub settled: bool,
}

/// The paying account of a county's finance (付款账户), from the payment settings.
fn payer_key(county: &str) -> String {
    format!("payer:{county}")
}

/// The bank a file goes to: the head office of a branch name (中国农业银行临沂兰山支行 → 中国农业银行).
pub fn bank_group(bank: &str) -> String {
    const BANKS: [&str; 12] = [
        "中国工商银行",
        "中国农业银行",
        "中国银行",
        "中国建设银行",
        "交通银行",
        "中国邮政储蓄银行",
        "临沂银行",
        "齐商银行",
        "日照银行",
        "农村商业银行",
        "农商银行",
        "农村信用合作社",
    ];
    BANKS
        .iter()
        .find(|b| bank.contains(*b))
        .map(|b| match *b {
            "农商银行" | "农村信用合作社" => "农村商业银行".to_owned(),
            other => other.to_owned(),
        })
        .unwrap_or_else(|| bank.trim().to_owned())
}

/// The name, ID number and frozen account of a transfer's payee.
struct PayeeDetails {
    name: String,
    id_number: String,
    bank: String,
    account: String,
}

fn payee_details(
    file: &FamilyFile,
    person: &str,
    account_fact: Option<&str>,
) -> Result<PayeeDetails, PayError> {
    let people = file.people(None);
    let view = people
        .iter()
        .find(|p| p.person_id.as_str() == person)
        .ok_or_else(|| {
            PayError::Invalid(format!(
                "person {person} is not in family {}",
                file.family_id
            ))
        })?;
    let name = view.name().unwrap_or_default().to_owned();
    let id_number = view
        .facts
        .iter()
        .rev()
        .find_map(|f| match &f.value {
            Some(FactValue::IdNumber { number }) => Some(number.as_str().to_owned()),
            _ => None,
        })
        .unwrap_or_default();
    let (bank, account) = file
        .facts
        .iter()
        .find(|f| Some(f.fact_id.as_str()) == account_fact)
        .and_then(|f| match &f.value {
            Some(FactValue::BankAccount { bank, account }) => Some((bank.clone(), account.clone())),
            _ => None,
        })
        .ok_or_else(|| {
            PayError::Invalid(format!(
                "transfer to {person}: the bank account on record for it cannot be found"
            ))
        })?;
    Ok(PayeeDetails {
        name,
        id_number,
        bank,
        account,
    })
}

impl Archive {
    /// The files of the families the transfers pay, by family id (names, ID numbers, accounts).
    async fn files_of(
        &self,
        transfers: &[super::TransferView],
    ) -> Result<HashMap<String, FamilyFile>, PayError> {
        let mut ids: Vec<&str> = transfers.iter().map(|t| t.family_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let families: Vec<FamilyId> = ids.into_iter().filter_map(FamilyId::parse).collect();
        Ok(self
            .family_files(&families)
            .await?
            .into_iter()
            .map(|f| (f.family_id.as_str().to_owned(), f))
            .collect())
    }

    /// Sets the paying account of a county's finance for bank files.
    pub async fn set_payer(
        &self,
        county: CountyCode,
        payer: &Payer,
        actor: &Actor,
    ) -> Result<(), PayError> {
        for (field, value) in [
            ("--name", &payer.name),
            ("--account", &payer.account),
            ("--bank", &payer.bank),
        ] {
            if value.trim().is_empty() {
                return Err(PayError::Invalid(format!("{field}: must not be empty")));
            }
        }
        super::build::check_account(&payer.bank, &payer.account)
            .map_err(|why| PayError::Invalid(format!("--account: {why}")))?;
        let value = format!(
            "{}\t{}\t{}",
            payer.name.trim(),
            normalize_account(&payer.account),
            payer.bank.trim()
        );
        on_db!(self.db(), pool => {
            sqlx::query("INSERT INTO pay_setting (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                .bind(payer_key(&county.to_string()))
                .bind(&value)
                .execute(pool)
                .await?;
        });
        self.audit(
            actor,
            "pay.payer",
            &county.to_string(),
            "paying account set",
        )
        .await?;
        Ok(())
    }

    async fn payer(&self, county: &str) -> Result<Payer, PayError> {
        let text = self.setting(&payer_key(county)).await?.ok_or_else(|| {
            PayError::Invalid(format!(
                "county {county} has no paying account for bank files: set it with `guanai pay payer --county {county} --name … --account … --bank …`"
            ))
        })?;
        let mut parts = text.split('\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(account), Some(bank)) => Ok(Payer {
                name: name.to_owned(),
                account: account.to_owned(),
                bank: bank.to_owned(),
            }),
            _ => Err(PayError::Invalid(format!(
                "the paying account of county {county} is damaged; set it again"
            ))),
        }
    }

    /// Exports an approved run's transfers into `dir`: per county and bank an XLSX, a CSV and a
    /// pain.001 file. The run becomes `exported`; the transfers are posted to bank clearing.
    pub async fn export_run(
        &self,
        run: &RunId,
        dir: &Path,
        execution_date: Date,
        actor: &Actor,
    ) -> Result<ExportedFiles, PayError> {
        let status = self.run_status(run.as_str()).await?;
        if status != RunStatus::Approved {
            return Err(PayError::WrongStatus {
                run: run.to_string(),
                status: status.as_str(),
                action: "export to the bank",
                needed: "approved",
            });
        }
        let summary = self.run_summary(run).await?;
        let transfers: Vec<_> = self
            .run_transfers(run)
            .await?
            .into_iter()
            .filter(|t| t.status == "pending")
            .collect();
        let lines = self.run_lines(run, None).await?;
        let mut kinds: HashMap<&str, Vec<&str>> = HashMap::new();
        for l in &lines {
            let zh = guanai_pay::LineKind::parse(&l.kind)
                .map(|k| k.as_zh())
                .unwrap_or("扶助金");
            let list = kinds.entry(l.person_id.as_str()).or_default();
            if !list.contains(&zh) {
                list.push(zh);
            }
        }
        let files = self.files_of(&transfers).await?;
        let (year, month) = summary
            .month
            .split_once('-')
            .unwrap_or((&summary.month, ""));
        let mut batches: BTreeMap<(String, String), Vec<Transfer>> = BTreeMap::new();
        for t in &transfers {
            let file = files
                .get(&t.family_id)
                .ok_or_else(|| PayError::Invalid(format!("family {} not found", t.family_id)))?;
            let p = payee_details(file, &t.person_id, t.account_fact.as_deref())?;
            let what = kinds
                .get(t.person_id.as_str())
                .map(|k| k.join("、"))
                .unwrap_or_else(|| "计划生育特别扶助金".to_owned());
            let memo: String = format!("{year}年{month}月{what}")
                .chars()
                .take(140)
                .collect();
            batches
                .entry((t.county_code.clone(), bank_group(&p.bank)))
                .or_default()
                .push(Transfer {
                    reference: format!("{}-{:06}", run.as_str(), t.transfer_no),
                    name: p.name,
                    account: p.account,
                    bank: p.bank,
                    amount: t.amount,
                    id_number: p.id_number,
                    memo,
                });
        }
        std::fs::create_dir_all(dir).map_err(crate::StoreError::Io)?;
        let created_at = jiff::Timestamp::now()
            .to_zoned(TimeZone::fixed(jiff::tz::offset(8)))
            .datetime();
        let mut out = ExportedFiles {
            files: Vec::new(),
            count: 0,
            total: Fen::ZERO,
        };
        for ((county, bank), transfers) in batches {
            let county_name = crate::areas::name_of(self, &county)
                .await?
                .unwrap_or_default();
            let batch = Batch {
                batch_id: format!("{}-{county}-{bank}", run.as_str()),
                title: format!(
                    "{county_name} {year}年{month}月 计划生育特殊困难家庭扶助金 代发清单"
                ),
                county_code: county.clone(),
                county_name,
                bank: bank.clone(),
                payer: self.payer(&county).await?,
                created_at,
                execution_date,
                transfers,
            };
            batch.check()?;
            let stem = dir.join(format!("{}-{county}-{bank}", run.as_str()));
            let xlsx = stem.with_extension("xlsx");
            let csv = stem.with_extension("csv");
            let xml = stem.with_extension("pain001.xml");
            std::fs::write(&xlsx, guanai_bank::write_xlsx(&batch)?)
                .map_err(crate::StoreError::Io)?;
            let mut buf = Vec::new();
            guanai_bank::write_csv(&batch, &mut buf)?;
            std::fs::write(&csv, buf).map_err(crate::StoreError::Io)?;
            let mut buf = Vec::new();
            guanai_bank::write_pain001(&batch, &mut buf)?;
            std::fs::write(&xml, buf).map_err(crate::StoreError::Io)?;
            out.count += batch.count();
            out.total = out.total + batch.total();
            out.files.push(BankFile {
                county_code: county,
                bank,
                count: batch.count(),
                total: batch.total(),
                paths: vec![xlsx, csv, xml],
            });
        }
        let now = now_micros();
        let entry = format!("E{}-export", run.as_str());
        let memo = format!("{} 发放批次 {} 报送银行", summary.month, run.as_str());
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            advance_run!(tx, run, "approved" => "exported", now, actor, "payment run {run} changed during the export; nothing was recorded");
            crate::begin_entry!(&mut *tx, &entry, run.as_str(), "export", &memo, &actor.name, now);
            sqlx::query(
                "INSERT INTO ledger_posting (entry_id, posting_no, account, family_id, amount) \
                 SELECT $1, transfer_no, 'payable:' || person_id, family_id, amount FROM pay_transfer WHERE run_id = $2 AND status = 'pending'",
            )
            .bind(&entry)
            .bind(run.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO ledger_posting (entry_id, posting_no, account, family_id, amount) VALUES ($1, 0, 'bank:clearing', NULL, $2)")
                .bind(&entry)
                .bind(-out.total.get())
                .execute(&mut *tx)
                .await?;
            crate::close_entry!(&mut *tx, &entry);
            sqlx::query("UPDATE pay_transfer SET status = 'sent' WHERE run_id = $1 AND status = 'pending'")
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE pay_county SET open_run = NULL WHERE open_run = $1")
                .bind(run.as_str())
                .execute(&mut *tx)
                .await?;
            let note = format!(
                "bank files with full ID numbers and accounts: {} transfers, {} yuan, into {}",
                out.count,
                out.total,
                dir.display()
            );
            crate::audit::append_audit!(&mut *tx, actor, "pay.export", run.as_str(), &note);
            tx.commit().await?;
        });
        Ok(out)
    }

    /// Applies a bank return file to an exported run. Every line must name a transfer of the run
    /// that is waiting for its result, with the amount (and name and account, where the file
    /// states them) that was sent; otherwise nothing changes.
    pub async fn import_results(
        &self,
        run: &RunId,
        bytes: &[u8],
        file_name: &str,
        actor: &Actor,
    ) -> Result<ReturnReport, PayError> {
        let status = self.run_status(run.as_str()).await?;
        if !matches!(status, RunStatus::Exported | RunStatus::Settled) {
            return Err(PayError::WrongStatus {
                run: run.to_string(),
                status: status.as_str(),
                action: "importing bank results",
                needed: "exported",
            });
        }
        let digest = crate::bulk::hex(&Sha256::digest(bytes));
        let before: Option<(i64,)> = on_db!(self.db(), pool => {
            sqlx::query_as("SELECT imported_at FROM bank_return WHERE run_id = $1 AND digest = $2")
                .bind(run.as_str())
                .bind(&digest)
                .fetch_optional(pool)
                .await?
        });
        if let Some((at,)) = before {
            let at = jiff::Timestamp::from_microsecond(at)
                .map(|t| {
                    t.to_zoned(TimeZone::fixed(jiff::tz::offset(8)))
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            return Err(PayError::ReturnAgain {
                run: run.to_string(),
                at,
            });
        }
        let lines = guanai_bank::read_return(bytes, file_name)?;
        let transfers = self.run_transfers(run).await?;
        let by_reference: HashMap<String, &super::TransferView> = transfers
            .iter()
            .map(|t| (format!("{}-{:06}", run.as_str(), t.transfer_no), t))
            .collect();
        let files = self.files_of(&transfers).await?;
        let mut problems = Vec::new();
        let mut apply: Vec<(&super::TransferView, ReturnStatus, String)> = Vec::new();
        for line in &lines {
            let Some(t) = by_reference.get(&line.reference) else {
                problems.push(format!(
                    "  row {}: 业务参考号 {} is not a transfer of this run",
                    line.row, line.reference
                ));
                continue;
            };
            if t.status != "sent" {
                problems.push(format!(
                    "  row {}: transfer {} is {} (already settled or never sent)",
                    line.row, line.reference, t.status
                ));
                continue;
            }
            if let Some(amount) = line.amount
                && amount != t.amount
            {
                problems.push(format!(
                    "  row {}: 金额 {amount} differs from the {} yuan sent for {}",
                    line.row, t.amount, line.reference
                ));
                continue;
            }
            if line.name.is_some() || line.account.is_some() {
                let file = files.get(&t.family_id).ok_or_else(|| {
                    PayError::Invalid(format!("family {} not found", t.family_id))
                })?;
                let p = payee_details(file, &t.person_id, t.account_fact.as_deref())?;
                if let Some(name) = &line.name
                    && *name != p.name
                {
                    problems.push(format!(
                        "  row {}: 户名 differs from the name sent for {}",
                        line.row, line.reference
                    ));
                    continue;
                }
                if let Some(account) = &line.account
                    && *account != normalize_account(&p.account)
                {
                    problems.push(format!(
                        "  row {}: 账号 differs from the account sent for {}",
                        line.row, line.reference
                    ));
                    continue;
                }
            }
            apply.push((t, line.status, line.reason.clone().unwrap_or_default()));
        }
        if !problems.is_empty() {
            return Err(PayError::ReturnMismatch {
                run: run.to_string(),
                list: problems.join("\n"),
            });
        }
        let paid: Vec<_> = apply.iter().filter(|a| a.1 == ReturnStatus::Paid).collect();
        let failed: Vec<_> = apply
            .iter()
            .filter(|a| a.1 == ReturnStatus::Failed)
            .collect();
        let paid_total = paid.iter().fold(Fen::ZERO, |s, a| s + a.0.amount);
        let now = now_micros();
        let entry = format!("E{}-return-{}", run.as_str(), &digest[..16]);
        let memo = format!("发放批次 {} 银行回盘 {file_name}", run.as_str());
        let waiting = on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let mut postings: Vec<super::build::Planned> = Vec::new();
            if paid_total > Fen::ZERO {
                postings.push(("bank:clearing".to_owned(), None, paid_total.get()));
                postings.push(("bank:paid".to_owned(), None, -paid_total.get()));
            }
            for (t, _, _) in &failed {
                postings.push(("bank:clearing".to_owned(), None, t.amount.get()));
                postings.push((format!("payable:{}", t.person_id), Some(t.family_id.clone()), -t.amount.get()));
            }
            crate::begin_entry!(&mut *tx, &entry, run.as_str(), "bank_return", &memo, &actor.name, now);
            let numbered: Vec<(usize, &super::build::Planned)> = postings.iter().enumerate().collect();
            for chunk in numbered.chunks(1000) {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO ledger_posting (entry_id, posting_no, account, family_id, amount) ");
                q.push_values(chunk, |mut b, (i, (account, family, amount))| {
                    b.push_bind(&entry)
                        .push_bind(*i as i64 + 1)
                        .push_bind(account)
                        .push_bind(family.as_deref())
                        .push_bind(*amount);
                });
                q.build().execute(&mut *tx).await?;
            }
            crate::close_entry!(&mut *tx, &entry);
            for (t, status, reason) in &apply {
                let (status, note) = match status {
                    ReturnStatus::Paid => ("paid", reason.clone()),
                    ReturnStatus::Failed => ("failed", if reason.is_empty() { "银行退回（未说明原因）".to_owned() } else { reason.clone() }),
                };
                let updated = sqlx::query("UPDATE pay_transfer SET status = $1, note = $2 WHERE run_id = $3 AND transfer_no = $4 AND status = 'sent'")
                    .bind(status)
                    .bind(&note)
                    .bind(run.as_str())
                    .bind(t.transfer_no)
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Err(PayError::Invalid(format!("transfer {} changed while the return file was applied; nothing was changed", t.transfer_no)));
                }
            }
            sqlx::query("INSERT INTO bank_return (run_id, digest, file_name, imported_at, imported_by, paid, failed) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(run.as_str())
                .bind(&digest)
                .bind(file_name)
                .bind(now)
                .bind(&actor.name)
                .bind(paid.len() as i64)
                .bind(failed.len() as i64)
                .execute(&mut *tx)
                .await?;
            let waiting: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pay_transfer WHERE run_id = $1 AND status = 'sent'")
                .bind(run.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if waiting.0 == 0 {
                sqlx::query("UPDATE pay_run SET status = 'settled', settled_at = $1 WHERE run_id = $2")
                    .bind(now)
                    .bind(run.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let note = format!("{file_name}: {} paid, {} failed", paid.len(), failed.len());
            crate::audit::append_audit!(&mut *tx, actor, "pay.bank_return", run.as_str(), &note);
            tx.commit().await?;
            waiting.0
        });
        Ok(ReturnReport {
            paid: paid.len(),
            paid_total,
            failed: failed
                .iter()
                .map(|(t, _, reason)| {
                    (t.transfer_no, t.family_id.clone(), t.amount, reason.clone())
                })
                .collect(),
            waiting,
            settled: waiting == 0,
        })
    }
}
