//! Commands over the family archive: `import`, `family show|list|record|correct`, `contact set`,
//! `export`, `backup`, `restore`, `match deaths|duplicates`, `key rotate`. Private values are
//! masked unless `--unmasked --reason …` is given, and every such reveal is audited.

use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use guanai_crypto::{Algorithm, Keyring, mask};
use guanai_rules::engine::evaluate_traced;
use guanai_rules::explain::{Labels, Lang, Reason, render};
use guanai_rules::{
    Category, DisabilityGrade, Hukou, Month, Policy, ResidentId, VillageCode, parse_date,
};
use guanai_store::file::FamilyFile;
use guanai_store::import::{ImportOptions, import};
use guanai_store::{Actor, Archive, FactId, FactRecord, FactValue, FamilyId, NewFact, PersonId};
use jiff::civil::Date;

/// Where the archive is and who is working on it.
#[derive(Args, Clone)]
pub struct ArchiveArgs {
    /// Database URL: sqlite://PATH or postgres://… (default: SQLite in the data directory).
    #[arg(
        long,
        env = "GUANAI_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    database: Option<String>,
    /// Data directory for the default SQLite database and the key file.
    #[arg(
        long,
        env = "GUANAI_DATA_DIR",
        default_value = "guanai-data",
        global = true
    )]
    data_dir: PathBuf,
    /// Key file (default: guanai.key in the data directory; created with mode 0600 on first run).
    /// The keyring may instead be given in GUANAI_KEY.
    #[arg(long, env = "GUANAI_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,
    /// Algorithm for a newly created key: AES-256-GCM, or SM4-GCM with HMAC-SM3 (国密).
    #[arg(long, value_enum, default_value = "aes-256-gcm", global = true)]
    crypto: CryptoArg,
    /// The person doing the work, recorded with every change.
    #[arg(long, env = "GUANAI_OPERATOR", default_value = "cli", global = true)]
    operator: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CryptoArg {
    #[value(name = "aes-256-gcm")]
    Aes,
    #[value(name = "sm4-gcm")]
    Sm4,
}

impl From<CryptoArg> for Algorithm {
    fn from(c: CryptoArg) -> Algorithm {
        match c {
            CryptoArg::Aes => Algorithm::Aes256Gcm,
            CryptoArg::Sm4 => Algorithm::Sm4Gcm,
        }
    }
}

impl ArchiveArgs {
    fn key_path(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("guanai.key"))
    }

    fn keyring(&self) -> Result<Keyring> {
        match std::env::var("GUANAI_KEY") {
            Ok(text) if !text.trim().is_empty() => Keyring::from_text(&text).context("GUANAI_KEY"),
            _ => Keyring::load_or_create(&self.key_path(), self.crypto.into())
                .with_context(|| format!("key file {}", self.key_path().display())),
        }
    }

    fn url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("guanai.db").display()))
    }

    pub(crate) async fn open(&self) -> Result<Archive> {
        let keys = self.keyring()?;
        Ok(Archive::open(&self.url(), keys).await?)
    }

    pub(crate) fn actor(&self) -> Actor {
        Actor::new(self.operator.clone())
    }
}

#[derive(Subcommand)]
pub enum FamilyCommand {
    /// Show a family's file: members, facts and their history, entitlements with explanation.
    Show(ShowArgs),
    /// List the families of an area, optionally of one category.
    List(ListArgs),
    /// Record a new dated fact (death, later child, disability assessment, move, 低保/五保, note).
    Record(RecordArgs),
    /// Correct or withdraw a recorded fact; the old record stays in the history.
    Correct(CorrectArgs),
}

#[derive(Args)]
pub struct ShowArgs {
    /// Archive family id (F…) or a member's resident ID number.
    key: String,
    /// Entitlements for this month (default: the current month).
    #[arg(long)]
    month: Option<String>,
    /// Show the file as it was known at the end of this date (record time).
    #[arg(long)]
    known_at: Option<String>,
    /// Show ID numbers, phones and bank accounts in full (audited; needs --reason).
    #[arg(long, requires = "reason")]
    unmasked: bool,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long, value_enum, default_value = "zh")]
    lang: crate::cli::LangArg,
}

#[derive(Args)]
pub struct ListArgs {
    /// County (6 digits), township (9) or village (12) code; 3713 for the whole city.
    #[arg(long)]
    area: String,
    #[arg(long, value_enum)]
    category: Option<CategoryArg>,
    /// Category as of this month (default: the current month).
    #[arg(long)]
    month: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum CategoryArg {
    Bereaved,
    Orphan,
    Disabled,
    None,
}

impl CategoryArg {
    fn matches(self, c: Category) -> bool {
        matches!(
            (self, c),
            (CategoryArg::Bereaved, Category::Bereaved)
                | (CategoryArg::Orphan, Category::Orphan)
                | (CategoryArg::Disabled, Category::Disabled)
                | (CategoryArg::None, Category::None)
        )
    }
}

/// What a fact says, as command-line options (exactly one).
#[derive(Args)]
#[group(required = false, multiple = false)]
pub struct FactOptions {
    /// The person died on this date.
    #[arg(long, value_name = "DATE")]
    death: Option<String>,
    /// The person had or adopted another child on this date (再生育或收养).
    #[arg(long, value_name = "DATE")]
    later_child: Option<String>,
    /// Disability assessment: GRADE@DATE, e.g. 2@2016-03-15.
    #[arg(long, value_name = "GRADE@DATE")]
    disability: Option<String>,
    /// Household registration moved: VILLAGE-CODE:urban|rural@DATE.
    #[arg(long, value_name = "VILLAGE:HUKOU@DATE")]
    moved: Option<String>,
    /// 低保/五保 status from a date: dibao|wubao|both|none@DATE.
    #[arg(long, value_name = "STATUS@DATE")]
    welfare: Option<String>,
    /// A note on the family's file (name the person in the text if it is about one).
    #[arg(long)]
    note: Option<String>,
    /// A new phone number for the person.
    #[arg(long)]
    phone: Option<String>,
    /// A new bank account for payments: BANK:ACCOUNT, e.g. 临沂农商银行:6222021234567890123.
    #[arg(long, value_name = "BANK:ACCOUNT")]
    bank_account: Option<String>,
    /// The person's resident ID number (checked against their birth date and sex).
    #[arg(long)]
    id_number: Option<String>,
    /// Chronic illness from a date: yes|no@DATE.
    #[arg(long, value_name = "YES|NO@DATE")]
    chronic: Option<String>,
    /// Living situation (居住状况), e.g. 独居.
    #[arg(long)]
    living: Option<String>,
}

#[derive(Args)]
pub struct RecordArgs {
    family: String,
    /// The person the fact is about (P…); not for a move or a note.
    #[arg(long)]
    person: Option<String>,
    /// The family version you read (shown by `family show`): a change made meanwhile is refused.
    #[arg(long)]
    expected_version: i64,
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    fact: FactOptions,
}

#[derive(Args)]
pub struct CorrectArgs {
    family: String,
    /// The fact record to correct (X…).
    fact: String,
    #[arg(long)]
    expected_version: i64,
    /// Why the record is wrong (kept with the correction).
    #[arg(long)]
    reason: String,
    /// Withdraw the record instead of replacing it.
    #[arg(long)]
    withdraw: bool,
    #[arg(long)]
    person: Option<String>,
    #[command(flatten)]
    fact_options: FactOptions,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The census file (.xlsx or .csv), or with --template the template to write.
    file: PathBuf,
    /// Write the empty census template (.xlsx) to FILE instead of importing.
    #[arg(long)]
    template: bool,
    /// Load the good families even if some rows are bad.
    #[arg(long)]
    partial: bool,
    /// Where to write the row errors (.xlsx or .csv; default: FILE.errors.csv next to the input).
    #[arg(long)]
    errors: Option<PathBuf>,
    /// The new families are applications (申请), received on this day (YYYY-MM-DD): each awaits
    /// the village check, public notice, township review and county approval, and no payment run
    /// pays it before. Without it, families are enrolled as the census lists them.
    #[arg(long, value_name = "DATE", requires = "evidence")]
    as_applications: Option<String>,
    /// The evidence received with the applications (with --as-applications).
    #[arg(long)]
    evidence: Option<String>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long)]
    area: String,
    #[arg(long, value_enum, default_value = "xlsx")]
    format: ExportFormat,
    #[arg(long)]
    output: PathBuf,
    /// Export ID numbers, phones and bank accounts in full (audited; needs --reason).
    #[arg(long, requires = "reason")]
    unmasked: bool,
    #[arg(long)]
    reason: Option<String>,
    /// Entitlements as of this month (default: the current month).
    #[arg(long)]
    month: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Xlsx,
    Csv,
}

#[derive(Subcommand)]
pub enum MatchCommand {
    /// Check a list of deceased persons (公民身份号码, 死亡日期) against the registered persons.
    Deaths { file: PathBuf },
    /// Persons registered in more than one family or county.
    Duplicates,
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Add a new key, make it active, and re-encrypt every private value (resumable).
    Rotate {
        /// Algorithm of the new key (default: that of the current key).
        #[arg(long, value_enum)]
        algorithm: Option<CryptoArg>,
    },
}

#[derive(Subcommand)]
pub enum ContactCommand {
    /// Name the contact person of an area (city 371300, county, township or village).
    Set {
        #[arg(long)]
        area: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "联系人")]
        duty: String,
        #[arg(long)]
        phone: Option<String>,
    },
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Today in Linyi (Beijing time, UTC+8), whatever the machine's time zone: the day caseworkers
/// date their work by.
pub(crate) fn today() -> Date {
    guanai_web::pages::today()
}

fn month_or_now(month: Option<&str>) -> Result<Month> {
    match month {
        Some(m) => Ok(Month::parse(m)?),
        None => Ok(Month::of(today())),
    }
}

fn date(field: &str, text: &str) -> Result<Date> {
    parse_date(text).with_context(|| format!("--{field}"))
}

fn split_at_date<'a>(field: &str, text: &'a str) -> Result<(&'a str, Date)> {
    let Some((value, on)) = text.rsplit_once('@') else {
        bail!("--{field}: expected VALUE@YYYY-MM-DD, got {text}")
    };
    Ok((value, date(field, on)?))
}

impl FactOptions {
    fn to_fact(&self, person: Option<PersonId>) -> Result<Option<NewFact>> {
        let fact = |value, valid_from, person| NewFact {
            person_id: person,
            value,
            valid_from,
        };
        if let Some(d) = &self.death {
            return Ok(Some(fact(
                FactValue::Death {
                    certificate_no: None,
                },
                Some(date("death", d)?),
                person,
            )));
        }
        if let Some(d) = &self.later_child {
            return Ok(Some(fact(
                FactValue::LaterChild,
                Some(date("later-child", d)?),
                person,
            )));
        }
        if let Some(text) = &self.disability {
            let (grade, on) = split_at_date("disability", text)?;
            let grade = grade
                .parse::<i64>()
                .ok()
                .and_then(DisabilityGrade::new)
                .with_context(|| format!("--disability: grade must be 1–4, got {grade}"))?;
            return Ok(Some(fact(
                FactValue::Disability {
                    grade,
                    certificate_no: None,
                },
                Some(on),
                person,
            )));
        }
        if let Some(text) = &self.moved {
            let (place, on) = split_at_date("moved", text)?;
            let Some((village, hukou)) = place.split_once(':') else {
                bail!("--moved: expected VILLAGE:urban|rural@DATE")
            };
            let village = VillageCode::parse(village).context("--moved")?;
            let hukou = match hukou {
                "urban" => Hukou::Urban,
                "rural" => Hukou::Rural,
                other => bail!("--moved: hukou must be urban or rural, got {other}"),
            };
            return Ok(Some(fact(
                FactValue::Registration { hukou, village },
                Some(on),
                None,
            )));
        }
        if let Some(text) = &self.welfare {
            let (status, on) = split_at_date("welfare", text)?;
            let (dibao, wubao) = match status {
                "dibao" => (true, false),
                "wubao" => (false, true),
                "both" => (true, true),
                "none" => (false, false),
                other => bail!("--welfare: expected dibao, wubao, both or none, got {other}"),
            };
            return Ok(Some(fact(
                FactValue::Welfare { dibao, wubao },
                Some(on),
                person,
            )));
        }
        if let Some(number) = &self.phone {
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            if !(7..=15).contains(&digits.len())
                || number
                    .chars()
                    .any(|c| !(c.is_ascii_digit() || " -+".contains(c)))
            {
                bail!(
                    "--phone: expected 7 to 15 digits (spaces, hyphens and a leading + allowed), got {number}"
                );
            }
            return Ok(Some(fact(
                FactValue::Phone {
                    number: number.trim().to_owned(),
                },
                None,
                person,
            )));
        }
        if let Some(text) = &self.bank_account {
            let Some((bank, account)) = text.rsplit_once(':') else {
                bail!("--bank-account: expected BANK:ACCOUNT")
            };
            let account: String = account.chars().filter(|c| !c.is_whitespace()).collect();
            if bank.trim().is_empty()
                || !(10..=30).contains(&account.len())
                || !account.bytes().all(|b| b.is_ascii_digit())
            {
                bail!("--bank-account: expected a bank name and an account of 10 to 30 digits");
            }
            return Ok(Some(fact(
                FactValue::BankAccount {
                    bank: bank.trim().to_owned(),
                    account,
                },
                None,
                person,
            )));
        }
        if let Some(text) = &self.id_number {
            let number = if text.len() == 15 {
                ResidentId::from_legacy(text, today())
            } else {
                ResidentId::parse(text, today())
            }
            .map_err(|e| anyhow::anyhow!("--id-number: {e}"))?;
            return Ok(Some(fact(FactValue::IdNumber { number }, None, person)));
        }
        if let Some(text) = &self.chronic {
            let (value, on) = split_at_date("chronic", text)?;
            let chronically_ill = match value {
                "yes" => true,
                "no" => false,
                other => bail!("--chronic: expected yes or no, got {other}"),
            };
            return Ok(Some(fact(
                FactValue::Health { chronically_ill },
                Some(on),
                person,
            )));
        }
        if let Some(text) = &self.living {
            return Ok(Some(fact(
                FactValue::Living {
                    situation: text.trim().to_owned(),
                },
                None,
                person,
            )));
        }
        if let Some(text) = &self.note {
            return Ok(Some(fact(
                FactValue::Note { text: text.clone() },
                None,
                person,
            )));
        }
        Ok(None)
    }
}

fn family_id(text: &str) -> Result<FamilyId> {
    FamilyId::parse(text)
        .with_context(|| format!("not a family id (F followed by 32 hex digits): {text}"))
}

fn person_id(text: Option<&str>) -> Result<Option<PersonId>> {
    text.map(|t| PersonId::parse(t).with_context(|| format!("not a person id (P…): {t}")))
        .transpose()
}

pub fn import_cmd(archive: &ArchiveArgs, args: ImportArgs) -> Result<ExitCode> {
    if args.template {
        guanai_census::write_template(&args.file)?;
        println!(
            "已写出普查模板 / census template written: {}",
            args.file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let reader = guanai_census::CensusReader::open(&args.file, today())?;
    let total = reader.total_rows();
    let bar = indicatif::ProgressBar::new(total.unwrap_or(0) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} 导入 {bar:40} {pos}/{len} 行 {elapsed_precise} 剩余 {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let rt = runtime()?;
    let report = rt.block_on(async {
        let store = archive.open().await?;
        let applications = match &args.as_applications {
            Some(day) => Some(guanai_store::import::ApplicationsFrom {
                applied_on: guanai_rules::parse_date(day)
                    .map_err(|e| anyhow::anyhow!("--as-applications: {e}"))
                    .and_then(|d| {
                        if d > today() {
                            anyhow::bail!("--as-applications: {d} is after today")
                        }
                        Ok(d)
                    })?,
                evidence: args.evidence.clone().unwrap_or_default(),
            }),
            None => None,
        };
        let options = ImportOptions {
            partial: args.partial,
            actor: archive.actor(),
            applications,
        };
        let rows = std::cell::Cell::new(0usize);
        let counted = CountingReader {
            inner: reader,
            rows: &rows,
        };
        let report = import(
            &store,
            counted,
            || rows.get(),
            &options,
            |n| bar.set_position(n as u64),
        )
        .await?;
        store.db().close().await;
        anyhow::Ok(report)
    })?;
    bar.finish_and_clear();
    println!(
        "{} 行：新增 {} 户，已存在未变 {} 户，错误 {} 条 / {} rows: {} families added, {} unchanged, {} errors",
        report.rows,
        report.added,
        report.unchanged,
        report.errors.len(),
        report.rows,
        report.added,
        report.unchanged,
        report.errors.len()
    );
    if report.errors.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let errors_path = args.errors.unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(".errors.csv");
        PathBuf::from(p)
    });
    guanai_census::write_error_report(&errors_path, &report.errors)?;
    for e in report.errors.iter().take(10) {
        println!("  {e}");
    }
    if report.errors.len() > 10 {
        println!("  …");
    }
    if report.committed {
        println!(
            "错误行未导入，其余已导入；错误清单：{} / bad rows skipped, the rest loaded; errors in {}",
            errors_path.display(),
            errors_path.display()
        );
    } else {
        println!(
            "文件被拒绝，未写入任何数据；错误清单：{} / file rejected, nothing written; errors in {}",
            errors_path.display(),
            errors_path.display()
        );
    }
    Ok(ExitCode::from(1))
}

/// Passes census families through while publishing the reader's row count.
struct CountingReader<'a> {
    inner: guanai_census::CensusReader,
    rows: &'a std::cell::Cell<usize>,
}

impl Iterator for CountingReader<'_> {
    type Item = <guanai_census::CensusReader as Iterator>::Item;
    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next();
        self.rows.set(self.inner.rows_read());
        item
    }
}

/// Private values as shown: masked unless revealed.
struct Shown {
    reveal: bool,
}

impl Shown {
    fn id(&self, n: &ResidentId) -> String {
        if self.reveal {
            n.as_str().to_owned()
        } else {
            n.masked()
        }
    }
    fn phone(&self, p: &str) -> String {
        if self.reveal {
            p.to_owned()
        } else {
            mask::phone(p)
        }
    }
    fn account(&self, a: &str) -> String {
        if self.reveal {
            a.to_owned()
        } else {
            mask::bank_account(a)
        }
    }

    fn fact(&self, value: &FactValue) -> String {
        match value {
            FactValue::Registration { hukou, village } => format!(
                "户籍 {}，{} {}（{}）",
                if *hukou == Hukou::Urban {
                    "城镇"
                } else {
                    "农村"
                },
                village.county().name(),
                village.name(),
                village
            ),
            FactValue::Identity {
                name,
                sex,
                birth_date,
            } => {
                format!(
                    "{name}，{}，{birth_date} 生",
                    if *sex == guanai_rules::Sex::Female {
                        "女"
                    } else {
                        "男"
                    }
                )
            }
            FactValue::IdNumber { number } => format!("公民身份号码 {}", self.id(number)),
            FactValue::Phone { number } => format!("电话 {}", self.phone(number)),
            FactValue::BankAccount { bank, account } => format!("{bank} {}", self.account(account)),
            FactValue::Welfare { dibao, wubao } => {
                format!(
                    "低保 {}，五保 {}",
                    if *dibao { "是" } else { "否" },
                    if *wubao { "是" } else { "否" }
                )
            }
            FactValue::Health { chronically_ill } => {
                format!("慢性病 {}", if *chronically_ill { "是" } else { "否" })
            }
            FactValue::Living { situation } => format!("居住状况 {situation}"),
            FactValue::HonorCertificate { number } => format!("独生子女父母光荣证 {number}"),
            FactValue::Death { certificate_no } => {
                format!(
                    "死亡{}",
                    certificate_no
                        .as_ref()
                        .map_or(String::new(), |c| format!("（死亡证明 {c}）"))
                )
            }
            FactValue::LaterChild => "再生育或收养子女".to_owned(),
            FactValue::Disability {
                grade,
                certificate_no,
            } => format!(
                "残疾评定 {} 级{}",
                grade.get(),
                certificate_no
                    .as_ref()
                    .map_or(String::new(), |c| format!("（残疾证 {c}）"))
            ),
            FactValue::Note { text } => format!("备注：{text}"),
        }
    }
}

fn end_of_day(text: &str) -> Result<jiff::Timestamp> {
    let d = date("known-at", text)?;
    let next = d.tomorrow().context("--known-at")?;
    Ok(next
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))?
        .timestamp())
}

pub fn family_cmd(archive: &ArchiveArgs, command: FamilyCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let code = match command {
            FamilyCommand::Show(args) => show(&store, archive, args).await?,
            FamilyCommand::List(args) => list(&store, args).await?,
            FamilyCommand::Record(args) => {
                let family = family_id(&args.family)?;
                let fact = args.fact.to_fact(person_id(args.person.as_deref())?)?.context(
                    "say what to record: --death, --later-child, --disability, --moved, --welfare, --phone, --bank-account, --id-number, --chronic, --living or --note",
                )?;
                check_id_agrees(&store, &family, &fact).await?;
                let (fact_id, version) = store.record(&family, args.expected_version, fact, &archive.actor(), &args.reason).await?;
                println!("已记录 {fact_id}；家庭版本 {version} / recorded {fact_id}; family version {version}");
                ExitCode::SUCCESS
            }
            FamilyCommand::Correct(args) => {
                let family = family_id(&args.family)?;
                let old = FactId::parse(&args.fact).with_context(|| format!("not a fact id (X…): {}", args.fact))?;
                let replacement = if args.withdraw {
                    None
                } else {
                    Some(args.fact_options.to_fact(person_id(args.person.as_deref())?)?.context(
                        "give the corrected value (--death, --later-child, --disability, --moved, --welfare, --phone, --bank-account, --id-number, --chronic, --living, --note) or --withdraw",
                    )?)
                };
                if let Some(fact) = &replacement {
                    check_id_agrees(&store, &family, fact).await?;
                }
                let (fact_id, version) =
                    store.correct(&family, args.expected_version, &old, replacement, &archive.actor(), &args.reason).await?;
                println!("已更正：{fact_id} 取代 {old}；家庭版本 {version} / {fact_id} replaces {old}; family version {version}");
                ExitCode::SUCCESS
            }
        };
        store.db().close().await;
        Ok(code)
    })
}

/// A recorded ID number must agree with the person's birth date and sex on file.
async fn check_id_agrees(store: &Archive, family: &FamilyId, fact: &NewFact) -> Result<()> {
    let (FactValue::IdNumber { number }, Some(person)) = (&fact.value, &fact.person_id) else {
        return Ok(());
    };
    let file = store.family_file(family).await?;
    let identity = file
        .people(None)
        .into_iter()
        .find(|p| p.person_id == person)
        .and_then(|p| {
            p.facts.iter().find_map(|f| match &f.value {
                Some(FactValue::Identity {
                    sex, birth_date, ..
                }) => Some((*sex, *birth_date)),
                _ => None,
            })
        });
    if let Some((sex, birth)) = identity {
        number
            .check_agrees(birth, sex)
            .map_err(|e| anyhow::anyhow!("--id-number: {e}"))?;
    }
    Ok(())
}

pub(crate) async fn resolve(store: &Archive, key: &str) -> Result<FamilyId> {
    if let Some(id) = FamilyId::parse(key) {
        return Ok(id);
    }
    let number = if key.len() == 15 {
        ResidentId::from_legacy(key, today())
    } else {
        ResidentId::parse(key, today())
    }
    .map_err(|e| {
        anyhow::anyhow!("{key:?} is neither a family id (F…) nor a valid resident ID number: {e}")
    })?;
    let found = store.find_by_id_number(&number).await?;
    match found.as_slice() {
        [] => bail!("no registered person has the ID number {}", number.masked()),
        [(family, _)] => Ok(family.clone()),
        many => {
            let ids: Vec<String> = many.iter().map(|(f, _)| f.to_string()).collect();
            bail!(
                "the ID number {} is registered in several families: {}",
                number.masked(),
                ids.join(", ")
            )
        }
    }
}

async fn show(store: &Archive, archive: &ArchiveArgs, args: ShowArgs) -> Result<ExitCode> {
    let family = resolve(store, &args.key).await?;
    let month = month_or_now(args.month.as_deref())?;
    let known_at = args.known_at.as_deref().map(end_of_day).transpose()?;
    if args.unmasked {
        let reason = args.reason.clone().unwrap_or_default();
        store
            .audit(&archive.actor(), "reveal", family.as_str(), &reason)
            .await?;
    }
    let file = store.family_file(&family).await?;
    let shown = Shown {
        reveal: args.unmasked,
    };
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "家庭 {}  家庭编号 {}  {}（{}）  版本 {}  建档 {} {}",
        file.family_id,
        file.family_no,
        file.county_code.name(),
        file.county_code,
        file.version,
        beijing(file.created_at, "%Y-%m-%d"),
        file.created_by
    )?;
    if let Some(known) = known_at {
        writeln!(
            out,
            "（按 {} 之前所知 / as known before {known}）",
            args.known_at.as_deref().unwrap_or("")
        )?;
    }
    if let Some((_, village)) = file.registration(month, known_at) {
        let contacts = store.contacts_for(village).await?;
        if !contacts.is_empty() {
            writeln!(out, "\n联系人 (二(一))")?;
            for c in contacts {
                let phone = c
                    .phone
                    .as_deref()
                    .map(|p| shown.phone(p))
                    .unwrap_or_default();
                writeln!(out, "  {} {}：{} {}", c.area_name, c.duty, c.name, phone)?;
            }
        }
    }
    writeln!(out, "\n成员")?;
    for person in file.people(known_at) {
        writeln!(out, "  {} {}", person.relation.as_zh(), person.person_id)?;
        for f in &person.facts {
            if let Some(v) = &f.value {
                let since = f.valid_from.map(|d| format!("{d} 起 ")).unwrap_or_default();
                writeln!(out, "    {since}{}  [{}]", shown.fact(v), f.fact_id)?;
            }
        }
    }
    writeln!(out, "\n档案记录（从不覆盖 / never overwritten）")?;
    for f in &file.facts {
        if known_at.is_some_and(|t| f.recorded_at > t) {
            continue;
        }
        write_history_line(&mut out, f, &shown, &file)?;
    }
    let policy = Policy::embedded("linyi-2014")?;
    writeln!(out, "\n{month} 待遇 (政策 {})", policy.name)?;
    match file.engine_family(month, known_at) {
        Ok(engine_family) => {
            let mut reasons: Vec<Reason> = Vec::new();
            let e = evaluate_traced(&engine_family, month, &policy, &mut reasons);
            writeln!(out, "  类别 {}", category_zh(e.category))?;
            let parent_ids: Vec<String> = file
                .people(known_at)
                .iter()
                .filter(|p| {
                    matches!(
                        p.relation,
                        guanai_store::Relation::Mother | guanai_store::Relation::Father
                    )
                })
                .map(|p| {
                    p.name()
                        .map_or_else(|| p.relation.as_zh().to_owned(), str::to_owned)
                })
                .collect();
            let label = |i: usize| parent_ids.get(i).map_or("", String::as_str);
            for (i, m) in e.monthly() {
                writeln!(
                    out,
                    "  特别扶助金 {}：{} 元/月 = 上级 {} + 县级 {}",
                    label(i),
                    m.amount,
                    m.standard,
                    m.county
                )?;
            }
            for g in e.grants() {
                writeln!(
                    out,
                    "  一次性救助 {}：{} 元（{} 起应发）",
                    g.kind.as_str(),
                    g.amount,
                    g.due_from
                )?;
            }
            let labels = Labels {
                parents: [label(0), label(1)],
                child: "子女",
            };
            let lang = Lang::from(args.lang);
            let mut text = String::new();
            for r in &reasons {
                text.clear();
                render(r, lang, &engine_family, &labels, &policy, &mut text);
                writeln!(out, "  · {text}")?;
            }
        }
        Err(e) => writeln!(out, "  无法评估 / cannot evaluate: {e}")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Times are shown in Beijing time (UTC+8, no daylight saving), as caseworkers read them.
pub(crate) fn beijing(t: jiff::Timestamp, format: &str) -> String {
    t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .strftime(format)
        .to_string()
}

fn category_zh(c: Category) -> &'static str {
    match c {
        Category::Bereaved => "失独家庭 bereaved",
        Category::Orphan => "计划生育孤儿 orphan",
        Category::Disabled => "伤残家庭 disabled",
        Category::None => "非特殊困难家庭 none",
    }
}

fn write_history_line(
    out: &mut dyn Write,
    f: &FactRecord,
    shown: &Shown,
    file: &FamilyFile,
) -> Result<()> {
    let replaced = file
        .facts
        .iter()
        .any(|g| g.replaces.as_ref() == Some(&f.fact_id));
    let what = match &f.value {
        Some(v) => shown.fact(v),
        None => "撤销".to_owned(),
    };
    let since = f.valid_from.map(|d| format!(" {d}")).unwrap_or_default();
    let replaces = f
        .replaces
        .as_ref()
        .map(|r| format!(" 更正 {r}"))
        .unwrap_or_default();
    writeln!(
        out,
        "  {} {} {}{since}：{what}{replaces}{}  —— {}（{}）",
        beijing(f.recorded_at, "%Y-%m-%d %H:%M"),
        f.fact_id,
        f.kind,
        if replaced { " [已被更正]" } else { "" },
        f.recorded_by,
        f.reason
    )?;
    Ok(())
}

/// The ids of every family registered in an area, in chunks to read with `family_files` (a few
/// queries per chunk; memory holds one chunk of files at a time).
async fn chunks_in(store: &Archive, area: &str) -> Result<Vec<Vec<FamilyId>>> {
    let ids: Vec<FamilyId> = store
        .list_families(area)
        .await?
        .into_iter()
        .map(|s| s.family_id)
        .collect();
    Ok(ids.chunks(500).map(<[FamilyId]>::to_vec).collect())
}

async fn list(store: &Archive, args: ListArgs) -> Result<ExitCode> {
    let month = month_or_now(args.month.as_deref())?;
    let policy = Policy::embedded("linyi-2014")?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "家庭 family_id\t家庭编号\t县区\t类别({month})\t月特别扶助金合计"
    )?;
    let mut shown = 0usize;
    for chunk in chunks_in(store, &args.area).await? {
        for file in store.family_files(&chunk).await? {
            if args.area.len() > 6 {
                let inside = file
                    .registration(month, None)
                    .is_some_and(|(_, v)| v.to_string().starts_with(&args.area));
                if !inside {
                    continue;
                }
            }
            let (category, total) = match file.engine_family(month, None) {
                Ok(f) => {
                    let e = guanai_rules::evaluate(&f, month, &policy);
                    (e.category, e.monthly_total())
                }
                Err(_) => (Category::None, guanai_rules::Fen::ZERO),
            };
            if args.category.is_some_and(|c| !c.matches(category)) {
                continue;
            }
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}",
                file.family_id,
                file.family_no,
                file.county_code.name(),
                category.as_str(),
                total
            )?;
            shown += 1;
        }
    }
    writeln!(out, "共 {shown} 户 / {shown} families")?;
    Ok(ExitCode::SUCCESS)
}

pub fn export_cmd(archive: &ArchiveArgs, args: ExportArgs) -> Result<ExitCode> {
    let month = month_or_now(args.month.as_deref())?;
    let extension_ok = match args.format {
        ExportFormat::Xlsx => args.output.extension().is_some_and(|e| e == "xlsx"),
        ExportFormat::Csv => args.output.extension().is_some_and(|e| e == "csv"),
    };
    if !extension_ok {
        bail!(
            "--output must end in .{}",
            if matches!(args.format, ExportFormat::Xlsx) {
                "xlsx"
            } else {
                "csv"
            }
        );
    }
    let rt = runtime()?;
    let rows = rt.block_on(async {
        let store = archive.open().await?;
        if args.unmasked {
            store
                .audit(
                    &archive.actor(),
                    "export_unmasked",
                    &args.area,
                    args.reason.as_deref().unwrap_or(""),
                )
                .await?;
        }
        let shown = Shown {
            reveal: args.unmasked,
        };
        let policy = Policy::embedded("linyi-2014")?;
        let mut rows = Vec::new();
        for chunk in chunks_in(&store, &args.area).await? {
            for file in store.family_files(&chunk).await? {
                let Some((hukou, village)) = file.registration(month, None) else {
                    continue;
                };
                if args.area.len() > 6 && !village.to_string().starts_with(&args.area) {
                    continue;
                }
                let category = file
                    .engine_family(month, None)
                    .map(|f| guanai_rules::evaluate(&f, month, &policy).category)
                    .unwrap_or(Category::None);
                for person in file.people(None) {
                    let mut row = vec![
                        file.family_no.clone(),
                        village.county().name().to_owned(),
                        village.name().to_owned(),
                        if hukou == Hukou::Urban {
                            "城镇"
                        } else {
                            "农村"
                        }
                        .to_owned(),
                        category.as_str().to_owned(),
                        person.relation.as_zh().to_owned(),
                    ];
                    let (mut name, mut sex, mut birth, mut id, mut phone, mut account, mut died) = (
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    );
                    for f in &person.facts {
                        match &f.value {
                            Some(FactValue::Identity {
                                name: n,
                                sex: s,
                                birth_date,
                            }) => {
                                name = n.clone();
                                sex = if *s == guanai_rules::Sex::Female {
                                    "女"
                                } else {
                                    "男"
                                }
                                .to_owned();
                                birth = birth_date.to_string();
                            }
                            Some(FactValue::IdNumber { number }) => id = shown.id(number),
                            Some(FactValue::Phone { number }) => phone = shown.phone(number),
                            Some(FactValue::BankAccount { account: a, .. }) => {
                                account = shown.account(a)
                            }
                            Some(FactValue::Death { .. }) => {
                                died = f.valid_from.map(|d| d.to_string()).unwrap_or_default()
                            }
                            _ => {}
                        }
                    }
                    row.extend([name, sex, birth, id, phone, account, died]);
                    rows.push(row);
                }
            }
        }
        store.db().close().await;
        anyhow::Ok(rows)
    })?;
    let headers = [
        "家庭编号",
        "县区",
        "村居",
        "户籍性质",
        "类别",
        "成员关系",
        "姓名",
        "性别",
        "出生日期",
        "公民身份号码",
        "联系电话",
        "银行账号",
        "死亡日期",
    ];
    let written = guanai_census::write_table(&args.output, "档案", &headers, rows)?;
    println!(
        "已导出 {written} 行到 {} / exported {written} rows{}",
        args.output.display(),
        if args.unmasked {
            " (unmasked, audited)"
        } else {
            " (masked)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn backup_cmd(archive: &ArchiveArgs, file: &Path) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        // Written to a temporary file first: an interrupted backup never looks complete.
        let tmp = file.with_extension("partial");
        let mut out = io::BufWriter::new(
            std::fs::File::create(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?,
        );
        let rows = guanai_store::backup::backup(&store, &mut out).await?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, file)?;
        store
            .audit(
                &archive.actor(),
                "backup",
                &file.display().to_string(),
                "backup",
            )
            .await?;
        store.db().close().await;
        println!(
            "备份完成：{rows} 行 → {} / backup of {rows} rows written",
            file.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn restore_cmd(archive: &ArchiveArgs, file: &Path) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let mut input = BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?,
        );
        let rows = guanai_store::backup::restore(&store, &mut input, &archive.actor()).await?;
        store.db().close().await;
        println!("恢复完成：{rows} 行 / restored {rows} rows");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn match_cmd(archive: &ArchiveArgs, command: MatchCommand) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        let mut out = io::stdout().lock();
        let code = match command {
            MatchCommand::Deaths { file } => {
                let list = guanai_census::read_death_list(&file, today())?;
                for e in &list.errors {
                    writeln!(out, "  {e}")?;
                }
                let reported: Vec<(ResidentId, Date)> = list
                    .deaths
                    .iter()
                    .map(|d| (d.id_number, d.death_date))
                    .collect();
                let findings = store.match_deaths(&reported).await?;
                let source = file
                    .file_name()
                    .map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
                let flagged = store.flag_deaths(&findings, &source, &archive.actor()).await?;
                for f in &findings {
                    let on_file = f.on_file.map_or("档案未记录死亡".to_owned(), |d| {
                        format!("档案记录死亡日期 {d}")
                    });
                    writeln!(
                        out,
                        "{} {} 家庭 {} 人员 {}：报告死亡 {}，{on_file}；自 {} 起停发",
                        f.number.masked(),
                        f.relation.as_zh(),
                        f.family_id,
                        f.person_id,
                        f.reported,
                        f.stop_from
                    )?;
                }
                writeln!(
                    out,
                    "比对 {} 人，发现 {} 处需处理（新标记 {flagged} 人，发放时将被拦截，直至档案记录死亡） / {} checked, {} to act on, {flagged} newly flagged for payment runs",
                    reported.len(),
                    findings.len(),
                    reported.len(),
                    findings.len()
                )?;
                if findings.is_empty() && list.errors.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            MatchCommand::Duplicates => {
                let dups = store.duplicates().await?;
                for d in &dups {
                    let places: Vec<String> = d
                        .registrations
                        .iter()
                        .map(|(f, p, county)| format!("{county}:{f}/{p}"))
                        .collect();
                    writeln!(
                        out,
                        "{} 登记于 {} 户：{}",
                        d.number.masked(),
                        d.registrations.len(),
                        places.join("，")
                    )?;
                }
                writeln!(
                    out,
                    "重复登记 {} 人 / {} persons registered more than once",
                    dups.len(),
                    dups.len()
                )?;
                if dups.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
        };
        store.db().close().await;
        Ok(code)
    })
}

pub fn key_cmd(archive: &ArchiveArgs, command: KeyCommand) -> Result<ExitCode> {
    let KeyCommand::Rotate { algorithm } = command;
    if std::env::var("GUANAI_KEY").is_ok_and(|k| !k.trim().is_empty()) {
        bail!(
            "the keyring comes from GUANAI_KEY: rotate it in a key file (--key-file) and update the variable from it"
        );
    }
    let path = archive.key_path();
    let mut keys = archive.keyring()?;
    let algorithm = algorithm.map_or(keys.active_algorithm(), Algorithm::from);
    let new_id = keys.rotate(algorithm);
    // The new key is saved before anything is encrypted with it; old keys stay for reading.
    keys.save(&path)
        .with_context(|| format!("cannot save key file {}", path.display()))?;
    let rt = runtime()?;
    rt.block_on(async {
        let store = Archive::open(&archive.url(), keys).await?;
        let done = guanai_store::rotate::reencrypt(&store, &archive.actor()).await?;
        store.db().close().await;
        println!(
            "新密钥 {new_id}（{}）已启用；重新加密 {} 条事实、{} 个联系人电话、{} 份材料 / key {new_id} active; {} facts, {} contact phones and {} documents re-encrypted",
            algorithm.as_str(),
            done.facts,
            done.contacts,
            done.documents,
            done.facts,
            done.contacts,
            done.documents
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn contact_cmd(archive: &ArchiveArgs, command: ContactCommand) -> Result<ExitCode> {
    let ContactCommand::Set {
        area,
        name,
        duty,
        phone,
    } = command;
    let rt = runtime()?;
    rt.block_on(async {
        let store = archive.open().await?;
        store
            .set_contact(&area, &name, &duty, phone.as_deref(), &archive.actor())
            .await?;
        store.db().close().await;
        println!("已设置 {area} 的{duty}：{name}");
        Ok(ExitCode::SUCCESS)
    })
}
