//! Linyi's administrative divisions (临沂市, 371300): county-level, township-level and village
//! codes from the NBS 2021 statistical division codes, shipped in `data/regions/` (source and
//! caveats in `data/regions/README.md`). The archive's own area codes are validated here; a
//! resident ID number's address code is deliberately *not* (see [`crate::resident_id`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use thiserror::Error;

const COUNTY_CSV: &str = include_str!("../../../data/regions/county.csv");
const TOWN_CSV: &str = include_str!("../../../data/regions/town.csv");
const VILLAGE_CSV: &str = include_str!("../../../data/regions/village.csv");

/// The two development zones that had statistical county-level codes until 2020 and are named in
/// the 2014 notice; families registered there before 2021 still carry these codes.
const RETIRED_ZONES: [(u32, &str); 2] = [
    (371372, "临沂经济技术开发区"),
    (371373, "临沂临港经济开发区"),
];

/// Why a text is not a Linyi area code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AreaError {
    #[error("not a {digits}-digit code: {text}")]
    Format { digits: usize, text: String },
    #[error("{text} is not a Linyi {level} code")]
    Unknown { level: &'static str, text: String },
}

/// A county-level area of Linyi (县区, incl. 高新区 371371 and the zones 371372/371373):
/// the unit whose finance pays the county part (二(二)).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountyCode(u32);

/// A township-level area (乡镇/街道), 9 digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TownCode(u64);

/// A village or community (村/社区), 12 digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VillageCode(u64);

struct Divisions {
    counties: HashMap<u32, &'static str>,
    towns: HashMap<u64, &'static str>,
    villages: HashMap<u64, &'static str>,
}

fn divisions() -> &'static Divisions {
    static DIVISIONS: OnceLock<Divisions> = OnceLock::new();
    DIVISIONS.get_or_init(|| {
        let mut counties: HashMap<u32, &'static str> = rows(COUNTY_CSV)
            .filter_map(|(code, name)| code.parse().ok().map(|c| (c, name)))
            .collect();
        counties.extend(RETIRED_ZONES);
        Divisions {
            counties,
            towns: rows(TOWN_CSV)
                .filter_map(|(code, name)| code.parse().ok().map(|c| (c, name)))
                .collect(),
            villages: rows(VILLAGE_CSV)
                .filter_map(|(code, name)| code.parse().ok().map(|c| (c, name)))
                .collect(),
        }
    })
}

/// `code,name,parent_code` rows after the header. The shipped files are checked by tests.
fn rows(csv: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    csv.lines().skip(1).filter_map(|line| {
        let mut cols = line.split(',');
        Some((cols.next()?, cols.next()?))
    })
}

fn parse_digits(text: &str, digits: usize) -> Result<u64, AreaError> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AreaError::Format {
            digits,
            text: text.to_owned(),
        });
    }
    text.parse().map_err(|_| AreaError::Format {
        digits,
        text: text.to_owned(),
    })
}

impl CountyCode {
    /// Parses a 6-digit Linyi county-level code.
    pub fn parse(text: &str) -> Result<CountyCode, AreaError> {
        let code = parse_digits(text, 6)? as u32;
        if divisions().counties.contains_key(&code) {
            Ok(CountyCode(code))
        } else {
            Err(AreaError::Unknown {
                level: "county-level",
                text: text.to_owned(),
            })
        }
    }

    /// Every county-level code, ascending (the 13 of 2021 and the two retired zones).
    pub fn all() -> Vec<CountyCode> {
        let mut all: Vec<CountyCode> = divisions()
            .counties
            .keys()
            .map(|&c| CountyCode(c))
            .collect();
        all.sort();
        all
    }

    pub fn name(self) -> &'static str {
        divisions().counties.get(&self.0).copied().unwrap_or("")
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TownCode {
    /// Parses a 9-digit Linyi township-level code.
    pub fn parse(text: &str) -> Result<TownCode, AreaError> {
        let code = parse_digits(text, 9)?;
        if divisions().towns.contains_key(&code) {
            Ok(TownCode(code))
        } else {
            Err(AreaError::Unknown {
                level: "township-level",
                text: text.to_owned(),
            })
        }
    }

    pub fn name(self) -> &'static str {
        divisions().towns.get(&self.0).copied().unwrap_or("")
    }

    /// The county-level area the township belongs to.
    pub fn county(self) -> CountyCode {
        CountyCode((self.0 / 1000) as u32)
    }
}

impl VillageCode {
    /// Parses a 12-digit Linyi village/community code.
    pub fn parse(text: &str) -> Result<VillageCode, AreaError> {
        let code = parse_digits(text, 12)?;
        if divisions().villages.contains_key(&code) {
            Ok(VillageCode(code))
        } else {
            Err(AreaError::Unknown {
                level: "village",
                text: text.to_owned(),
            })
        }
    }

    /// Every village code in one county, ascending.
    pub fn in_county(county: CountyCode) -> Vec<VillageCode> {
        let mut all: Vec<VillageCode> = divisions()
            .villages
            .keys()
            .filter(|&&v| v / 1_000_000 == u64::from(county.0))
            .map(|&v| VillageCode(v))
            .collect();
        all.sort();
        all
    }

    pub fn name(self) -> &'static str {
        divisions().villages.get(&self.0).copied().unwrap_or("")
    }

    /// The township the village belongs to.
    pub fn town(self) -> TownCode {
        TownCode(self.0 / 1000)
    }

    pub fn county(self) -> CountyCode {
        CountyCode((self.0 / 1_000_000) as u32)
    }
}

/// One area of any level, for seeding an archive's area table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaInfo {
    pub code: String,
    /// `city`, `county`, `town` or `village`.
    pub level: &'static str,
    pub name: &'static str,
    pub parent: Option<String>,
}

/// The city, every county-level area, township and village, parents before children.
pub fn all_areas() -> Vec<AreaInfo> {
    let d = divisions();
    let mut out = vec![AreaInfo {
        code: "371300".into(),
        level: "city",
        name: "临沂市",
        parent: None,
    }];
    let mut counties: Vec<_> = d.counties.iter().collect();
    counties.sort();
    out.extend(counties.into_iter().map(|(&code, &name)| AreaInfo {
        code: format!("{code:06}"),
        level: "county",
        name,
        parent: Some("371300".into()),
    }));
    let mut towns: Vec<_> = d.towns.iter().collect();
    towns.sort();
    out.extend(towns.into_iter().map(|(&code, &name)| AreaInfo {
        code: format!("{code:09}"),
        level: "town",
        name,
        parent: Some(format!("{:06}", code / 1000)),
    }));
    let mut villages: Vec<_> = d.villages.iter().collect();
    villages.sort();
    out.extend(villages.into_iter().map(|(&code, &name)| AreaInfo {
        code: format!("{code:012}"),
        level: "village",
        name,
        parent: Some(format!("{:09}", code / 1000)),
    }));
    out
}

macro_rules! display_code {
    ($t:ty, $w:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:0w$}", self.0, w = $w)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:0w$})", stringify!($t), self.0, w = $w)
            }
        }
    };
}
display_code!(CountyCode, 6);
display_code!(TownCode, 9);
display_code!(VillageCode, 12);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_have_the_documented_row_counts() {
        assert_eq!(rows(COUNTY_CSV).count(), 13);
        assert_eq!(rows(TOWN_CSV).count(), 156);
        assert_eq!(rows(VILLAGE_CSV).count(), 4078);
        assert_eq!(
            divisions().villages.len(),
            4078,
            "every village code parses and is unique"
        );
        assert_eq!(divisions().towns.len(), 156);
    }

    #[test]
    fn every_village_lies_in_a_known_town_and_county() {
        for &v in divisions().villages.keys() {
            let village = VillageCode(v);
            assert!(
                divisions().towns.contains_key(&village.town().0),
                "{village}"
            );
            assert!(
                divisions().counties.contains_key(&village.county().0),
                "{village}"
            );
        }
    }

    #[test]
    fn all_areas_lists_parents_before_children() {
        let areas = all_areas();
        assert_eq!(areas.len(), 1 + 15 + 156 + 4078);
        let mut seen = std::collections::HashSet::new();
        for a in &areas {
            if let Some(p) = &a.parent {
                assert!(
                    seen.contains(p.as_str()),
                    "{} before its parent {p}",
                    a.code
                );
            }
            seen.insert(a.code.as_str());
        }
    }

    #[test]
    fn county_codes_include_the_high_tech_zone_and_the_retired_zones() {
        assert_eq!(CountyCode::parse("371321").map(|c| c.name()), Ok("沂南县"));
        assert!(CountyCode::parse("371371").is_ok());
        assert!(CountyCode::parse("371372").is_ok());
        assert!(CountyCode::parse("371373").is_ok());
        assert_eq!(CountyCode::all().len(), 15);
    }

    #[test]
    fn unknown_and_malformed_codes_are_named() {
        assert_eq!(
            CountyCode::parse("371301"),
            Err(AreaError::Unknown {
                level: "county-level",
                text: "371301".into()
            })
        );
        assert_eq!(
            CountyCode::parse("37132"),
            Err(AreaError::Format {
                digits: 6,
                text: "37132".into()
            })
        );
        assert!(
            CountyCode::parse("372822").is_err(),
            "old 临沂地区 codes are not archive codes"
        );
        assert_eq!(
            TownCode::parse("371302001").map(|t| t.name()),
            Ok("兰山街道")
        );
        assert_eq!(
            VillageCode::parse("371302001001").map(|v| v.name()),
            Ok("前十里堡社区居委会")
        );
        assert!(VillageCode::parse("371302001999").is_err());
        assert_eq!(VillageCode::in_county(CountyCode(371302)).len(), 342);
    }
}
