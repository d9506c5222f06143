//! Guanai's rules engine: a pure library (no I/O, no database, no clock) that turns a family's
//! facts, a month and a dated policy pack into entitlements with explanations, for Linyi's
//! notice 临政办发〔2014〕42号. Parameters are data ([`policy`]); formulas are Rust ([`engine`],
//! and [`claims`] for medical relief (二(三)) and funeral reimbursement (二(五)) claims).
//! Nothing else in Guanai computes money.

pub mod adjust;
pub mod area;
pub mod calendar;
pub mod claims;
pub mod engine;
pub mod explain;
pub mod facts;
pub mod money;
pub mod policy;
pub mod resident_id;

pub use area::{AreaError, CountyCode, TownCode, VillageCode};
pub use calendar::{Month, parse_date};
pub use claims::{
    ClaimDecision, ClaimKind, ClaimReason, ClaimRefusal, EngineView, FuneralClaim, HospitalLevel,
    MedicalClaim, decide_funeral, decide_medical,
};
pub use engine::{Category, Evaluation, GrantKind, MonthlyKind, ServiceKind, evaluate};
pub use facts::{Child, Disability, DisabilityGrade, Family, Hukou, Parent, Relation, Sex};
pub use money::Fen;
pub use policy::{
    ASSESSMENT_INDICATORS, ApprovalLevel, AssessmentParams, MedicalReliefRow, Policy, PolicyError,
    Ratio,
};
pub use resident_id::{ResidentId, ResidentIdError};
