//! One line of the eval contract: strict parsing of the input JSON (types, enums, real dates,
//! repeated keys, resident ID numbers, consistency) with errors that name the field, and the
//! output line, written by hand for speed.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt::{self, Display};
use std::io::Write as _;

use guanai_rules::calendar::parse_date;
use guanai_rules::engine::{Evaluation, Person, evaluate_traced};
use guanai_rules::explain::{Labels, Lang, Reason, render};
use guanai_rules::facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Sex};
use guanai_rules::{CountyCode, Month, Policy, ResidentId, ResidentIdError};
use jiff::civil::Date;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A parsed input line: the family's facts and the ids the output must echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLine {
    pub family_id: String,
    pub parent_ids: Vec<String>,
    pub child_id: Option<String>,
    pub family: Family,
}

/// A rejected line: the family id when it could be read, and `field: problem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub family_id: Option<String>,
    pub message: String,
}

/// Parsing state shared by the nested visitors: the first field error and the family id.
struct Ctx {
    error: RefCell<Option<String>>,
    family_id: RefCell<Option<String>>,
    today: Date,
}

impl Ctx {
    /// Records `path: problem` (the first one wins) and returns an error that unwinds serde.
    fn fail<E: de::Error>(&self, path: &dyn Display, problem: &dyn Display) -> E {
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(format!("{path}: {}", strip_position(&problem.to_string())));
        }
        E::custom("field error")
    }
}

/// serde_json appends " at line L column C" to messages; within one line the field path says more.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// Parses one input line (without its line break). `today` bounds ID-number birth dates.
pub fn parse_line(line: &[u8], today: Date) -> Result<InputLine, LineError> {
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) => {
            return Err(LineError {
                family_id: None,
                message: format!(
                    "line: not valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            });
        }
    };
    let ctx = Ctx {
        error: RefCell::new(None),
        family_id: RefCell::new(None),
        today,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let result = FamilySeed(&ctx)
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw));
    match result {
        Ok(line) => Ok(line),
        Err(e) => {
            let message = ctx.error.take().unwrap_or_else(|| match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    format!("line: not valid JSON: {e}")
                }
                _ => format!("line: {}", strip_position(&e.to_string())),
            });
            let family_id = ctx.family_id.take().or_else(|| salvage_family_id(text));
            Err(LineError { family_id, message })
        }
    }
}

/// After an error, the family id may still be readable from a well-formed line.
fn salvage_family_id(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        family_id: String,
    }
    serde_json::from_str::<Id>(text).ok().map(|i| i.family_id)
}

struct Path<'a>(&'a str, Option<usize>, &'a str);

impl Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(i) => write!(f, "{}[{i}]", self.0)?,
            None => f.write_str(self.0)?,
        }
        if self.2.is_empty() {
            Ok(())
        } else {
            write!(f, ".{}", self.2)
        }
    }
}

/// Tracks keys seen in one object: known keys by bit, unknown ones by name.
#[derive(Default)]
struct Seen {
    known: u32,
    unknown: Vec<String>,
}

impl Seen {
    /// Returns false if the key was already seen.
    fn first(&mut self, bit: Option<u32>, key: &str) -> bool {
        match bit {
            Some(b) => {
                let fresh = self.known & (1 << b) == 0;
                self.known |= 1 << b;
                fresh
            }
            None if self.unknown.iter().any(|k| k == key) => false,
            None => {
                self.unknown.push(key.to_owned());
                true
            }
        }
    }
}

/// A JSON value of a field, typed strictly, null allowed (and reported as absent).
fn value<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx,
    path: &dyn Display,
) -> Result<Option<T>, A::Error> {
    map.next_value::<Option<T>>()
        .map_err(|e| ctx.fail(path, &e))
}

fn required<T, E: de::Error>(v: Option<T>, ctx: &Ctx, path: &dyn Display) -> Result<T, E> {
    v.ok_or_else(|| ctx.fail(path, &"required field is missing"))
}

fn date<E: de::Error>(
    text: Option<Cow<'_, str>>,
    ctx: &Ctx,
    path: &dyn Display,
) -> Result<Option<Date>, E> {
    text.map(|t| parse_date(&t).map_err(|e| ctx.fail(path, &e)))
        .transpose()
}

fn non_empty<E: de::Error>(text: String, ctx: &Ctx, path: &dyn Display) -> Result<String, E> {
    if text.is_empty() {
        Err(ctx.fail(path, &"must not be empty"))
    } else {
        Ok(text)
    }
}

/// Skips an unknown field's value, still rejecting repeated keys inside it.
struct Skip<'c>(&'c Ctx, String);

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq
            .next_element_seed(Skip(self.0, format!("{}[{i}]", self.1)))?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let path = format!("{}.{key}", self.1);
            if !seen.first(None, &key) {
                return Err(self.0.fail(&path, &"key repeated"));
            }
            map.next_value_seed(Skip(self.0, path))?;
        }
        Ok(())
    }
}

struct FamilySeed<'c>(&'c Ctx);

impl<'de> DeserializeSeed<'de> for FamilySeed<'_> {
    type Value = InputLine;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<InputLine, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FamilySeed<'_> {
    type Value = InputLine;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object describing one family")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InputLine, A::Error> {
        let ctx = self.0;
        let mut seen = Seen::default();
        let (mut family_id, mut county, mut hukou, mut parents, mut child) =
            (None, None, None, None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let bit = ["family_id", "county_code", "hukou", "parents", "child"]
                .iter()
                .position(|k| *k == key);
            if !seen.first(bit.map(|b| b as u32), &key) {
                return Err(ctx.fail(&key, &"key repeated"));
            }
            match bit {
                Some(0) => {
                    let id: Option<String> = value(&mut map, ctx, &"family_id")?;
                    if let Some(id) = id {
                        let id = non_empty(id, ctx, &"family_id")?;
                        *ctx.family_id.borrow_mut() = Some(id.clone());
                        family_id = Some(id);
                    }
                }
                Some(1) => {
                    let code: Option<Cow<'de, str>> = value(&mut map, ctx, &"county_code")?;
                    if let Some(code) = code {
                        county = Some(
                            CountyCode::parse(&code).map_err(|e| ctx.fail(&"county_code", &e))?,
                        );
                    }
                }
                Some(2) => {
                    let h: Option<Cow<'de, str>> = value(&mut map, ctx, &"hukou")?;
                    hukou = match h.as_deref() {
                        None => None,
                        Some("urban") => Some(Hukou::Urban),
                        Some("rural") => Some(Hukou::Rural),
                        Some(other) => {
                            return Err(ctx.fail(
                                &"hukou",
                                &format_args!(
                                    "unknown value {other:?} (expected \"urban\" or \"rural\")"
                                ),
                            ));
                        }
                    };
                }
                Some(3) => parents = map.next_value_seed(OptionSeed(ParentsSeed(ctx)))?,
                Some(4) => child = map.next_value_seed(OptionSeed(ChildSeed(ctx)))?,
                _ => map.next_value_seed(Skip(ctx, key.into_owned()))?,
            }
        }
        let family_id = required(family_id, ctx, &"family_id")?;
        let county = required(county, ctx, &"county_code")?;
        let hukou = required(hukou, ctx, &"hukou")?;
        let parents: Vec<(String, Parent)> = required(parents, ctx, &"parents")?;
        let (child_id, child) = required(child, ctx, &"child")?;
        let (parent_ids, parents): (Vec<String>, Vec<Parent>) = parents.into_iter().unzip();
        let family = Family::new(county, hukou, parents, child).map_err(|e| {
            let problem = if e.field.ends_with(".sex") {
                format!("{} (at most one mother and one father)", e.problem)
            } else {
                e.problem
            };
            ctx.fail(&e.field, &problem)
        })?;
        Ok(InputLine {
            family_id,
            parent_ids,
            child_id,
            family,
        })
    }
}

/// `null` or the inner seed's value.
struct OptionSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

struct ParentsSeed<'c>(&'c Ctx);

impl<'de> DeserializeSeed<'de> for ParentsSeed<'_> {
    type Value = Vec<(String, Parent)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let ctx = self.0;
        d.deserialize_seq(self).inspect_err(|e| {
            if ctx.error.borrow().is_none() {
                ctx.fail::<D::Error>(&"parents", e);
            }
        })
    }
}

impl<'de> Visitor<'de> for ParentsSeed<'_> {
    type Value = Vec<(String, Parent)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of at most two parents")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut parents = Vec::with_capacity(2);
        while let Some(p) = seq.next_element_seed(ParentSeed(self.0, parents.len()))? {
            parents.push(p);
            if parents.len() > 2 {
                // Count the rest without keeping them, to say how many there were.
                let mut n = parents.len();
                while seq
                    .next_element_seed(Skip(self.0, format!("parents[{n}]")))?
                    .is_some()
                {
                    n += 1;
                }
                return Err(self
                    .0
                    .fail(&"parents", &format_args!("at most two parents, found {n}")));
            }
        }
        Ok(parents)
    }
}

struct ParentSeed<'c>(&'c Ctx, usize);

impl<'de> DeserializeSeed<'de> for ParentSeed<'_> {
    type Value = (String, Parent);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let (ctx, i) = (self.0, self.1);
        d.deserialize_map(self).inspect_err(|e| {
            if ctx.error.borrow().is_none() {
                ctx.fail::<D::Error>(&Path("parents", Some(i), ""), e);
            }
        })
    }
}

const PARENT_KEYS: [&str; 9] = [
    "id",
    "sex",
    "birth_date",
    "death_date",
    "later_child_date",
    "id_number",
    "dibao",
    "wubao",
    "chronically_ill",
];

impl<'de> Visitor<'de> for ParentSeed<'_> {
    type Value = (String, Parent);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object describing a parent")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (ctx, i) = (self.0, self.1);
        let p = |field: &'static str| Path("parents", Some(i), field);
        let mut seen = Seen::default();
        let mut id = None;
        let mut sex = None;
        let (mut birth, mut death, mut later) = (None, None, None);
        let mut id_number: Option<Cow<'de, str>> = None;
        let (mut dibao, mut wubao, mut ill) = (false, false, false);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let bit = PARENT_KEYS.iter().position(|k| *k == key);
            if !seen.first(bit.map(|b| b as u32), &key) {
                return Err(ctx.fail(&Path("parents", Some(i), &key), &"key repeated"));
            }
            match bit {
                Some(0) => {
                    let v: Option<String> = value(&mut map, ctx, &p("id"))?;
                    id = v.map(|v| non_empty(v, ctx, &p("id"))).transpose()?;
                }
                Some(1) => {
                    let v: Option<Cow<'de, str>> = value(&mut map, ctx, &p("sex"))?;
                    sex = match v.as_deref() {
                        None => None,
                        Some("female") => Some(Sex::Female),
                        Some("male") => Some(Sex::Male),
                        Some(other) => {
                            return Err(ctx.fail(
                                &p("sex"),
                                &format_args!(
                                    "unknown value {other:?} (expected \"female\" or \"male\")"
                                ),
                            ));
                        }
                    };
                }
                Some(2) => {
                    birth = date(
                        value(&mut map, ctx, &p("birth_date"))?,
                        ctx,
                        &p("birth_date"),
                    )?
                }
                Some(3) => {
                    death = date(
                        value(&mut map, ctx, &p("death_date"))?,
                        ctx,
                        &p("death_date"),
                    )?
                }
                Some(4) => {
                    later = date(
                        value(&mut map, ctx, &p("later_child_date"))?,
                        ctx,
                        &p("later_child_date"),
                    )?
                }
                Some(5) => id_number = value(&mut map, ctx, &p("id_number"))?,
                Some(6) => dibao = value(&mut map, ctx, &p("dibao"))?.unwrap_or(false),
                Some(7) => wubao = value(&mut map, ctx, &p("wubao"))?.unwrap_or(false),
                Some(8) => ill = value(&mut map, ctx, &p("chronically_ill"))?.unwrap_or(false),
                _ => map.next_value_seed(Skip(ctx, Path("parents", Some(i), &key).to_string()))?,
            }
        }
        let id = required(id, ctx, &p("id"))?;
        let sex = required(sex, ctx, &p("sex"))?;
        let birth_date = required(birth, ctx, &p("birth_date"))?;
        if let Some(number) = id_number {
            check_id_number(&number, birth_date, sex, ctx.today)
                .map_err(|e| ctx.fail(&p("id_number"), &e))?;
        }
        let parent = Parent {
            sex,
            birth_date,
            death_date: death,
            later_child_date: later,
            dibao,
            wubao,
            chronically_ill: ill,
        };
        Ok((id, parent))
    }
}

/// An `id_number` must be a valid 18-character number agreeing with the birth date and sex.
fn check_id_number(text: &str, birth: Date, sex: Sex, today: Date) -> Result<(), ResidentIdError> {
    ResidentId::parse(text, today)?.check_agrees(birth, sex)
}

struct ChildSeed<'c>(&'c Ctx);

impl<'de> DeserializeSeed<'de> for ChildSeed<'_> {
    type Value = (Option<String>, Child);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let ctx = self.0;
        d.deserialize_map(self).inspect_err(|e| {
            if ctx.error.borrow().is_none() {
                ctx.fail::<D::Error>(&"child", e);
            }
        })
    }
}

const CHILD_KEYS: [&str; 5] = [
    "id",
    "birth_date",
    "death_date",
    "disability_grade",
    "disability_date",
];

impl<'de> Visitor<'de> for ChildSeed<'_> {
    type Value = (Option<String>, Child);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object describing the only child")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let ctx = self.0;
        let c = |field: &'static str| Path("child", None, field);
        let mut seen = Seen::default();
        let mut id = None;
        let (mut birth, mut death, mut grade, mut assessed) = (None, None, None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let bit = CHILD_KEYS.iter().position(|k| *k == key);
            if !seen.first(bit.map(|b| b as u32), &key) {
                return Err(ctx.fail(&Path("child", None, &key), &"key repeated"));
            }
            match bit {
                Some(0) => {
                    let v: Option<String> = value(&mut map, ctx, &c("id"))?;
                    id = v.map(|v| non_empty(v, ctx, &c("id"))).transpose()?;
                }
                Some(1) => {
                    birth = date(
                        value(&mut map, ctx, &c("birth_date"))?,
                        ctx,
                        &c("birth_date"),
                    )?
                }
                Some(2) => {
                    death = date(
                        value(&mut map, ctx, &c("death_date"))?,
                        ctx,
                        &c("death_date"),
                    )?
                }
                Some(3) => {
                    let g: Option<i64> = value(&mut map, ctx, &c("disability_grade"))?;
                    grade = g
                        .map(|g| {
                            DisabilityGrade::new(g).ok_or_else(|| {
                                ctx.fail(
                                    &c("disability_grade"),
                                    &format_args!("{g} is out of range 1–4"),
                                )
                            })
                        })
                        .transpose()?;
                }
                Some(4) => {
                    assessed = date(
                        value(&mut map, ctx, &c("disability_date"))?,
                        ctx,
                        &c("disability_date"),
                    )?
                }
                _ => map.next_value_seed(Skip(ctx, format!("child.{key}")))?,
            }
        }
        let birth_date = required(birth, ctx, &c("birth_date"))?;
        let disabilities = match (grade, assessed) {
            (Some(grade), Some(assessed)) => vec![Disability { grade, assessed }],
            (Some(_), None) => {
                return Err(ctx.fail(
                    &c("disability_date"),
                    &"required when disability_grade is given",
                ));
            }
            (None, Some(_)) => {
                return Err(ctx.fail(
                    &c("disability_grade"),
                    &"required when disability_date is given",
                ));
            }
            (None, None) => Vec::new(),
        };
        Ok((
            id,
            Child {
                birth_date,
                death_date: death,
                disabilities,
            },
        ))
    }
}

/// Reusable buffers for evaluating lines on one thread.
#[derive(Default)]
pub struct Scratch {
    reasons: Vec<Reason>,
    text: String,
}

/// Everything that shapes an output line.
#[derive(Debug, Clone, Copy)]
pub struct EvalSettings {
    pub month: Month,
    pub lang: Lang,
    /// The date ID-number birth dates may not pass.
    pub today: Date,
}

/// Evaluates one non-blank input line and appends its output line (with `\n`) to `out`.
/// Returns whether the line was evaluated (false: rejected).
pub fn eval_line(
    line_no: u64,
    line: &[u8],
    policy: &Policy,
    settings: &EvalSettings,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> bool {
    match parse_line(line, settings.today) {
        Ok(input) => {
            scratch.reasons.clear();
            let eval = evaluate_traced(&input.family, settings.month, policy, &mut scratch.reasons);
            write_evaluation(&input, &eval, policy, settings.lang, scratch, out);
            true
        }
        Err(e) => {
            write_error(line_no, &e, out);
            false
        }
    }
}

fn write_error(line_no: u64, e: &LineError, out: &mut Vec<u8>) {
    let _ = write!(out, "{{\"line\":{line_no}");
    if let Some(id) = &e.family_id {
        out.extend_from_slice(b",\"family_id\":");
        json_str(id, out);
    }
    out.extend_from_slice(b",\"error\":");
    json_str(&e.message, out);
    out.extend_from_slice(b"}\n");
}

fn write_evaluation(
    input: &InputLine,
    eval: &Evaluation,
    policy: &Policy,
    lang: Lang,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    let person = |p: Person| -> &str {
        match p {
            Person::Parent(i) => input
                .parent_ids
                .get(usize::from(i))
                .map_or("", String::as_str),
            Person::Child => input.child_id.as_deref().unwrap_or(&input.family_id),
        }
    };
    // Writing into a Vec<u8> cannot fail.
    out.extend_from_slice(b"{\"family_id\":");
    json_str(&input.family_id, out);
    let _ = write!(
        out,
        ",\"month\":\"{}\",\"category\":\"{}\",\"monthly\":[",
        eval.month,
        eval.category.as_str()
    );
    for (n, (i, m)) in eval.monthly().enumerate() {
        out.extend_from_slice(if n > 0 {
            b",{\"person_id\":"
        } else {
            b"{\"person_id\":"
        });
        json_str(person(Person::Parent(i as u8)), out);
        let _ = write!(
            out,
            ",\"kind\":\"{}\",\"amount_fen\":{},\"standard_fen\":{},\"county_fen\":{}}}",
            m.kind.as_str(),
            m.amount.get(),
            m.standard.get(),
            m.county.get()
        );
    }
    out.extend_from_slice(b"],\"one_time\":[");
    for (n, g) in eval.grants().enumerate() {
        let _ = write!(
            out,
            "{}{{\"kind\":\"{}\",\"amount_fen\":{},\"payer\":\"county\",\"due_from\":\"{}\"}}",
            if n > 0 { "," } else { "" },
            g.kind.as_str(),
            g.amount.get(),
            g.due_from
        );
    }
    out.extend_from_slice(b"],\"services\":[");
    for (n, (who, kind)) in eval.services().enumerate() {
        out.extend_from_slice(if n > 0 {
            b",{\"person_id\":"
        } else {
            b"{\"person_id\":"
        });
        json_str(person(who), out);
        let _ = write!(out, ",\"kind\":\"{}\"}}", kind.as_str());
    }
    out.extend_from_slice(b"],\"explanation\":[");
    // Sentences are rendered with the ids already JSON-escaped; the templates and the numbers,
    // dates and ratios they insert never need escaping, so the text is copied as it is.
    let (p0, p1, c) = (
        person(Person::Parent(0)),
        person(Person::Parent(1)),
        person(Person::Child),
    );
    let escaped = [json_inner(p0), json_inner(p1), json_inner(c)];
    let labels = Labels {
        parents: [&escaped[0], &escaped[1]],
        child: &escaped[2],
    };
    for (n, reason) in scratch.reasons.iter().enumerate() {
        out.extend_from_slice(if n > 0 { b",\"" } else { b"\"" });
        scratch.text.clear();
        render(
            reason,
            lang,
            &input.family,
            &labels,
            policy,
            &mut scratch.text,
        );
        out.extend_from_slice(scratch.text.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"]}\n");
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `s` with JSON string escapes applied (without the surrounding quotes); borrowed when clean.
fn json_inner(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len() + 8);
    json_str(s, &mut out);
    // json_str wrote valid UTF-8 (the input was) between two quotes.
    let inner = out.get(1..out.len() - 1).unwrap_or_default();
    Cow::Owned(String::from_utf8_lossy(inner).into_owned())
}

/// Appends `s` as a JSON string literal.
pub fn json_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(offset) = bytes[start..].iter().position(|&b| needs_escape(b)) {
        let i = start + offset;
        out.extend_from_slice(&bytes[start..i]);
        match bytes[i] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests;
