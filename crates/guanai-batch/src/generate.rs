//! The synthetic family generator: seeded, reproducible JSON Lines in the `guanai eval` input
//! format (`eval-contract.md`), for load tests, demos and independent checks of the rules.
//!
//! Families are realistic for Linyi rather than uniform: counties weighted by their number of
//! villages, about two thirds rural hukou, a mix of bereaved (失独), disabled (伤残) and orphan
//! (计划生育孤儿) families, and edge cases the rules must get right (grade 4, a later child, a
//! parent born before 1933, a 29 February birthday, a mother still under 49). Every date is
//! consistent and none is later than 2026-12-31. A chosen share of lines is deliberately invalid,
//! each in one of several ways the contract rejects. The same options always give the same bytes.
//!
//! Lines are written by hand into a reused buffer, not through `serde_json`: a million families
//! take well under a second. All generated text is ASCII, so nothing needs escaping.

use std::io::{self, Write};

use guanai_rules::{CountyCode, ResidentId, Sex, VillageCode};
use jiff::civil::Date;
use rand::distr::{Bernoulli, Distribution};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenOptions {
    /// Number of lines (families) to write.
    pub count: u64,
    /// Seed of the random generator: the same options give byte-identical output.
    pub seed: u64,
    /// share of deliberately invalid lines, 0.0..=1.0
    pub invalid_share: f64,
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Lines written, the invalid ones included.
    pub families: u64,
    /// Lines that are deliberately invalid under the eval contract.
    pub invalid: u64,
}

/// Bytes collected before they are handed to the caller's writer.
const CHUNK: usize = 1 << 16;

/// Writes `options.count` families as JSON Lines to `out` and flushes it.
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
    for number in 1..=options.count {
        let mut family = Family::draw(&mut rng, number, &counties)?;
        line.clear();
        if invalid.sample(&mut rng) {
            Defect::draw(&mut rng).apply(&mut rng, &mut family, &mut line)?;
            summary.invalid += 1;
        } else {
            family.write_json(&mut line);
        }
        chunk.extend_from_slice(&line);
        chunk.push(b'\n');
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

/// A day as a number of days since 1970-01-01 (proleptic Gregorian), for cheap arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Day(i32);

const fn day(year: i32, month: i32, day: i32) -> Day {
    // Howard Hinnant's days_from_civil; years here are positive.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Day(era * 146_097 + doe - 719_468)
}

/// No generated date is later than this.
const LAST: Day = day(2026, 12, 31);
/// A span of 6 years, the most a father is older than the mother.
const SIX_YEARS: i32 = 2191;
/// The mother is 20 to 38 at the child's birth: at least 20 years, less than 39.
const MOTHER_AGE_MIN: i32 = 7306;
const MOTHER_AGE_MAX: i32 = 14_230;

impl Day {
    /// Year, month, day (Hinnant's civil_from_days).
    fn ymd(self) -> (i32, i32, i32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i32::from(m <= 2);
        (y, m, d)
    }

    fn plus(self, days: i32) -> Day {
        Day(self.0 + days)
    }

    fn year(self) -> i32 {
        self.ymd().0
    }

    fn date(self) -> io::Result<Date> {
        let (y, m, d) = self.ymd();
        let bad = || io::Error::other(format!("generated day {y}-{m}-{d} out of range"));
        let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(y), i8::try_from(m), i8::try_from(d)) else {
            return Err(bad());
        };
        Date::new(y, m, d).map_err(|_| bad())
    }
}

/// A uniformly drawn day in `lo..=hi` (`lo` when the range is empty).
fn between(rng: &mut ChaCha8Rng, lo: Day, hi: Day) -> Day {
    if hi <= lo {
        lo
    } else {
        Day(rng.random_range(lo.0..=hi.0))
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
        let villages: Vec<u32> = all
            .iter()
            .map(|&c| u32::try_from(VillageCode::in_county(c).len()).unwrap_or(u32::MAX / 64))
            .collect();
        let zone_weight = (villages.iter().sum::<u32>() / 200).max(1);
        let mut cumulative_weight = 0;
        let entries = all
            .iter()
            .zip(villages)
            .map(|(county, villages)| {
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
                County {
                    old_id_address: lookup(&OLD_ID_ADDRESS),
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
    birth: Day,
    death: Option<Day>,
    later_child: Option<Day>,
    id_number: Option<[u8; 18]>,
    dibao: Flag,
    wubao: Flag,
    chronically_ill: Flag,
    /// Write absent dates as `null` rather than leaving them out.
    nulls: bool,
}

#[derive(Debug, Clone)]
struct Child {
    birth: Day,
    death: Option<Day>,
    disability: Option<(u8, Day)>,
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
    fn new(sex: Sex, birth: Day) -> Parent {
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
fn father_of(rng: &mut ChaCha8Rng, mother: Day) -> Day {
    mother.plus(-rng.random_range(0..=SIX_YEARS))
}

/// Whether and when a parent has died: likelier the older they are; never before the child's
/// birth, and mostly after the parent's 40th year.
fn maybe_death(rng: &mut ChaCha8Rng, birth: Day, child_birth: Day) -> Option<Day> {
    let p = match birth.year() {
        ..1945 => 45,
        1945..1955 => 20,
        1955..1965 => 8,
        _ => 3,
    };
    percent(rng, p).then(|| death_after(rng, birth, child_birth))
}

fn death_after(rng: &mut ChaCha8Rng, birth: Day, child_birth: Day) -> Day {
    let lo = child_birth.max(birth.plus(40 * 365));
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
                let father = between(rng, day(1930, 1, 1), day(1932, 12, 31));
                let mother = father.plus(rng.random_range(0..=SIX_YEARS));
                Family::with_parents(rng, number, rural, kind, mother, father)
            }
            Kind::LeapDayBirthday => {
                let year = 1936 + 4 * rng.random_range(0..13);
                let leap = day(year, 2, 29);
                let (mother, father) = if percent(rng, 70) {
                    (leap, father_of(rng, leap))
                } else {
                    (
                        leap.plus(rng.random_range(0..=SIX_YEARS))
                            .min(day(1985, 12, 31)),
                        leap,
                    )
                };
                Family::with_parents(rng, number, rural, kind, mother, father)
            }
            Kind::YoungMother => {
                let mother = between(rng, day(1966, 1, 1), day(1981, 12, 31));
                let father = father_of(rng, mother);
                Family::with_parents(rng, number, rural, kind, mother, father)
            }
            _ => {
                let mother = between(rng, day(1936, 1, 1), day(1985, 12, 31));
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
        mother_birth: Day,
        father_birth: Day,
    ) -> Family<'static> {
        let child_birth = mother_birth.plus(rng.random_range(MOTHER_AGE_MIN..=MOTHER_AGE_MAX));
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
            child.death = Some(between(rng, child_birth.plus(30), LAST));
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
            child.disability = Some((grade, between(rng, child_birth.plus(180), LAST)));
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
                let lo = event.unwrap_or(child_birth).max(child_birth.plus(365));
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
        let child_birth = between(rng, day(2009, 1, 1), day(2022, 12, 31));
        let lo = child_birth.plus(-MOTHER_AGE_MAX).max(day(1936, 1, 1));
        let hi = child_birth.plus(-MOTHER_AGE_MIN).min(day(1985, 12, 31));
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
fn id_number(rng: &mut ChaCha8Rng, address: &str, birth: Day, sex: Sex) -> io::Result<[u8; 18]> {
    let half: u16 = rng.random_range(0..500);
    let sequence = match sex {
        Sex::Male => 2 * half + 1,
        Sex::Female => 2 * half,
    };
    let id = ResidentId::build(address, birth.date()?, sequence)
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
fn push_date(line: &mut Vec<u8>, day: Day) {
    let (y, m, d) = day.ymd();
    line.push(b'"');
    push_digits(line, y.unsigned_abs().into(), 4);
    line.push(b'-');
    push_digits(line, m.unsigned_abs().into(), 2);
    line.push(b'-');
    push_digits(line, d.unsigned_abs().into(), 2);
    line.push(b'"');
}

fn push_optional_date(line: &mut Vec<u8>, key: &[u8], day: Option<Day>, nulls: bool) {
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
                    id = id_number(rng, address, parent.birth.plus(shift), parent.sex)?;
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
                    parent.death = Some(parent.birth.plus(-gap));
                } else {
                    family.child.death = Some(family.child.birth.plus(-gap));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::{BTreeMap, BTreeSet};

    const LAST_DAY: Date = jiff::civil::date(2026, 12, 31);

    fn run(count: u64, seed: u64, invalid_share: f64) -> (String, GenSummary) {
        let mut out = Vec::new();
        let summary = generate(
            &GenOptions {
                count,
                seed,
                invalid_share,
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
        for share in [-0.1, 1.5, f64::NAN] {
            let mut out = Vec::new();
            let err = generate(
                &GenOptions {
                    count: 10,
                    seed: 1,
                    invalid_share: share,
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

    #[test]
    fn day_numbers_agree_with_the_calendar() {
        let mut date = jiff::civil::date(1900, 1, 1);
        let mut number = day(1900, 1, 1);
        while date <= jiff::civil::date(2100, 12, 31) {
            let (y, m, d) = number.ymd();
            assert_eq!(
                (y, m, d),
                (date.year().into(), date.month().into(), date.day().into())
            );
            assert_eq!(day(y, m, d), number);
            assert_eq!(number.date().expect("date"), date);
            date = date.tomorrow().expect("date");
            number = number.plus(1);
        }
        assert_eq!(day(1970, 1, 1), Day(0));
    }
}
