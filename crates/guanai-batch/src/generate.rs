//! The synthetic family generator: seeded, reproducible families for load tests, demos and
//! independent checks of the rules, written either as JSON Lines in the `guanai eval` input
//! format (`eval-contract.md`) or as the census spreadsheet (普查) in CSV, the input of
//! `guanai import` ([`GenFormat`]). Both formats of one seed describe the same families.
//!
//! Families are realistic for Linyi rather than uniform: counties weighted by their number of
//! villages, about two thirds rural hukou, a mix of bereaved (失独), disabled (伤残) and orphan
//! (计划生育孤儿) families, and edge cases the rules must get right (grade 4, a later child, a
//! parent born before 1933, a 29 February birthday, a mother still under 49). Every date is
//! consistent and none is later than 2026-12-31 (2026-11-30 in the census). A chosen share of
//! families is deliberately invalid, each in one of several ways the contract (or the census
//! reader) rejects. The same options always give the same bytes.
//!
//! The census adds what only it holds — names, phone and bank account numbers, certificates, a
//! village, a guardian for orphans, ID numbers for every parent, unique across the file — from a
//! generator seeded by the seed and the family number, so the JSON output is unchanged by it.
//!
//! Lines are written by hand into a reused buffer, not through `serde_json` or a CSV writer: a
//! million families take well under a second. JSON text is ASCII and no census cell holds a
//! comma, quote or line break, so nothing needs escaping or quoting.

use std::io::{self, Write};

use guanai_rules::{CountyCode, ResidentId, Sex, VillageCode};
use jiff::Span;
use jiff::civil::{Date, date};
use rand::distr::{Bernoulli, Distribution};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to write: the same families either way, for the same seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenFormat {
    /// JSON Lines in the `guanai eval` input format, one family per line.
    #[default]
    EvalJson,
    /// The census spreadsheet (普查) as CSV, the input of `guanai import`: UTF-8 with a BOM, the
    /// census headers, then one row per person (母亲, 父亲, 子女, for orphans a 监护人), the rows
    /// of a family contiguous under one 家庭编号.
    CensusCsv,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenOptions {
    /// Number of families to write (lines in JSON, groups of rows in the census).
    pub count: u64,
    /// Seed of the random generator: the same options give byte-identical output, and the two
    /// formats describe the same families.
    pub seed: u64,
    /// share of deliberately invalid families, 0.0..=1.0
    pub invalid_share: f64,
    /// The output format.
    pub format: GenFormat,
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Families written, the invalid ones included.
    pub families: u64,
    /// Families that are deliberately invalid: lines the eval contract rejects, or census
    /// families with at least one row or family error the census reader reports.
    pub invalid: u64,
}

/// Bytes collected before they are handed to the caller's writer.
const CHUNK: usize = 1 << 16;

/// Writes `options.count` families in `options.format` to `out` and flushes it.
///
/// Fails with [`io::ErrorKind::InvalidInput`] (writing nothing) when `invalid_share` is not
/// within 0.0..=1.0, and with the writer's error when writing fails.
pub fn generate(options: &GenOptions, out: &mut dyn Write) -> io::Result<GenSummary> {
    let invalid = Bernoulli::new(options.invalid_share).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "invalid_share must be within 0.0..=1.0, found {}",
                options.invalid_share
            ),
        )
    })?;
    let counties = Counties::load();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut chunk = Vec::with_capacity(CHUNK + 4096);
    let mut line = Vec::with_capacity(1024);
    let mut summary = GenSummary::default();
    let mut census = match options.format {
        GenFormat::EvalJson => None,
        GenFormat::CensusCsv => {
            census::write_header(&mut chunk);
            Some(census::Writer::new(options.seed, &counties))
        }
    };
    for number in 1..=options.count {
        let mut family = Family::draw(&mut rng, number, &counties)?;
        line.clear();
        let defective = invalid.sample(&mut rng);
        if let Some(census) = census.as_mut() {
            if defective {
                // The eval defect is drawn all the same, on a copy, so that the main generator
                // stays in step with the JSON format and the next family is the same in both.
                let mut copy = family.clone();
                Defect::draw(&mut rng).apply(&mut rng, &mut copy, &mut line)?;
                line.clear();
            }
            census.write_family(&family, defective, &mut chunk)?;
        } else {
            if defective {
                Defect::draw(&mut rng).apply(&mut rng, &mut family, &mut line)?;
            } else {
                family.write_json(&mut line);
            }
            chunk.extend_from_slice(&line);
            chunk.push(b'\n');
        }
        summary.invalid += u64::from(defective);
        summary.families += 1;
        if chunk.len() >= CHUNK {
            out.write_all(&chunk)?;
            chunk.clear();
        }
    }
    out.write_all(&chunk)?;
    out.flush()?;
    Ok(summary)
}

/// No generated date is later than this.
const LAST: Date = date(2026, 12, 31);
/// A span of 6 years in days, the most a father is older than the mother.
const SIX_YEARS: i32 = 2191;
/// The mother is 20 to 38 at the child's birth: at least 20 years, less than 39 (in days).
const MOTHER_AGE_MIN: i32 = 7306;
const MOTHER_AGE_MAX: i32 = 14_230;

/// `day` moved by `days` days. The generator's dates lie far inside jiff's range (years
/// -9999..=9999), so the saturation never happens.
fn add_days(day: Date, days: i32) -> Date {
    day.saturating_add(Span::new().days(days))
}

/// A uniformly drawn day in `lo..=hi` (`lo` when the range is empty): an offset of days from
/// `lo`, drawn as an `i32` so that the generator's stream is that of the day numbers it drew
/// before jiff.
fn between(rng: &mut ChaCha8Rng, lo: Date, hi: Date) -> Date {
    match lo.until(hi).map(|span| span.get_days()) {
        Ok(days) if days > 0 => add_days(lo, rng.random_range(0..=days)),
        _ => lo,
    }
}

/// True with probability `p` percent.
fn percent(rng: &mut ChaCha8Rng, p: u32) -> bool {
    rng.random_range(0..100) < p
}

/// County-level codes with their weights and the address codes their people's ID numbers carry.
struct Counties {
    entries: Vec<County>,
    total_weight: u32,
}

struct County {
    code: String,
    cumulative_weight: u32,
    /// The address code of an ID number issued here today.
    id_address: String,
    /// The pre-1994 临沂地区 code, where known.
    old_id_address: Option<&'static str>,
    /// The 12-digit village codes of the county (for the retired zones 371372/371373, which
    /// have none in the 2021 codes, those of the district their towns went to), ascending.
    villages: Vec<String>,
}

/// The development zones' codes are statistical, not GB/T 2260, so ID numbers of their people
/// carry the code of the district they lie in (高新区 in 罗庄区; 经开区 and 临港区 towns went to
/// 河东区 and 莒南县 in 2021, see `data/regions/dev_zone_towns_2020.csv`).
const ID_ADDRESS_OF_ZONE: [(&str, &str); 3] = [
    ("371371", "371311"),
    ("371372", "371312"),
    ("371373", "371327"),
];

/// Old 临沂地区 codes known from `testdata/id-numbers.csv` (郯城县, 沂南县, 费县).
const OLD_ID_ADDRESS: [(&str, &str); 3] = [
    ("371322", "372822"),
    ("371321", "372832"),
    ("371325", "372831"),
];

/// County codes outside Linyi's list, for invalid lines: Beijing 东城区, Jinan 历下区, Linyi's
/// 市辖区 (not a county-level area), an old 临沂地区 code, Nanjing 玄武区.
const FOREIGN_COUNTIES: [&str; 5] = ["110101", "370102", "371301", "372822", "320102"];

impl Counties {
    /// Counties weighted by their number of villages; the retired zones 371372/371373, which
    /// have no villages in the 2021 codes, get 0.5% each.
    fn load() -> Counties {
        let all = CountyCode::all();
        let lists: Vec<Vec<VillageCode>> = all.iter().map(|&c| VillageCode::in_county(c)).collect();
        let villages: Vec<u32> = lists
            .iter()
            .map(|list| u32::try_from(list.len()).unwrap_or(u32::MAX / 64))
            .collect();
        let zone_weight = (villages.iter().sum::<u32>() / 200).max(1);
        let mut cumulative_weight = 0;
        let entries = all
            .iter()
            .zip(villages)
            .zip(lists)
            .map(|((county, villages), list)| {
                let code = county.to_string();
                cumulative_weight += if villages == 0 { zone_weight } else { villages };
                let lookup = |table: &[(&str, &'static str)]| {
                    table
                        .iter()
                        .find(|(from, _)| *from == code)
                        .map(|&(_, to)| to)
                };
                // Every other county-level code is itself a GB/T 2260 code.
                let id_address =
                    lookup(&ID_ADDRESS_OF_ZONE).map_or_else(|| code.clone(), str::to_owned);
                // A zone without villages of its own lends those of the district it lies in.
                let list = if list.is_empty() {
                    CountyCode::parse(&id_address)
                        .map(VillageCode::in_county)
                        .unwrap_or_default()
                } else {
                    list
                };
                County {
                    old_id_address: lookup(&OLD_ID_ADDRESS),
                    villages: list.iter().map(ToString::to_string).collect(),
                    id_address,
                    code,
                    cumulative_weight,
                }
            })
            .collect();
        Counties {
            entries,
            total_weight: cumulative_weight,
        }
    }

    /// A county drawn by weight; `None` only if there were no county codes at all.
    fn draw(&self, rng: &mut ChaCha8Rng) -> Option<&County> {
        let ticket = rng.random_range(0..self.total_weight.max(1));
        self.entries
            .iter()
            .find(|c| ticket < c.cumulative_weight)
            .or(self.entries.last())
    }
}

/// Which kind of family a line describes; the edge kinds test a rule boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bereaved,
    Disabled,
    Orphan,
    GradeFour,
    LaterChild,
    SingleDivorcedParent,
    BornBefore1933,
    LeapDayBirthday,
    YoungMother,
}

const EDGE_KINDS: [Kind; 6] = [
    Kind::GradeFour,
    Kind::LaterChild,
    Kind::SingleDivorcedParent,
    Kind::BornBefore1933,
    Kind::LeapDayBirthday,
    Kind::YoungMother,
];

impl Kind {
    /// ~50% bereaved, ~30% disabled, ~5% orphan, the rest edge cases in equal parts.
    fn draw(rng: &mut ChaCha8Rng) -> Kind {
        match rng.random_range(0..100) {
            0..50 => Kind::Bereaved,
            50..80 => Kind::Disabled,
            80..85 => Kind::Orphan,
            _ => EDGE_KINDS[rng.random_range(0..EDGE_KINDS.len())],
        }
    }
}

/// An optional boolean as written: absent, explicitly `false`, or `true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    Absent,
    False,
    True,
}

impl Flag {
    /// True with probability `p` percent; when false, written explicitly one time in ten.
    fn draw(rng: &mut ChaCha8Rng, p: u32) -> Flag {
        if percent(rng, p) {
            Flag::True
        } else if percent(rng, 10) {
            Flag::False
        } else {
            Flag::Absent
        }
    }
}

#[derive(Debug, Clone)]
struct Parent {
    sex: Sex,
    birth: Date,
    death: Option<Date>,
    later_child: Option<Date>,
    id_number: Option<[u8; 18]>,
    dibao: Flag,
    wubao: Flag,
    chronically_ill: Flag,
    /// Write absent dates as `null` rather than leaving them out.
    nulls: bool,
}

#[derive(Debug, Clone)]
struct Child {
    birth: Date,
    death: Option<Date>,
    disability: Option<(u8, Date)>,
    nulls: bool,
}

#[derive(Debug, Clone)]
struct Family<'a> {
    number: u64,
    county: &'a str,
    rural: bool,
    parents: Vec<Parent>,
    child: Child,
}

impl Parent {
    fn new(sex: Sex, birth: Date) -> Parent {
        Parent {
            sex,
            birth,
            death: None,
            later_child: None,
            id_number: None,
            dibao: Flag::Absent,
            wubao: Flag::Absent,
            chronically_ill: Flag::Absent,
            nulls: false,
        }
    }
}

/// A father 0–6 years older than the mother.
fn father_of(rng: &mut ChaCha8Rng, mother: Date) -> Date {
    add_days(mother, -rng.random_range(0..=SIX_YEARS))
}

/// Whether and when a parent has died: likelier the older they are; never before the child's
/// birth, and mostly after the parent's 40th year.
fn maybe_death(rng: &mut ChaCha8Rng, birth: Date, child_birth: Date) -> Option<Date> {
    let p = match birth.year() {
        ..1945 => 45,
        1945..1955 => 20,
        1955..1965 => 8,
        _ => 3,
    };
    percent(rng, p).then(|| death_after(rng, birth, child_birth))
}

fn death_after(rng: &mut ChaCha8Rng, birth: Date, child_birth: Date) -> Date {
    let lo = child_birth.max(add_days(birth, 40 * 365));
    if lo > LAST {
        between(rng, child_birth, LAST)
    } else {
        between(rng, lo, LAST)
    }
}

impl<'a> Family<'a> {
    fn draw(rng: &mut ChaCha8Rng, number: u64, counties: &'a Counties) -> io::Result<Family<'a>> {
        let county = counties
            .draw(rng)
            .ok_or_else(|| io::Error::other("guanai_rules lists no county codes"))?;
        let rural = percent(rng, 65);
        let kind = Kind::draw(rng);
        let mut family = match kind {
            Kind::Orphan => Family::orphan(rng, number, rural),
            Kind::BornBefore1933 => {
                let father = between(rng, date(1930, 1, 1), date(1932, 12, 31));
                let mother = add_days(father, rng.random_range(0..=SIX_YEARS));
                Family::with_parents(rng, number, rural, kind, mother, father)
            }
            Kind::LeapDayBirthday => {
                // Every fourth year from 1936 to 1984 is a leap year.
                let year = 1936 + 4 * rng.random_range(0..13);
                let leap = Date::new(year, 2, 29)
                    .map_err(|e| io::Error::other(format!("generated leap day: {e}")))?;
                let (mother, father) = if percent(rng, 70) {
                    (leap, father_of(rng, leap))
                } else {
                    (
                        add_days(leap, rng.random_range(0..=SIX_YEARS)).min(date(1985, 12, 31)),
                        leap,
                    )
                };
                Family::with_parents(rng, number, rural, kind, mother, father)
            }
            Kind::YoungMother => {
                let mother = between(rng, date(1966, 1, 1), date(1981, 12, 31));
                let father = father_of(rng, mother);
                Family::with_parents(rng, number, rural, kind, mother, father)
            }
            _ => {
                let mother = between(rng, date(1936, 1, 1), date(1985, 12, 31));
                let father = father_of(rng, mother);
                Family::with_parents(rng, number, rural, kind, mother, father)
            }
        };
        family.county = &county.code;
        for parent in &mut family.parents {
            dress(rng, parent, county)?;
        }
        family.child.nulls = percent(rng, 30);
        if family.parents.len() == 2 && percent(rng, 15) {
            family.parents.swap(0, 1);
        }
        Ok(family)
    }

    /// A family of any kind but orphan, from the parents' birth days.
    fn with_parents(
        rng: &mut ChaCha8Rng,
        number: u64,
        rural: bool,
        kind: Kind,
        mother_birth: Date,
        father_birth: Date,
    ) -> Family<'static> {
        let child_birth = add_days(
            mother_birth,
            rng.random_range(MOTHER_AGE_MIN..=MOTHER_AGE_MAX),
        );
        let mut child = Child {
            birth: child_birth,
            death: None,
            disability: None,
            nulls: false,
        };
        let child_died = match kind {
            Kind::Bereaved => true,
            Kind::Disabled | Kind::GradeFour | Kind::Orphan => false,
            _ => percent(rng, 65),
        };
        if child_died {
            child.death = Some(between(rng, add_days(child_birth, 30), LAST));
        } else {
            let grade = if kind == Kind::GradeFour {
                4
            } else {
                match rng.random_range(0..100) {
                    0..25 => 1,
                    25..60 => 2,
                    _ => 3,
                }
            };
            child.disability = Some((grade, between(rng, add_days(child_birth, 180), LAST)));
        }
        let mut mother = Parent::new(Sex::Female, mother_birth);
        let mut father = Parent::new(Sex::Male, father_birth);
        if kind != Kind::YoungMother {
            mother.death = maybe_death(rng, mother_birth, child_birth);
        }
        father.death = maybe_death(rng, father_birth, child_birth);
        // About one family in ten lists one parent; never where the edge case needs both.
        let single = kind == Kind::SingleDivorcedParent
            || (matches!(
                kind,
                Kind::Bereaved | Kind::Disabled | Kind::GradeFour | Kind::LaterChild
            ) && percent(rng, 10));
        let mut parents = if !single {
            vec![mother, father]
        } else if percent(rng, 60) {
            vec![mother]
        } else {
            vec![father]
        };
        if kind == Kind::SingleDivorcedParent {
            for parent in &mut parents {
                parent.death = None;
            }
        }
        if kind == Kind::LaterChild {
            // Another child by birth or adoption (再生育或收养), after the first child's death or
            // disability; adoption makes any age plausible.
            let event = child
                .death
                .or(child.disability.map(|(_, assessed)| assessed));
            let which = rng.random_range(0..parents.len());
            if let Some(parent) = parents.get_mut(which) {
                let lo = event.unwrap_or(child_birth).max(add_days(child_birth, 365));
                let hi = parent.death.unwrap_or(LAST);
                parent.later_child = Some(between(rng, lo.min(hi), hi));
            }
        }
        Family {
            number,
            county: "",
            rural,
            parents,
            child,
        }
    }

    /// A child under 18 in recent years whose listed parents have all died.
    fn orphan(rng: &mut ChaCha8Rng, number: u64, rural: bool) -> Family<'static> {
        let child_birth = between(rng, date(2009, 1, 1), date(2022, 12, 31));
        let lo = add_days(child_birth, -MOTHER_AGE_MAX).max(date(1936, 1, 1));
        let hi = add_days(child_birth, -MOTHER_AGE_MIN).min(date(1985, 12, 31));
        let mother_birth = between(rng, lo, hi);
        let father_birth = father_of(rng, mother_birth);
        let mut mother = Parent::new(Sex::Female, mother_birth);
        let mut father = Parent::new(Sex::Male, father_birth);
        mother.death = Some(between(rng, child_birth, LAST));
        father.death = Some(between(rng, child_birth, LAST));
        let parents = match rng.random_range(0..100) {
            0..85 => vec![mother, father],
            85..93 => vec![mother],
            _ => vec![father],
        };
        let child = Child {
            birth: child_birth,
            death: None,
            disability: None,
            nulls: false,
        };
        Family {
            number,
            county: "",
            rural,
            parents,
            child,
        }
    }

    fn write_json(&self, line: &mut Vec<u8>) {
        line.extend_from_slice(b"{\"family_id\":\"");
        push_family_id(line, self.number);
        line.extend_from_slice(b"\",\"county_code\":\"");
        line.extend_from_slice(self.county.as_bytes());
        line.extend_from_slice(b"\",\"hukou\":\"");
        line.extend_from_slice(if self.rural { b"rural" } else { b"urban" });
        line.extend_from_slice(b"\",\"parents\":[");
        for (i, parent) in self.parents.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            self.write_parent(parent, line);
        }
        line.extend_from_slice(b"],\"child\":{\"id\":\"");
        push_family_id(line, self.number);
        line.extend_from_slice(b"-C\",\"birth_date\":");
        push_date(line, self.child.birth);
        push_optional_date(line, b"death_date", self.child.death, self.child.nulls);
        match self.child.disability {
            Some((grade, assessed)) => {
                line.extend_from_slice(b",\"disability_grade\":");
                push_digits(line, u64::from(grade), 1);
                line.extend_from_slice(b",\"disability_date\":");
                push_date(line, assessed);
            }
            None if self.child.nulls => {
                line.extend_from_slice(b",\"disability_grade\":null,\"disability_date\":null");
            }
            None => {}
        }
        line.extend_from_slice(b"}}");
    }

    fn write_parent(&self, parent: &Parent, line: &mut Vec<u8>) {
        line.extend_from_slice(b"{\"id\":\"");
        push_family_id(line, self.number);
        let (suffix, sex): (&[u8], &[u8]) = match parent.sex {
            Sex::Female => (b"-M", b"female"),
            Sex::Male => (b"-F", b"male"),
        };
        line.extend_from_slice(suffix);
        line.extend_from_slice(b"\",\"sex\":\"");
        line.extend_from_slice(sex);
        line.extend_from_slice(b"\",\"birth_date\":");
        push_date(line, parent.birth);
        push_optional_date(line, b"death_date", parent.death, parent.nulls);
        push_optional_date(line, b"later_child_date", parent.later_child, parent.nulls);
        if let Some(id_number) = &parent.id_number {
            line.extend_from_slice(b",\"id_number\":\"");
            line.extend_from_slice(id_number);
            line.push(b'"');
        }
        push_flag(line, b"dibao", parent.dibao);
        push_flag(line, b"wubao", parent.wubao);
        push_flag(line, b"chronically_ill", parent.chronically_ill);
        line.push(b'}');
    }
}

/// ID number and flags of a parent.
fn dress(rng: &mut ChaCha8Rng, parent: &mut Parent, county: &County) -> io::Result<()> {
    parent.nulls = percent(rng, 30);
    if percent(rng, 80) {
        let address = match county.old_id_address {
            _ if parent.birth.year() >= 1975 || !percent(rng, 30) => &county.id_address,
            Some(old) => old,
            None => OLD_ID_ADDRESS[rng.random_range(0..OLD_ID_ADDRESS.len())].1,
        };
        parent.id_number = Some(id_number(rng, address, parent.birth, parent.sex)?);
    }
    parent.dibao = Flag::draw(rng, 10);
    // 五保 is for the old without support: only parents aged 60 by the end of 2026.
    parent.wubao = if parent.birth.year() <= 1966 {
        Flag::draw(rng, 5)
    } else {
        Flag::Absent
    };
    parent.chronically_ill = Flag::draw(rng, 15);
    Ok(())
}

/// A valid ID number for the address, birth day and sex (odd sequence male, even female).
fn id_number(rng: &mut ChaCha8Rng, address: &str, birth: Date, sex: Sex) -> io::Result<[u8; 18]> {
    let half: u16 = rng.random_range(0..500);
    let sequence = match sex {
        Sex::Male => 2 * half + 1,
        Sex::Female => 2 * half,
    };
    let id = ResidentId::build(address, birth, sequence)
        .map_err(|e| io::Error::other(format!("generated ID number: {e}")))?;
    <[u8; 18]>::try_from(id.as_str().as_bytes())
        .map_err(|_| io::Error::other("generated ID number is not 18 characters"))
}

/// `value` in decimal, zero-padded to at least `width` digits.
fn push_digits(line: &mut Vec<u8>, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while start > 0 && (value > 0 || digits.len() - start < width) {
        start -= 1;
        // `value % 10` is below 10.
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    line.extend_from_slice(&digits[start..]);
}

fn push_family_id(line: &mut Vec<u8>, number: u64) {
    line.push(b'F');
    push_digits(line, number, 7);
}

/// A quoted `"YYYY-MM-DD"`.
fn push_date(line: &mut Vec<u8>, day: Date) {
    line.push(b'"');
    push_plain_date(line, day);
    line.push(b'"');
}

/// `YYYY-MM-DD`.
fn push_plain_date(line: &mut Vec<u8>, day: Date) {
    push_digits(line, day.year().unsigned_abs().into(), 4);
    line.push(b'-');
    push_digits(line, day.month().unsigned_abs().into(), 2);
    line.push(b'-');
    push_digits(line, day.day().unsigned_abs().into(), 2);
}

fn push_optional_date(line: &mut Vec<u8>, key: &[u8], day: Option<Date>, nulls: bool) {
    if day.is_none() && !nulls {
        return;
    }
    line.extend_from_slice(b",\"");
    line.extend_from_slice(key);
    line.extend_from_slice(b"\":");
    match day {
        Some(day) => push_date(line, day),
        None => line.extend_from_slice(b"null"),
    }
}

fn push_flag(line: &mut Vec<u8>, key: &[u8], flag: Flag) {
    let value: &[u8] = match flag {
        Flag::Absent => return,
        Flag::False => b"false",
        Flag::True => b"true",
    };
    line.extend_from_slice(b",\"");
    line.extend_from_slice(key);
    line.extend_from_slice(b"\":");
    line.extend_from_slice(value);
}

/// How a deliberately invalid line breaks the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Defect {
    /// The line is cut short: not JSON.
    TruncatedJson,
    /// A date such as `1960-02-30`.
    ImpossibleDate,
    /// `hukou` `city` or `sex` `unknown`.
    UnknownEnum,
    /// `disability_grade` 0 or 5.
    DisabilityGradeOutOfRange,
    /// An `id_number` whose check character is wrong.
    WrongCheckCharacter,
    /// A valid `id_number` of another birth date or sex.
    IdNumberDisagrees,
    /// No `county_code`, `hukou`, `parents` or `child`.
    MissingRequiredField,
    /// A `death_date` before the same person's `birth_date`.
    DeathBeforeBirth,
    /// A county code that is not one of Linyi's.
    CountyOutsideLinyi,
}

const DEFECTS: [Defect; 9] = [
    Defect::TruncatedJson,
    Defect::ImpossibleDate,
    Defect::UnknownEnum,
    Defect::DisabilityGradeOutOfRange,
    Defect::WrongCheckCharacter,
    Defect::IdNumberDisagrees,
    Defect::MissingRequiredField,
    Defect::DeathBeforeBirth,
    Defect::CountyOutsideLinyi,
];

impl Defect {
    fn draw(rng: &mut ChaCha8Rng) -> Defect {
        DEFECTS[rng.random_range(0..DEFECTS.len())]
    }

    /// Writes `family` into `line` broken in this way.
    fn apply(
        self,
        rng: &mut ChaCha8Rng,
        family: &mut Family<'_>,
        line: &mut Vec<u8>,
    ) -> io::Result<()> {
        match self {
            Defect::DisabilityGradeOutOfRange => {
                let grade = if percent(rng, 50) { 0 } else { 5 };
                let child = &mut family.child;
                let assessed = match child.disability {
                    Some((_, assessed)) => assessed,
                    None => between(rng, child.birth, child.death.unwrap_or(LAST)),
                };
                child.disability = Some((grade, assessed));
            }
            Defect::WrongCheckCharacter | Defect::IdNumberDisagrees => {
                let county = family.county;
                let Some(parent) = pick_parent(rng, family) else {
                    return Defect::TruncatedJson.apply(rng, family, line);
                };
                // Any plausible address code will do; the county's is at hand.
                let address = county;
                let mut id = id_number(rng, address, parent.birth, parent.sex)?;
                if self == Defect::WrongCheckCharacter {
                    const CHECK: &[u8; 11] = b"0123456789X";
                    let old = CHECK.iter().position(|&c| c == id[17]).unwrap_or(0);
                    let new = (old + rng.random_range(1..CHECK.len())) % CHECK.len();
                    id[17] = CHECK[new];
                } else if percent(rng, 50) {
                    let shift = rng.random_range(1..=400) * if percent(rng, 50) { 1 } else { -1 };
                    id = id_number(rng, address, add_days(parent.birth, shift), parent.sex)?;
                } else {
                    let other = match parent.sex {
                        Sex::Female => Sex::Male,
                        Sex::Male => Sex::Female,
                    };
                    id = id_number(rng, address, parent.birth, other)?;
                }
                parent.id_number = Some(id);
            }
            Defect::DeathBeforeBirth => {
                let gap = rng.random_range(1..=3650);
                if percent(rng, 70)
                    && let Some(parent) = pick_parent(rng, family)
                {
                    parent.death = Some(add_days(parent.birth, -gap));
                } else {
                    family.child.death = Some(add_days(family.child.birth, -gap));
                }
            }
            Defect::CountyOutsideLinyi => {
                family.county = FOREIGN_COUNTIES[rng.random_range(0..FOREIGN_COUNTIES.len())];
            }
            Defect::TruncatedJson
            | Defect::ImpossibleDate
            | Defect::UnknownEnum
            | Defect::MissingRequiredField => {}
        }
        family.write_json(line);
        let applied = match self {
            Defect::TruncatedJson => false,
            Defect::ImpossibleDate => impossible_date(rng, line),
            Defect::UnknownEnum => unknown_enum(rng, line),
            Defect::MissingRequiredField => missing_field(rng, line),
            _ => true,
        };
        if !applied {
            // Cutting before the closing brace always leaves text that is not JSON.
            let keep = rng.random_range(1..line.len().max(2));
            line.truncate(keep);
        }
        Ok(())
    }
}

fn pick_parent<'p>(rng: &mut ChaCha8Rng, family: &'p mut Family<'_>) -> Option<&'p mut Parent> {
    if family.parents.is_empty() {
        return None;
    }
    let which = rng.random_range(0..family.parents.len());
    family.parents.get_mut(which)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

/// Replaces the month and day of one date value with an impossible pair, keeping the year.
fn impossible_date(rng: &mut ChaCha8Rng, line: &mut [u8]) -> bool {
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(at) = find(line, b"_date\":\"", from) {
        starts.push(at + 8);
        from = at + 8;
    }
    if starts.is_empty() {
        return false;
    }
    let start = starts[rng.random_range(0..starts.len())];
    let Some(year) = line.get(start..start + 4) else {
        return false;
    };
    let year = year
        .iter()
        .fold(0u32, |acc, &d| acc * 10 + u32::from(d.wrapping_sub(b'0')));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let tail: &[u8] = match rng.random_range(0..5) {
        0 => b"-02-30",
        1 => b"-04-31",
        2 => b"-13-01",
        3 => b"-00-15",
        _ if leap => b"-02-30",
        _ => b"-02-29",
    };
    match line.get_mut(start + 4..start + 10) {
        Some(slot) => {
            slot.copy_from_slice(tail);
            true
        }
        None => false,
    }
}

/// Replaces the value of `hukou` with `city` or of the first `sex` with `unknown`.
fn unknown_enum(rng: &mut ChaCha8Rng, line: &mut Vec<u8>) -> bool {
    let (key, value): (&[u8], &[u8]) = if percent(rng, 50) {
        (b"\"hukou\":\"", b"city")
    } else {
        (b"\"sex\":\"", b"unknown")
    };
    let Some(at) = find(line, key, 0) else {
        return false;
    };
    let start = at + key.len();
    let Some(end) = find(line, b"\"", start) else {
        return false;
    };
    line.splice(start..end, value.iter().copied());
    true
}

/// Removes one required field: mostly `county_code`, else `hukou`, `parents` or `child`.
fn missing_field(rng: &mut ChaCha8Rng, line: &mut Vec<u8>) -> bool {
    let range = match rng.random_range(0..10) {
        0..6 => find(line, b"\"county_code\":\"", 0)
            .and_then(|s| find(line, b"\",", s).map(|e| s..e + 2)),
        6..8 => {
            find(line, b"\"hukou\":\"", 0).and_then(|s| find(line, b"\",", s).map(|e| s..e + 2))
        }
        8 => find(line, b"\"parents\":[", 0)
            .and_then(|s| find(line, b"],\"child\":", s).map(|e| s..e + 2)),
        _ => find(line, b",\"child\":{", 0).map(|s| s..line.len().saturating_sub(1)),
    };
    match range {
        Some(range) if range.end <= line.len() => {
            line.drain(range);
            true
        }
        _ => false,
    }
}

/// The census format (普查表 as CSV): the families of the main draw, dressed with what only the
/// census holds (names, phones, bank accounts, certificates, a village, a guardian for orphans)
/// from a generator of their own, seeded from the seed and the family number, so that the main
/// generator, and with it the JSON format, is untouched.
mod census {
    use std::collections::HashSet;
    use std::io;

    use guanai_rules::{ResidentId, Sex};
    use jiff::civil::{Date, date};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::{
        Counties, County, Family, Flag, OLD_ID_ADDRESS, Parent, add_days, between, percent,
        push_digits, push_plain_date,
    };

    /// The census sheet's headers in template order, exactly as `guanai-census` defines them.
    pub(super) const HEADERS: [&str; 23] = [
        "家庭编号",
        "成员关系",
        "姓名",
        "性别",
        "公民身份号码",
        "出生日期",
        "户籍性质",
        "所在村居代码",
        "联系电话",
        "开户银行",
        "银行账号",
        "低保",
        "五保",
        "慢性病",
        "居住状况",
        "独生子女父母光荣证号",
        "死亡日期",
        "死亡证明编号",
        "再生育或收养日期",
        "残疾等级",
        "残疾评定日期",
        "残疾证号",
        "备注",
    ];

    /// No census date is later than this. The reader rejects any date after the day it reads
    /// the file, so the main draw's dates (up to 2026-12-31) are capped here; capping keeps
    /// every order between dates. Output must not depend on the clock, hence a fixed day: files
    /// read on or after 2026-11-30 pass. It is also the "today" against which ID numbers are
    /// parsed.
    pub(super) const LAST: Date = date(2026, 11, 30);

    /// A child born after this day is under 18 on [`LAST`] and, without a living parent, needs
    /// a guardian.
    const ADULT_BORN_BY: Date = date(2008, 11, 30);

    /// Writes the UTF-8 BOM and the header row.
    pub(super) fn write_header(out: &mut Vec<u8>) {
        out.extend_from_slice(b"\xEF\xBB\xBF");
        out.extend_from_slice(HEADERS.join(",").as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// Common surnames (百家姓 as they are met today, with Linyi's 庄, 颜, 厉, 公).
    const SURNAMES: [&str; 104] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
        "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
        "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
        "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
        "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹",
        "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵",
        "万", "钱", "严", "武", "戴", "孔", "庄", "颜", "厉", "公", "葛", "鲁", "牛", "刁",
    ];

    /// Characters of given names, mostly men's.
    const MALE_CHARS: [&str; 48] = [
        "建", "国", "军", "伟", "强", "明", "永", "志", "海", "华", "平", "东", "文", "勇", "成",
        "刚", "林", "峰", "杰", "涛", "磊", "鹏", "辉", "斌", "超", "波", "庆", "德", "福", "春",
        "广", "振", "学", "兴", "宝", "金", "祥", "发", "良", "新", "宇", "浩", "俊", "凯", "鑫",
        "昊", "洪", "忠",
    ];

    /// Characters of given names, mostly women's.
    const FEMALE_CHARS: [&str; 44] = [
        "秀", "英", "兰", "芳", "霞", "玲", "红", "梅", "丽", "娟", "敏", "静", "燕", "艳", "萍",
        "凤", "琴", "云", "莲", "荣", "翠", "桂", "珍", "慧", "婷", "娜", "雪", "洁", "晓", "倩",
        "玉", "春", "爱", "美", "欣", "佳", "雨", "悦", "月", "萌", "丹", "颖", "琳", "妍",
    ];

    /// Banks where relief is paid, each with the first six digits of its accounts.
    const BANKS: [(&str, u64); 7] = [
        ("临沂农商银行", 623_018),
        ("临沂农商银行", 621_521),
        ("中国农业银行临沂分行", 622_848),
        ("中国邮政储蓄银行临沂分行", 621_799),
        ("中国工商银行临沂分行", 622_202),
        ("中国建设银行临沂分行", 621_700),
        ("临商银行", 622_862),
    ];

    /// The first three digits of mobile numbers.
    const PHONE_PREFIXES: [u64; 25] = [
        130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158,
        159, 180, 182, 183, 186, 187, 188,
    ];

    /// Village codes of other cities (北京 东城区, 济南 历下区, 南京 玄武区, 德州 德城区).
    const FOREIGN_VILLAGES: [&str; 4] = [
        "110101001001",
        "370102001001",
        "320102002003",
        "371402001001",
    ];

    /// 户籍性质 as offices mistype it.
    const UNKNOWN_HUKOU: [&str; 4] = ["农业", "非农业", "城市", "农村户口"];

    /// Month and day that no year has.
    const IMPOSSIBLE_MONTH_DAYS: [&str; 6] =
        ["-02-30", "-02-31", "-04-31", "-09-31", "-13-01", "-00-15"];

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Relation {
        Mother,
        Father,
        Child,
        Guardian,
    }

    impl Relation {
        fn as_zh(self) -> &'static str {
            match self {
                Relation::Mother => "母亲",
                Relation::Father => "父亲",
                Relation::Child => "子女",
                Relation::Guardian => "监护人",
            }
        }
    }

    /// Surname and one or two characters of given name; all empty for a missing name.
    type Name = [&'static str; 3];

    /// A certificate number's variable part: year of issue and a serial number.
    #[derive(Debug, Clone, Copy)]
    struct Serial {
        year: i16,
        number: u32,
    }

    /// One row of the census.
    #[derive(Debug, Clone)]
    struct Person {
        relation: Relation,
        name: Name,
        sex: Sex,
        id: Option<[u8; 18]>,
        birth: Date,
        /// Written after the birth year instead of the real month and day (a defect).
        bad_birth: Option<&'static str>,
        phone: Option<u64>,
        /// Bank name, account number and its number of digits.
        bank: Option<(&'static str, u64, usize)>,
        dibao: Flag,
        wubao: Flag,
        chronically_ill: Flag,
        living: Option<&'static str>,
        honor: Option<Serial>,
        death: Option<Date>,
        death_certificate: Option<Serial>,
        later_child: Option<Date>,
        disability: Option<(u8, Date)>,
        disability_certificate: Option<[u8; 20]>,
        note: Option<&'static str>,
    }

    impl Person {
        fn new(relation: Relation, name: Name, sex: Sex, birth: Date) -> Person {
            Person {
                relation,
                name,
                sex,
                id: None,
                birth,
                bad_birth: None,
                phone: None,
                bank: None,
                dibao: Flag::Absent,
                wubao: Flag::Absent,
                chronically_ill: Flag::Absent,
                living: None,
                honor: None,
                death: None,
                death_certificate: None,
                later_child: None,
                disability: None,
                disability_certificate: None,
                note: None,
            }
        }
    }

    /// How a deliberately invalid census family breaks the reader's rules.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Defect {
        /// A 公民身份号码 whose check character is wrong.
        CheckCharacter,
        /// A 出生日期 such as `1960-02-30`.
        ImpossibleDate,
        /// 残疾等级 5 or 0.
        GradeOutOfRange,
        /// A blank 姓名.
        MissingName,
        /// 户籍性质 neither 城镇 nor 农村, on every row.
        UnknownHukou,
        /// A parent's 公民身份号码 left blank.
        MissingIdNumber,
        /// A mother marked 男 or a father 女.
        SexAgainstRelation,
        /// A 死亡日期 before the 出生日期.
        DeathBeforeBirth,
        /// A 死亡日期 in the 2090s.
        FutureDate,
        /// A 所在村居代码 of another city, on every row.
        VillageOutsideLinyi,
        /// No 子女 row.
        NoChildRow,
        /// The 公民身份号码 of a person of an earlier family.
        DuplicateIdNumber,
    }

    const DEFECTS: [Defect; 12] = [
        Defect::CheckCharacter,
        Defect::ImpossibleDate,
        Defect::GradeOutOfRange,
        Defect::MissingName,
        Defect::UnknownHukou,
        Defect::MissingIdNumber,
        Defect::SexAgainstRelation,
        Defect::DeathBeforeBirth,
        Defect::FutureDate,
        Defect::VillageOutsideLinyi,
        Defect::NoChildRow,
        Defect::DuplicateIdNumber,
    ];

    /// Writes census families, keeping every ID number issued unique across the file.
    pub(super) struct Writer<'c> {
        seed: u64,
        counties: &'c Counties,
        /// The first 17 digits of every ID number written, as a number.
        issued: HashSet<u64>,
        /// Address codes to issue from when every sequence number of a birth day is taken.
        fallback: Vec<&'c str>,
        /// An ID number written in a recent family that the reader accepted as a number (and
        /// so remembers), for the duplicate defect.
        last_registered_id: Option<[u8; 18]>,
        people: Vec<Person>,
    }

    /// The census-only generator of one family: independent of the main one.
    fn family_rng(seed: u64, number: u64) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&number.to_le_bytes());
        key[16..].copy_from_slice(b"guanai census v1");
        ChaCha8Rng::from_seed(key)
    }

    fn cap(day: Date) -> Date {
        day.min(LAST)
    }

    fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            items.get(rng.random_range(0..items.len())).copied()
        }
    }

    fn surname(rng: &mut ChaCha8Rng) -> &'static str {
        SURNAMES[rng.random_range(0..SURNAMES.len())]
    }

    fn name(rng: &mut ChaCha8Rng, surname: &'static str, sex: Sex) -> Name {
        let pool: &[&'static str] = match sex {
            Sex::Male => &MALE_CHARS,
            Sex::Female => &FEMALE_CHARS,
        };
        let first = pool[rng.random_range(0..pool.len())];
        let second = if percent(rng, 65) {
            pool[rng.random_range(0..pool.len())]
        } else {
            ""
        };
        [surname, first, second]
    }

    fn phone(rng: &mut ChaCha8Rng) -> u64 {
        let prefix = PHONE_PREFIXES[rng.random_range(0..PHONE_PREFIXES.len())];
        prefix * 100_000_000 + rng.random_range(0..100_000_000)
    }

    /// A bank and an account of 16 to 19 digits, mostly 19 (cards), else passbooks.
    fn bank(rng: &mut ChaCha8Rng) -> (&'static str, u64, usize) {
        let (name, bin) = BANKS[rng.random_range(0..BANKS.len())];
        let digits = match rng.random_range(0..10) {
            0..6 => 19,
            6..8 => 16,
            8 => 17,
            _ => 18,
        };
        let tail = 10u64.pow(digits - 6);
        (
            name,
            bin * tail + rng.random_range(0..tail),
            digits as usize,
        )
    }

    /// The sequence number (characters 15–17) of an ID number.
    fn sequence_of(id: &[u8; 18]) -> u16 {
        id[14..17].iter().fold(0u16, |acc, &d| {
            acc * 10 + u16::from(d.wrapping_sub(b'0') % 10)
        })
    }

    fn digits_value(text: &str) -> Option<u64> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }

    impl<'c> Writer<'c> {
        pub(super) fn new(seed: u64, counties: &'c Counties) -> Writer<'c> {
            let mut fallback: Vec<&'c str> = counties
                .entries
                .iter()
                .map(|c| c.id_address.as_str())
                .collect();
            fallback.sort_unstable();
            fallback.dedup();
            Writer {
                seed,
                counties,
                issued: HashSet::new(),
                fallback,
                last_registered_id: None,
                people: Vec::with_capacity(4),
            }
        }

        /// An ID number for the address, birth day and sex not issued before in this file:
        /// from sequence number `start` (its parity set by the sex), stepping by 2 while taken;
        /// when all 500 of the day are, from the next county's address code.
        pub(super) fn issue(
            &mut self,
            address: &str,
            birth: Date,
            sex: Sex,
            start: u16,
        ) -> io::Result<[u8; 18]> {
            let ymd = u64::from(birth.year().unsigned_abs()) * 10_000
                + u64::from(birth.month().unsigned_abs()) * 100
                + u64::from(birth.day().unsigned_abs());
            let parity = match sex {
                Sex::Male => 1,
                Sex::Female => 0,
            };
            for attempt in 0..=self.fallback.len() {
                let address = match attempt {
                    0 => address,
                    n => self.fallback.get(n - 1).copied().unwrap_or(address),
                };
                let Some(prefix) = digits_value(address) else {
                    continue;
                };
                let mut sequence = (start % 1000) & !1 | parity;
                for _ in 0..500 {
                    let key = prefix * 100_000_000_000 + ymd * 1000 + u64::from(sequence);
                    if self.issued.insert(key) {
                        let id = ResidentId::build(address, birth, sequence)
                            .map_err(|e| io::Error::other(format!("generated ID number: {e}")))?;
                        return <[u8; 18]>::try_from(id.as_str().as_bytes()).map_err(|_| {
                            io::Error::other("generated ID number is not 18 characters")
                        });
                    }
                    sequence = (sequence + 2) % 1000;
                }
            }
            Err(io::Error::other(format!(
                "no ID number left for a person born {birth}"
            )))
        }

        /// The parent's ID number of the JSON format where there is one (stepped on a
        /// collision), else a new one drawn the way the main draw draws them.
        fn parent_id(
            &mut self,
            rng: &mut ChaCha8Rng,
            parent: &Parent,
            county: &County,
        ) -> io::Result<[u8; 18]> {
            if let Some(id) = &parent.id_number {
                let address = std::str::from_utf8(&id[..6])
                    .map_err(|_| io::Error::other("generated ID number is not ASCII"))?;
                return self.issue(address, parent.birth, parent.sex, sequence_of(id));
            }
            let address = match county.old_id_address {
                _ if parent.birth.year() >= 1975 || !percent(rng, 30) => &county.id_address,
                Some(old) => old,
                None => OLD_ID_ADDRESS[rng.random_range(0..OLD_ID_ADDRESS.len())].1,
            };
            let start = rng.random_range(0..1000);
            self.issue(address, parent.birth, parent.sex, start)
        }

        /// Writes the rows of one family into `out`; `defective` breaks it in one way.
        pub(super) fn write_family(
            &mut self,
            family: &Family<'_>,
            defective: bool,
            out: &mut Vec<u8>,
        ) -> io::Result<()> {
            let counties = self.counties;
            let county = counties
                .entries
                .iter()
                .find(|c| c.code == family.county)
                .ok_or_else(|| io::Error::other(format!("unknown county {}", family.county)))?;
            let mut rng = family_rng(self.seed, family.number);
            let mut village = county
                .villages
                .get(rng.random_range(0..county.villages.len().max(1)))
                .map(String::as_str)
                .ok_or_else(|| io::Error::other(format!("no villages in {}", county.code)))?;
            let mut people = std::mem::take(&mut self.people);
            people.clear();
            let built = self.build(&mut rng, family, county, &mut people);
            let mut hukou = if family.rural { "农村" } else { "城镇" };
            if built.is_ok() {
                if defective {
                    let defect = DEFECTS[rng.random_range(0..DEFECTS.len())];
                    self.damage(&mut rng, defect, &mut people, &mut hukou, &mut village);
                    // The reader remembers every number that parses, whatever else is wrong.
                    let parses = |id: &[u8; 18]| {
                        std::str::from_utf8(id)
                            .is_ok_and(|text| ResidentId::parse(text, LAST).is_ok())
                    };
                    if let Some(id) = people.iter().filter_map(|p| p.id).find(parses) {
                        self.last_registered_id = Some(id);
                    }
                } else if let Some(id) = people.first().and_then(|p| p.id) {
                    self.last_registered_id = Some(id);
                }
                for person in &people {
                    write_row(out, family.number, person, hukou, village, &county.code);
                }
            }
            self.people = people;
            built
        }

        /// The family's people: mother, father, child, and a guardian for an orphan.
        fn build(
            &mut self,
            rng: &mut ChaCha8Rng,
            family: &Family<'_>,
            county: &County,
            people: &mut Vec<Person>,
        ) -> io::Result<()> {
            let father_surname = surname(rng);
            let mut mother_surname = surname(rng);
            if mother_surname == father_surname {
                mother_surname = surname(rng);
            }
            let child = &family.child;
            let child_alive = child.death.is_none();
            // One certificate per couple, issued from 1979 on, in the years after the child's
            // birth; parents of a child born in the 1970s often got one too.
            let honor_share = match child.birth.year() {
                1979.. => 90,
                1970..1979 => 60,
                _ => 20,
            };
            let honor = percent(rng, honor_share).then(|| Serial {
                year: (child.birth.year().max(1979) + rng.random_range(0..3)).min(LAST.year()),
                number: rng.random_range(0..100_000),
            });
            let listed = |sex: Sex| family.parents.iter().find(|p| p.sex == sex);
            let mother = listed(Sex::Female);
            let father = listed(Sex::Male);
            for parent in [mother, father].into_iter().flatten() {
                let (relation, surname, spouse) = match parent.sex {
                    Sex::Female => (Relation::Mother, mother_surname, father),
                    Sex::Male => (Relation::Father, father_surname, mother),
                };
                let mut person = Person::new(
                    relation,
                    name(rng, surname, parent.sex),
                    parent.sex,
                    parent.birth,
                );
                person.id = Some(self.parent_id(rng, parent, county)?);
                person.death = parent.death.map(cap);
                person.later_child = parent.later_child.map(cap);
                person.dibao = parent.dibao;
                person.wubao = parent.wubao;
                person.chronically_ill = parent.chronically_ill;
                person.honor = honor;
                // The account relief is paid into stays on record after a death; a phone
                // number does not (about 75% of parents are alive, so ~70% have one).
                person.bank = percent(rng, 90).then(|| bank(rng));
                if let Some(death) = person.death {
                    person.death_certificate = percent(rng, 90).then(|| Serial {
                        year: death.year(),
                        number: rng.random_range(0..100_000),
                    });
                } else {
                    person.phone = percent(rng, 93).then(|| phone(rng));
                    if percent(rng, 40) {
                        let spouse_alive = spouse.is_some_and(|s| s.death.is_none());
                        let choices: &[&'static str] = match (spouse_alive, child_alive) {
                            (true, true) => &["与配偶同住", "与配偶及子女同住", "与子女同住"],
                            (true, false) => &["与配偶同住", "与配偶同住", "与亲属同住"],
                            (false, true) => &["与子女同住", "独居", "养老机构"],
                            (false, false) => &["独居", "养老机构", "与亲属同住"],
                        };
                        person.living = pick(rng, choices);
                    }
                }
                people.push(person);
            }

            let child_sex = if percent(rng, 52) {
                Sex::Male
            } else {
                Sex::Female
            };
            let child_surname = if percent(rng, 90) {
                father_surname
            } else {
                mother_surname
            };
            let mut person = Person::new(
                Relation::Child,
                name(rng, child_surname, child_sex),
                child_sex,
                child.birth,
            );
            if child.birth.year() >= 1985 {
                let start = rng.random_range(0..1000);
                person.id = Some(self.issue(&county.id_address, child.birth, child_sex, start)?);
            }
            person.death = child.death.map(cap);
            if let Some(death) = person.death {
                person.death_certificate = percent(rng, 90).then(|| Serial {
                    year: death.year(),
                    number: rng.random_range(0..100_000),
                });
            }
            person.disability = child
                .disability
                .map(|(grade, assessed)| (grade, cap(assessed)));
            if let Some((grade, _)) = person.disability
                && percent(rng, 85)
            {
                person.disability_certificate = Some(disability_certificate(
                    rng,
                    person.id,
                    &county.id_address,
                    child.birth,
                    child_sex,
                    grade,
                )?);
            }
            people.push(person);

            let orphan = child_alive
                && child.birth > ADULT_BORN_BY
                && family.parents.iter().all(|p| p.death.is_some());
            if orphan {
                let guardian =
                    self.guardian(rng, county, mother, father, mother_surname, father_surname)?;
                people.push(guardian);
            }
            Ok(())
        }

        /// A grandparent or a relative of a parent, alive, with ID number, phone and account.
        fn guardian(
            &mut self,
            rng: &mut ChaCha8Rng,
            county: &County,
            mother: Option<&Parent>,
            father: Option<&Parent>,
            mother_surname: &'static str,
            father_surname: &'static str,
        ) -> io::Result<Person> {
            // (备注, sex, on the father's side, a grandparent, takes the side's surname)
            const KINDS: [(&str, Sex, bool, bool, bool); 9] = [
                ("祖父", Sex::Male, true, true, true),
                ("祖母", Sex::Female, true, true, false),
                ("外祖父", Sex::Male, false, true, true),
                ("外祖母", Sex::Female, false, true, false),
                ("伯父", Sex::Male, true, false, true),
                ("叔叔", Sex::Male, true, false, true),
                ("姑姑", Sex::Female, true, false, true),
                ("舅舅", Sex::Male, false, false, true),
                ("姨妈", Sex::Female, false, false, true),
            ];
            let (note, sex, paternal, grandparent, side_surname) =
                KINDS[rng.random_range(0..KINDS.len())];
            let (near, far) = if paternal {
                (father, mother)
            } else {
                (mother, father)
            };
            let base = near.or(far).map_or(date(1975, 1, 1), |p| p.birth);
            let birth = if grandparent {
                add_days(base, -rng.random_range(7305..=11_688)).max(date(1925, 1, 1))
            } else {
                add_days(base, rng.random_range(-3652..=3652)).min(date(1995, 12, 31))
            };
            let surname = match (side_surname, paternal) {
                (true, true) => father_surname,
                (true, false) => mother_surname,
                (false, _) => surname(rng),
            };
            let mut person = Person::new(Relation::Guardian, name(rng, surname, sex), sex, birth);
            let start = rng.random_range(0..1000);
            person.id = Some(self.issue(&county.id_address, birth, sex, start)?);
            person.phone = percent(rng, 90).then(|| phone(rng));
            person.bank = percent(rng, 90).then(|| bank(rng));
            person.note = Some(note);
            Ok(person)
        }

        /// Breaks the family in the way of `defect`.
        fn damage(
            &self,
            rng: &mut ChaCha8Rng,
            defect: Defect,
            people: &mut Vec<Person>,
            hukou: &mut &'c str,
            village: &mut &'c str,
        ) {
            let parents: Vec<usize> = people
                .iter()
                .enumerate()
                .filter(|(_, p)| matches!(p.relation, Relation::Mother | Relation::Father))
                .map(|(i, _)| i)
                .collect();
            let any = rng.random_range(0..people.len().max(1));
            let parent = pick(rng, &parents).unwrap_or(0);
            let defect = match defect {
                Defect::DuplicateIdNumber if self.last_registered_id.is_none() => {
                    Defect::CheckCharacter
                }
                other => other,
            };
            match defect {
                Defect::CheckCharacter => {
                    if let Some(id) = people.get_mut(parent).and_then(|p| p.id.as_mut()) {
                        const CHECK: &[u8; 11] = b"0123456789X";
                        let old = CHECK.iter().position(|&c| c == id[17]).unwrap_or(0);
                        let new = (old + rng.random_range(1..CHECK.len())) % CHECK.len();
                        id[17] = CHECK[new];
                    }
                }
                Defect::ImpossibleDate => {
                    if let Some(person) = people.get_mut(any) {
                        person.bad_birth = pick(rng, &IMPOSSIBLE_MONTH_DAYS);
                    }
                }
                Defect::GradeOutOfRange => {
                    if let Some(child) = people.iter_mut().find(|p| p.relation == Relation::Child) {
                        let grade = if percent(rng, 80) { 5 } else { 0 };
                        let assessed = match child.disability {
                            Some((_, assessed)) => assessed,
                            None => between(rng, child.birth, child.death.unwrap_or(LAST)),
                        };
                        child.disability = Some((grade, assessed));
                    }
                }
                Defect::MissingName => {
                    if let Some(person) = people.get_mut(any) {
                        person.name = ["", "", ""];
                    }
                }
                Defect::UnknownHukou => {
                    *hukou = pick(rng, &UNKNOWN_HUKOU).unwrap_or("城市");
                }
                Defect::MissingIdNumber => {
                    if let Some(person) = people.get_mut(parent) {
                        person.id = None;
                    }
                }
                Defect::SexAgainstRelation => {
                    if let Some(person) = people.get_mut(parent) {
                        person.sex = match person.sex {
                            Sex::Female => Sex::Male,
                            Sex::Male => Sex::Female,
                        };
                    }
                }
                Defect::DeathBeforeBirth => {
                    if let Some(person) = people.get_mut(any) {
                        person.death = Some(add_days(person.birth, -rng.random_range(1..=3650)));
                    }
                }
                Defect::FutureDate => {
                    if let Some(person) = people.get_mut(any) {
                        let year = rng.random_range(2090..=2099);
                        let first = Date::new(year, 1, 1).unwrap_or(date(2090, 1, 1));
                        person.death = Some(add_days(first, rng.random_range(0..365)));
                    }
                }
                Defect::VillageOutsideLinyi => {
                    *village = pick(rng, &FOREIGN_VILLAGES).unwrap_or("110101001001");
                }
                Defect::NoChildRow => people.retain(|p| p.relation != Relation::Child),
                Defect::DuplicateIdNumber => {
                    if let Some(person) = people.get_mut(parent) {
                        person.id = self.last_registered_id;
                    }
                }
            }
        }
    }

    /// A 残疾证号 of the second generation: the holder's ID number, the kind of disability
    /// (1–7) and the grade. A child without a listed ID number still has one on the card.
    fn disability_certificate(
        rng: &mut ChaCha8Rng,
        id: Option<[u8; 18]>,
        address: &str,
        birth: Date,
        sex: Sex,
        grade: u8,
    ) -> io::Result<[u8; 20]> {
        let id = match id {
            Some(id) => id,
            None => super::id_number(rng, address, birth, sex)?,
        };
        let mut number = [0u8; 20];
        number[..18].copy_from_slice(&id);
        number[18] = b'0' + rng.random_range(1..=7u8);
        number[19] = b'0' + grade % 10;
        Ok(number)
    }

    fn push_flag(out: &mut Vec<u8>, flag: Flag) {
        match flag {
            Flag::Absent => {}
            Flag::False => out.extend_from_slice("否".as_bytes()),
            Flag::True => out.extend_from_slice("是".as_bytes()),
        }
    }

    fn push_day(out: &mut Vec<u8>, day: Option<Date>) {
        if let Some(day) = day {
            push_plain_date(out, day);
        }
    }

    /// One CSV row; no cell holds a comma, a quote or a line break, so none is quoted.
    fn write_row(
        out: &mut Vec<u8>,
        number: u64,
        p: &Person,
        hukou: &str,
        village: &str,
        county: &str,
    ) {
        out.extend_from_slice(b"YN-");
        push_digits(out, number, 7);
        out.push(b',');
        out.extend_from_slice(p.relation.as_zh().as_bytes());
        out.push(b',');
        for part in p.name {
            out.extend_from_slice(part.as_bytes());
        }
        out.push(b',');
        out.extend_from_slice(match p.sex {
            Sex::Female => "女".as_bytes(),
            Sex::Male => "男".as_bytes(),
        });
        out.push(b',');
        if let Some(id) = &p.id {
            out.extend_from_slice(id);
        }
        out.push(b',');
        match p.bad_birth {
            Some(month_day) => {
                push_digits(out, p.birth.year().unsigned_abs().into(), 4);
                out.extend_from_slice(month_day.as_bytes());
            }
            None => push_plain_date(out, p.birth),
        }
        out.push(b',');
        out.extend_from_slice(hukou.as_bytes());
        out.push(b',');
        out.extend_from_slice(village.as_bytes());
        out.push(b',');
        if let Some(phone) = p.phone {
            push_digits(out, phone, 11);
        }
        out.push(b',');
        if let Some((bank, _, _)) = p.bank {
            out.extend_from_slice(bank.as_bytes());
        }
        out.push(b',');
        if let Some((_, account, digits)) = p.bank {
            push_digits(out, account, digits);
        }
        out.push(b',');
        push_flag(out, p.dibao);
        out.push(b',');
        push_flag(out, p.wubao);
        out.push(b',');
        push_flag(out, p.chronically_ill);
        out.push(b',');
        if let Some(living) = p.living {
            out.extend_from_slice(living.as_bytes());
        }
        out.push(b',');
        if let Some(honor) = p.honor {
            out.extend_from_slice("鲁独字第".as_bytes());
            out.extend_from_slice(county.as_bytes());
            push_digits(out, honor.year.unsigned_abs().into(), 4);
            push_digits(out, honor.number.into(), 5);
            out.extend_from_slice("号".as_bytes());
        }
        out.push(b',');
        push_day(out, p.death);
        out.push(b',');
        if let Some(certificate) = p.death_certificate {
            out.push(b'D');
            out.extend_from_slice(county.as_bytes());
            push_digits(out, certificate.year.unsigned_abs().into(), 4);
            push_digits(out, certificate.number.into(), 5);
        }
        out.push(b',');
        push_day(out, p.later_child);
        out.push(b',');
        if let Some((grade, _)) = p.disability {
            push_digits(out, grade.into(), 1);
        }
        out.push(b',');
        push_day(out, p.disability.map(|(_, assessed)| assessed));
        out.push(b',');
        if let Some(certificate) = &p.disability_certificate {
            out.extend_from_slice(certificate);
        }
        out.push(b',');
        if let Some(note) = p.note {
            out.extend_from_slice(note.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::{BTreeMap, BTreeSet, HashSet};

    const LAST_DAY: Date = jiff::civil::date(2026, 12, 31);

    fn run(count: u64, seed: u64, invalid_share: f64) -> (String, GenSummary) {
        let mut out = Vec::new();
        let summary = generate(
            &GenOptions {
                count,
                seed,
                invalid_share,
                format: GenFormat::EvalJson,
            },
            &mut out,
        )
        .expect("generation succeeds");
        (String::from_utf8(out).expect("UTF-8"), summary)
    }

    fn date(value: &Value) -> Result<Date, String> {
        let text = value
            .as_str()
            .ok_or_else(|| format!("not a string: {value}"))?;
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(format!("not a date: {text}"));
        }
        let (Ok(y), Ok(m), Ok(d)) = (text[0..4].parse(), text[5..7].parse(), text[8..10].parse())
        else {
            return Err(format!("not a date: {text}"));
        };
        if y == 0 {
            return Err(format!("not a date: {text}"));
        }
        Date::new(y, m, d).map_err(|_| format!("not a date: {text}"))
    }

    fn optional_date(object: &Value, key: &str) -> Result<Option<Date>, String> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => date(value).map(Some).map_err(|e| format!("{key}: {e}")),
        }
    }

    fn not_before(event: Option<Date>, birth: Date, field: &str) -> Result<(), String> {
        match event {
            Some(e) if e < birth => Err(format!("{field}: before birth")),
            _ => Ok(()),
        }
    }

    /// An independent reading of the eval contract's input rules: why a line would be rejected.
    fn contract_problem(line: &str) -> Result<Value, String> {
        let family: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
        let text = |v: &Value, key: &str| -> Result<String, String> {
            match v.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                None => Err(format!("missing {key}")),
                Some(other) => Err(format!("{key}: not a non-empty string: {other}")),
            }
        };
        text(&family, "family_id")?;
        let county = text(&family, "county_code")?;
        CountyCode::parse(&county).map_err(|e| format!("county_code: {e}"))?;
        let hukou = text(&family, "hukou")?;
        if hukou != "urban" && hukou != "rural" {
            return Err(format!("hukou: unknown value {hukou}"));
        }
        let parents = family
            .get("parents")
            .ok_or("missing parents")?
            .as_array()
            .ok_or("parents: not an array")?;
        if parents.len() > 2 {
            return Err("parents: more than two".into());
        }
        let mut sexes = BTreeSet::new();
        for parent in parents {
            text(parent, "id")?;
            let sex = match text(parent, "sex")?.as_str() {
                "female" => Sex::Female,
                "male" => Sex::Male,
                other => return Err(format!("sex: unknown value {other}")),
            };
            if !sexes.insert(sex.as_str()) {
                return Err("parents: two of one sex".into());
            }
            let birth = date(parent.get("birth_date").ok_or("missing birth_date")?)?;
            not_before(optional_date(parent, "death_date")?, birth, "death_date")?;
            not_before(
                optional_date(parent, "later_child_date")?,
                birth,
                "later_child_date",
            )?;
            match parent.get("id_number") {
                None | Some(Value::Null) => {}
                Some(Value::String(number)) => {
                    let id = ResidentId::parse(number, LAST_DAY)
                        .map_err(|e| format!("id_number: {e}"))?;
                    id.check_agrees(birth, sex)
                        .map_err(|e| format!("id_number: {e}"))?;
                }
                Some(other) => return Err(format!("id_number: not a string: {other}")),
            }
            for flag in ["dibao", "wubao", "chronically_ill"] {
                if !matches!(parent.get(flag), None | Some(Value::Null | Value::Bool(_))) {
                    return Err(format!("{flag}: not a boolean"));
                }
            }
        }
        let child = family.get("child").ok_or("missing child")?;
        if !child.is_object() {
            return Err("child: not an object".into());
        }
        let birth = date(child.get("birth_date").ok_or("missing child.birth_date")?)?;
        not_before(optional_date(child, "death_date")?, birth, "death_date")?;
        match child.get("disability_grade") {
            None | Some(Value::Null) => {}
            Some(grade) => {
                let grade = grade.as_i64().ok_or("disability_grade: not an integer")?;
                if !(1..=4).contains(&grade) {
                    return Err(format!("disability_grade: out of range: {grade}"));
                }
                let assessed = optional_date(child, "disability_date")?
                    .ok_or("disability_date: required with a grade")?;
                not_before(Some(assessed), birth, "disability_date")?;
            }
        }
        Ok(family)
    }

    fn lines(text: &str) -> Vec<&str> {
        text.strip_suffix('\n')
            .map(|t| t.split('\n').collect())
            .unwrap_or_default()
    }

    #[test]
    fn same_seed_gives_byte_identical_output() {
        let (a, _) = run(3000, 42, 0.1);
        let (b, _) = run(3000, 42, 0.1);
        assert_eq!(a, b);
    }

    #[test]
    fn different_seeds_give_different_output() {
        let (a, _) = run(100, 1, 0.0);
        let (b, _) = run(100, 2, 0.0);
        assert_ne!(a, b);
    }

    #[test]
    fn one_line_per_family_numbered_from_one() {
        let (text, summary) = run(1234, 7, 0.2);
        let lines = lines(&text);
        assert_eq!(lines.len(), 1234);
        assert_eq!(summary.families, 1234);
        assert!(lines[0].starts_with("{\"family_id\":\"F0000001\""));
        assert!(lines[1233].starts_with("{\"family_id\":\"F0001234\"") || summary.invalid > 0);
        assert!(
            lines
                .iter()
                .all(|l| !l.trim().is_empty() && !l.contains('\r'))
        );
    }

    #[test]
    fn no_lines_for_a_count_of_zero() {
        assert_eq!(
            run(0, 1, 0.5),
            (
                String::new(),
                GenSummary {
                    families: 0,
                    invalid: 0
                }
            )
        );
    }

    #[test]
    fn invalid_share_outside_zero_to_one_is_refused() {
        for (share, format) in [-0.1, 1.5, f64::NAN]
            .into_iter()
            .flat_map(|s| [(s, GenFormat::EvalJson), (s, GenFormat::CensusCsv)])
        {
            let mut out = Vec::new();
            let err = generate(
                &GenOptions {
                    count: 10,
                    seed: 1,
                    invalid_share: share,
                    format,
                },
                &mut out,
            )
            .expect_err("refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(out.is_empty());
        }
    }

    #[test]
    fn every_line_meets_the_contract_when_no_invalid_share() {
        let (text, summary) = run(10_000, 2014, 0.0);
        assert_eq!(summary.invalid, 0);
        for line in lines(&text) {
            let family = contract_problem(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let keys: Vec<&str> = family
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            // serde_json's map is sorted; the order as written is checked separately.
            assert_eq!(
                keys,
                ["child", "county_code", "family_id", "hukou", "parents"],
                "{line}"
            );
            assert!(line.is_ascii());
        }
    }

    #[test]
    fn key_order_follows_the_contract_example() {
        let (text, _) = run(200, 3, 0.0);
        for line in lines(&text) {
            let at = |key: &str| line.find(&format!("\"{key}\":")).expect(key);
            assert!(at("family_id") < at("county_code"));
            assert!(at("county_code") < at("hukou"));
            assert!(at("hukou") < at("parents"));
            assert!(at("parents") < at("child"));
        }
    }

    #[test]
    fn families_are_realistic_and_dates_consistent() {
        let (text, _) = run(10_000, 99, 0.0);
        let d = |v: &Value| date(v).expect("date");
        for line in lines(&text) {
            let family: Value = serde_json::from_str(line).expect("JSON");
            let child = &family["child"];
            let child_birth = d(&child["birth_date"]);
            let mut dates = vec![child_birth];
            dates.extend(optional_date(child, "death_date").expect("date"));
            dates.extend(optional_date(child, "disability_date").expect("date"));
            let parents = family["parents"].as_array().expect("parents");
            assert!(!parents.is_empty(), "{line}");
            let mut mother_birth = None;
            let mut father_birth = None;
            for parent in parents {
                let birth = d(&parent["birth_date"]);
                assert!((1930..=1985).contains(&birth.year()), "{line}");
                let death = optional_date(parent, "death_date").expect("date");
                assert!(
                    death.is_none_or(|death| death >= child_birth),
                    "died before the child: {line}"
                );
                dates.push(birth);
                dates.extend(death);
                dates.extend(optional_date(parent, "later_child_date").expect("date"));
                match parent["sex"].as_str() {
                    Some("female") => mother_birth = Some(birth),
                    _ => father_birth = Some(birth),
                }
            }
            assert!(dates.iter().all(|&date| date <= LAST_DAY), "{line}");
            if let Some(mother) = mother_birth {
                let age_20 = mother
                    .checked_add(jiff::Span::new().years(20))
                    .expect("date");
                let age_39 = mother
                    .checked_add(jiff::Span::new().years(39))
                    .expect("date");
                assert!(
                    age_20 <= child_birth && child_birth < age_39,
                    "mother's age: {line}"
                );
                if let Some(father) = father_birth {
                    let gap = father.until(mother).expect("span").get_days();
                    assert!((0..=SIX_YEARS).contains(&gap), "father's age: {line}");
                }
            }
        }
    }

    #[test]
    fn every_id_number_parses_and_agrees_with_birth_date_and_sex() {
        let (text, _) = run(10_000, 5, 0.0);
        let mut parents = 0;
        let mut with_id = 0;
        let mut old_codes = 0;
        for line in lines(&text) {
            let family: Value = serde_json::from_str(line).expect("JSON");
            for parent in family["parents"].as_array().expect("parents") {
                parents += 1;
                let Some(number) = parent.get("id_number").and_then(Value::as_str) else {
                    continue;
                };
                with_id += 1;
                let id = ResidentId::parse(number, LAST_DAY).expect("valid ID number");
                let sex = if parent["sex"] == "male" {
                    Sex::Male
                } else {
                    Sex::Female
                };
                let birth = date(&parent["birth_date"]).expect("date");
                assert_eq!(id.check_agrees(birth, sex), Ok(()), "{line}");
                if id.address_code().starts_with("3728") {
                    old_codes += 1;
                    assert!(birth.year() < 1975, "old codes only before 1975: {line}");
                } else {
                    let code = CountyCode::parse(id.address_code()).expect("a Linyi code");
                    assert!(
                        code.get() < 371370,
                        "ID numbers carry GB/T 2260 codes: {line}"
                    );
                }
            }
        }
        let share = f64::from(with_id) / f64::from(parents);
        assert!((0.77..=0.83).contains(&share), "id_number share {share}");
        assert!(old_codes > 100, "old 3728xx codes appear: {old_codes}");
    }

    /// The category or edge case a valid line shows, read back from its JSON.
    fn features(family: &Value) -> Vec<&'static str> {
        let child = &family["child"];
        let parents = family["parents"].as_array().expect("parents");
        let dead = |v: &Value| !v.get("death_date").is_none_or(Value::is_null);
        let grade = child.get("disability_grade").and_then(Value::as_i64);
        let birth = |v: &Value| v["birth_date"].as_str().expect("date").to_owned();
        let mut found = Vec::new();
        if dead(child) {
            found.push("bereaved");
        } else if !parents.is_empty() && parents.iter().all(dead) && birth(child).as_str() >= "2009"
        {
            found.push("orphan");
        } else if matches!(grade, Some(1..=3)) {
            found.push("disabled");
        }
        if grade == Some(4) {
            found.push("grade 4");
        }
        if parents
            .iter()
            .any(|p| !p.get("later_child_date").is_none_or(Value::is_null))
        {
            found.push("later child");
        }
        if parents.len() == 1 {
            found.push("single parent");
        }
        if parents.iter().any(|p| birth(p).as_str() < "1933") {
            found.push("born before 1933");
        }
        if parents.iter().any(|p| birth(p).ends_with("-02-29")) {
            found.push("29 February");
        }
        if parents.iter().any(|p| {
            p["sex"] == "female" && !dead(p) && ("1966".."1982").contains(&birth(p).as_str())
        }) {
            found.push("mother under 49 in 2014-2030");
        }
        found
    }

    #[test]
    fn every_category_and_edge_case_appears_in_10000_lines() {
        let (text, _) = run(10_000, 11, 0.0);
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for line in lines(&text) {
            let family: Value = serde_json::from_str(line).expect("JSON");
            for feature in features(&family) {
                *counts.entry(feature).or_default() += 1;
            }
        }
        let expected = [
            ("bereaved", 5000..6600),
            ("disabled", 3000..4000),
            ("orphan", 400..650),
            ("grade 4", 150..400),
            ("later child", 150..400),
            ("single parent", 800..1300),
            ("born before 1933", 200..800),
            ("29 February", 150..400),
            ("mother under 49 in 2014-2030", 1000..6000),
        ];
        for (feature, range) in expected {
            let n = counts.get(feature).copied().unwrap_or(0);
            assert!(
                range.contains(&n),
                "{feature}: {n} not in {range:?} ({counts:?})"
            );
        }
    }

    #[test]
    fn counties_hukou_and_flags_have_realistic_shares() {
        let (text, _) = run(10_000, 12, 0.0);
        let mut counties: BTreeMap<String, u32> = BTreeMap::new();
        let (mut rural, mut parents, mut dibao, mut wubao, mut ill, mut explicit_false) =
            (0, 0, 0, 0, 0, 0);
        for line in lines(&text) {
            let family: Value = serde_json::from_str(line).expect("JSON");
            *counties
                .entry(family["county_code"].as_str().expect("code").into())
                .or_default() += 1;
            rural += u32::from(family["hukou"] == "rural");
            for parent in family["parents"].as_array().expect("parents") {
                parents += 1;
                dibao += u32::from(parent.get("dibao") == Some(&Value::Bool(true)));
                wubao += u32::from(parent.get("wubao") == Some(&Value::Bool(true)));
                ill += u32::from(parent.get("chronically_ill") == Some(&Value::Bool(true)));
                explicit_false += u32::from(parent.get("dibao") == Some(&Value::Bool(false)));
            }
        }
        let all: BTreeSet<String> = CountyCode::all().iter().map(ToString::to_string).collect();
        assert_eq!(
            counties.keys().cloned().collect::<BTreeSet<_>>(),
            all,
            "every county appears"
        );
        let share = |n: u32, of: u32| f64::from(n) / f64::from(of);
        assert!(
            counties["371324"] > counties["371371"] * 10,
            "兰陵县 far outweighs 高新区"
        );
        assert!((0.002..0.01).contains(&share(counties["371372"], 10_000)));
        assert!((0.62..0.68).contains(&share(rural, 10_000)));
        assert!((0.08..0.12).contains(&share(dibao, parents)));
        assert!((0.015..0.045).contains(&share(wubao, parents)));
        assert!((0.13..0.17).contains(&share(ill, parents)));
        assert!(explicit_false > 0, "some flags are written as false");
    }

    #[test]
    fn invalid_share_is_respected_and_each_invalid_line_breaks_the_contract() {
        let (text, summary) = run(10_000, 8, 0.1);
        assert!((800..=1200).contains(&summary.invalid), "{summary:?}");
        let rejected = lines(&text)
            .iter()
            .filter(|l| contract_problem(l).is_err())
            .count();
        assert_eq!(rejected as u64, summary.invalid);
    }

    #[test]
    fn every_kind_of_defect_appears_when_all_lines_are_invalid() {
        let (text, summary) = run(2000, 9, 1.0);
        assert_eq!(summary.invalid, 2000);
        let mut kinds: BTreeMap<&str, u32> = BTreeMap::new();
        for line in lines(&text) {
            let problem = contract_problem(line).expect_err(line);
            let kind = [
                ("not JSON", "broken JSON"),
                ("not a date", "impossible date"),
                ("unknown value", "unknown enum"),
                ("disability_grade: out of range", "disability grade"),
                ("should be", "wrong check character"),
                ("disagrees", "ID number disagrees"),
                ("missing", "missing field"),
                ("before birth", "death before birth"),
                ("is not a Linyi county-level code", "county outside Linyi"),
            ]
            .iter()
            .find(|(needle, _)| problem.contains(needle))
            .map(|&(_, kind)| kind)
            .unwrap_or_else(|| panic!("unexpected problem {problem}: {line}"));
            *kinds.entry(kind).or_default() += 1;
        }
        assert_eq!(kinds.len(), 9, "{kinds:?}");
        assert!(kinds.values().all(|&n| n > 100), "{kinds:?}");
    }

    /// FNV-1a, 64 bits: a hash that no library version changes.
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    #[test]
    fn eval_json_output_is_unchanged_by_the_census_format() {
        // Observed before the census format was added: the first 2,000 lines for seed 7.
        let (valid, _) = run(2000, 7, 0.0);
        assert_eq!(lines(&valid).len(), 2000);
        assert_eq!(fnv1a(valid.as_bytes()), 0xc9db_7be3_6c22_7ce4);
        let (mixed, summary) = run(2000, 7, 0.1);
        assert!(summary.invalid > 0);
        assert_eq!(fnv1a(mixed.as_bytes()), 0x0b95_cba1_a664_0eeb);
        assert_eq!(GenFormat::default(), GenFormat::EvalJson);
    }

    const CENSUS_TODAY: Date = jiff::civil::date(2026, 11, 30);

    fn census(count: u64, seed: u64, invalid_share: f64) -> (Vec<u8>, GenSummary) {
        let mut out = Vec::new();
        let summary = generate(
            &GenOptions {
                count,
                seed,
                invalid_share,
                format: GenFormat::CensusCsv,
            },
            &mut out,
        )
        .expect("generation succeeds");
        (out, summary)
    }

    type ReadFamily = Result<guanai_census::CensusFamily, Vec<guanai_census::RowError>>;

    /// Reads census bytes back through the census reader, as `guanai import` does.
    fn read_census(bytes: &[u8]) -> Vec<ReadFamily> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("census.csv");
        std::fs::write(&path, bytes).expect("write census");
        guanai_census::CensusReader::open(&path, CENSUS_TODAY)
            .expect("header accepted")
            .collect()
    }

    #[test]
    fn census_starts_with_bom_and_the_census_headers() {
        let (bytes, summary) = census(3, 1, 0.0);
        assert_eq!(summary.families, 3);
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        let text = text.strip_prefix('\u{feff}').expect("BOM");
        let header = text.split("\r\n").next().expect("header");
        assert_eq!(header, census::HEADERS.join(","));
        assert_eq!(census::LAST, CENSUS_TODAY);
        assert!(text.ends_with("\r\n"));
        assert!(text.lines().nth(1).expect("row").starts_with("YN-0000001,"));
    }

    #[test]
    fn census_is_reproducible_and_empty_for_a_count_of_zero() {
        assert_eq!(census(500, 3, 0.2), census(500, 3, 0.2));
        assert_ne!(census(50, 3, 0.0).0, census(50, 4, 0.0).0);
        let (bytes, summary) = census(0, 3, 0.5);
        assert_eq!(summary, GenSummary::default());
        assert_eq!(read_census(&bytes).len(), 0);
    }

    #[test]
    fn every_census_family_reads_back_without_error() {
        use guanai_census::Relation;
        let (bytes, summary) = census(5000, 2014, 0.0);
        assert_eq!(summary.invalid, 0);
        let families = read_census(&bytes);
        assert_eq!(families.len(), 5000);
        let mut ids = HashSet::new();
        let (mut parents, mut phones, mut banks, mut honors, mut guardians) = (0, 0, 0, 0, 0);
        let mut seen = BTreeSet::new();
        for (i, family) in families.iter().enumerate() {
            let family = family
                .as_ref()
                .unwrap_or_else(|e| panic!("family {i}: {e:?}"));
            assert_eq!(family.family_no, format!("YN-{:07}", i + 1));
            for m in &family.members {
                assert!(!m.name.is_empty() && m.name.chars().count() <= 3);
                match m.relation {
                    Relation::Mother | Relation::Father | Relation::Guardian => {
                        assert!(m.id_number.is_some(), "{}", family.family_no);
                    }
                    Relation::Child => {
                        assert_eq!(m.id_number.is_some(), m.birth_date.year() >= 1985);
                    }
                }
                if let Some(id) = &m.id_number {
                    assert!(ids.insert(id.as_str().to_owned()), "duplicate ID number");
                }
                if m.relation.is_parent() {
                    parents += 1;
                    phones += u32::from(m.phone.is_some());
                    banks += u32::from(m.bank_account.is_some());
                    honors += u32::from(m.honor_certificate_no.is_some());
                    if let Some(phone) = &m.phone {
                        assert_eq!(phone.len(), 11);
                        assert!(["13", "15", "18"].contains(&&phone[..2]));
                    }
                    if let Some(account) = &m.bank_account {
                        assert!((16..=19).contains(&account.len()));
                        assert!(m.bank_name.is_some());
                    }
                }
                guardians += u32::from(m.relation == Relation::Guardian);
                // Every optional column is read, so every header was recognised.
                let fields = [
                    ("phone", m.phone.is_some()),
                    ("bank_name", m.bank_name.is_some()),
                    ("bank_account", m.bank_account.is_some()),
                    ("dibao", m.dibao),
                    ("wubao", m.wubao),
                    ("chronically_ill", m.chronically_ill),
                    ("living", m.living_situation.is_some()),
                    ("honor", m.honor_certificate_no.is_some()),
                    ("death", m.death_date.is_some()),
                    ("death_certificate", m.death_certificate_no.is_some()),
                    ("later_child", m.later_child_date.is_some()),
                    ("disability", m.disability.is_some()),
                    (
                        "disability_certificate",
                        m.disability_certificate_no.is_some(),
                    ),
                    ("note", m.note.is_some()),
                ];
                seen.extend(fields.iter().filter(|(_, v)| *v).map(|(k, _)| *k));
            }
            let orphan = family.child().death_date.is_none()
                && family.child().birth_date > jiff::civil::date(2008, 11, 30)
                && family.parents().all(|p| p.death_date.is_some());
            assert_eq!(family.guardians().count(), usize::from(orphan));
            assert!(
                family
                    .members
                    .iter()
                    .map(|m| m.relation)
                    .is_sorted_by_key(|r| match r {
                        Relation::Mother => 0,
                        Relation::Father => 1,
                        Relation::Child => 2,
                        Relation::Guardian => 3,
                    })
            );
        }
        assert_eq!(seen.len(), 14, "{seen:?}");
        let share = |n: u32| f64::from(n) / f64::from(parents);
        assert!((0.65..0.75).contains(&share(phones)), "{}", share(phones));
        assert!((0.87..0.93).contains(&share(banks)), "{}", share(banks));
        assert!((0.6..0.85).contains(&share(honors)), "{}", share(honors));
        assert!(guardians > 100, "{guardians}");
    }

    #[test]
    fn census_and_json_describe_the_same_families() {
        let (json, _) = run(3000, 21, 0.05);
        let (csv, summary) = census(3000, 21, 0.05);
        let read = read_census(&csv);
        assert_eq!(read.len(), 3000);
        let (mut compared, mut same_id, mut json_ids) = (0, 0, 0);
        for (line, family) in lines(&json).iter().zip(&read) {
            let (Ok(value), Ok(family)) = (serde_json::from_str::<Value>(line), family) else {
                continue;
            };
            if contract_problem(line).is_err() {
                continue;
            }
            compared += 1;
            assert_eq!(
                value["family_id"].as_str().map(|f| f.replace('F', "YN-")),
                Some(family.family_no.clone())
            );
            assert_eq!(
                value["hukou"] == "rural",
                family.hukou == guanai_rules::Hukou::Rural
            );
            let county = value["county_code"].as_str().expect("county");
            let expected = match county {
                "371372" => "371312",
                "371373" => "371327",
                other => other,
            };
            assert_eq!(family.county().to_string(), expected);
            let capped = |v: Option<Date>| v.map(|d| d.min(CENSUS_TODAY));
            let child = &value["child"];
            assert_eq!(
                date(&child["birth_date"]).ok(),
                Some(family.child().birth_date)
            );
            assert_eq!(
                capped(optional_date(child, "death_date").expect("date")),
                family.child().death_date
            );
            let parents = value["parents"].as_array().expect("parents");
            assert_eq!(parents.len(), family.parents().count());
            for parent in parents {
                let female = parent["sex"] == "female";
                let row = family
                    .parents()
                    .find(|p| (p.sex == Sex::Female) == female)
                    .expect("same parent");
                assert_eq!(date(&parent["birth_date"]).ok(), Some(row.birth_date));
                assert_eq!(
                    capped(optional_date(parent, "death_date").expect("date")),
                    row.death_date
                );
                assert_eq!(
                    capped(optional_date(parent, "later_child_date").expect("date")),
                    row.later_child_date
                );
                assert_eq!(parent.get("dibao") == Some(&Value::Bool(true)), row.dibao);
                if let Some(id) = parent.get("id_number").and_then(Value::as_str) {
                    json_ids += 1;
                    same_id +=
                        u32::from(row.id_number.as_ref().map(ResidentId::as_str) == Some(id));
                }
            }
        }
        assert_eq!(compared, 3000 - summary.invalid);
        assert!(
            json_ids > 3000 && same_id * 100 >= json_ids * 99,
            "{same_id}/{json_ids}"
        );
    }

    #[test]
    fn invalid_census_families_are_reported_and_the_others_still_read() {
        let (bytes, summary) = census(5000, 8, 0.1);
        assert!((400..=600).contains(&summary.invalid), "{summary:?}");
        let read = read_census(&bytes);
        assert_eq!(read.len(), 5000);
        let rejected = read.iter().filter(|f| f.is_err()).count();
        assert_eq!(rejected as u64, summary.invalid);
        let accepted: Vec<_> = read.iter().filter_map(|f| f.as_ref().ok()).collect();
        assert_eq!(accepted.len() as u64, 5000 - summary.invalid);
        // The same families are invalid as in the JSON format of the seed.
        let (json, _) = run(5000, 8, 0.1);
        for (line, family) in lines(&json).iter().zip(&read) {
            assert_eq!(contract_problem(line).is_err(), family.is_err(), "{line}");
        }
    }

    #[test]
    fn every_kind_of_census_defect_appears_when_all_families_are_invalid() {
        let (bytes, summary) = census(2400, 9, 1.0);
        assert_eq!(summary.invalid, 2400);
        let patterns = [
            ("公民身份号码", "重复", "duplicate ID number"),
            ("公民身份号码", "校验位错误", "check character"),
            ("公民身份号码", "行必填", "missing ID number"),
            ("性别", "成员关系为", "sex against relation"),
            ("出生日期", "不是真实存在的日期", "impossible date"),
            ("残疾等级", "应为 1–4", "grade out of range"),
            ("姓名", "必填", "missing name"),
            ("户籍性质", "应为「城镇」或「农村」", "unknown hukou"),
            ("死亡日期", "早于出生日期", "death before birth"),
            ("死亡日期", "晚于今天", "future date"),
            (
                "所在村居代码",
                "不是临沂市的村居代码",
                "village outside Linyi",
            ),
            ("成员关系", "没有「子女」行", "no child row"),
        ];
        let mut kinds: BTreeMap<&str, u32> = BTreeMap::new();
        for family in read_census(&bytes) {
            let errors = family.expect_err("invalid");
            let kind = patterns
                .iter()
                .find(|(column, reason, _)| {
                    errors
                        .iter()
                        .any(|e| e.column == *column && e.reason.contains(reason))
                })
                .map(|&(_, _, kind)| kind)
                .unwrap_or_else(|| panic!("unexpected errors {errors:?}"));
            *kinds.entry(kind).or_default() += 1;
        }
        assert_eq!(kinds.len(), patterns.len(), "{kinds:?}");
        assert!(kinds.values().all(|&n| n > 100), "{kinds:?}");
    }

    #[test]
    fn colliding_id_numbers_step_the_sequence_and_keep_the_sex() {
        let counties = Counties::load();
        let mut writer = census::Writer::new(1, &counties);
        let birth = jiff::civil::date(1960, 5, 17);
        let mut seen = HashSet::new();
        for (i, sex) in (0..1100).map(|i| (i, if i % 3 == 0 { Sex::Female } else { Sex::Male })) {
            let id = writer.issue("371322", birth, sex, 998).expect("issued");
            let text = std::str::from_utf8(&id).expect("ASCII");
            let parsed = ResidentId::parse(text, CENSUS_TODAY).expect("valid");
            assert_eq!(parsed.check_agrees(birth, sex), Ok(()));
            assert!(seen.insert(text.to_owned()), "{i}: {text}");
            if i < 500 {
                assert!(text.starts_with("371322"));
            }
        }
        // 733 men: 500 sequence numbers of 371322, then another county's code.
        assert!(seen.iter().any(|id| !id.starts_with("371322")));
    }
}
