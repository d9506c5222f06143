//! What a payment line pays (its kind) and why it exists (its nature).

use guanai_rules::{GrantKind, MonthlyKind};

/// The entitlement a line pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineKind {
    /// 特别扶助金 for one parent and month (二(二)).
    Monthly(MonthlyKindKey),
    /// 一次性救助 (二(二)), once per family and kind.
    Grant(GrantKindKey),
    /// 丧葬费报销 (二(五)), once per deceased parent.
    FuneralReimbursement,
    /// 医疗救助 (二(三)).
    MedicalRelief,
}

/// [`MonthlyKind`] with an order (for maps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MonthlyKindKey {
    Bereaved,
    Disabled,
}

/// [`GrantKind`] with an order (for maps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantKindKey {
    Bereaved,
    Orphan,
    Disabled,
}

impl From<MonthlyKind> for LineKind {
    fn from(kind: MonthlyKind) -> LineKind {
        LineKind::Monthly(match kind {
            MonthlyKind::BereavedAssistance => MonthlyKindKey::Bereaved,
            MonthlyKind::DisabledAssistance => MonthlyKindKey::Disabled,
        })
    }
}

impl From<GrantKind> for LineKind {
    fn from(kind: GrantKind) -> LineKind {
        LineKind::Grant(match kind {
            GrantKind::BereavedGrant => GrantKindKey::Bereaved,
            GrantKind::OrphanGrant => GrantKindKey::Orphan,
            GrantKind::DisabledGrant => GrantKindKey::Disabled,
        })
    }
}

impl LineKind {
    pub const ALL: [LineKind; 7] = [
        LineKind::Monthly(MonthlyKindKey::Bereaved),
        LineKind::Monthly(MonthlyKindKey::Disabled),
        LineKind::Grant(GrantKindKey::Bereaved),
        LineKind::Grant(GrantKindKey::Orphan),
        LineKind::Grant(GrantKindKey::Disabled),
        LineKind::FuneralReimbursement,
        LineKind::MedicalRelief,
    ];

    /// The kind as stored and exported (the engine's names).
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Monthly(MonthlyKindKey::Bereaved) => "bereaved_assistance",
            LineKind::Monthly(MonthlyKindKey::Disabled) => "disabled_assistance",
            LineKind::Grant(GrantKindKey::Bereaved) => "bereaved_grant",
            LineKind::Grant(GrantKindKey::Orphan) => "orphan_grant",
            LineKind::Grant(GrantKindKey::Disabled) => "disabled_grant",
            LineKind::FuneralReimbursement => "funeral_reimbursement",
            LineKind::MedicalRelief => "medical_relief",
        }
    }

    pub fn parse(text: &str) -> Option<LineKind> {
        LineKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The name on a bank file's 摘要 and in reports.
    pub fn as_zh(self) -> &'static str {
        match self {
            LineKind::Monthly(MonthlyKindKey::Bereaved) => "失独家庭特别扶助金",
            LineKind::Monthly(MonthlyKindKey::Disabled) => "伤残家庭特别扶助金",
            LineKind::Grant(GrantKindKey::Bereaved) => "失独家庭一次性救助金",
            LineKind::Grant(GrantKindKey::Orphan) => "计生孤儿一次性救助金",
            LineKind::Grant(GrantKindKey::Disabled) => "伤残家庭一次性救助金",
            LineKind::FuneralReimbursement => "丧葬费报销",
            LineKind::MedicalRelief => "医疗救助",
        }
    }

    /// The notice's clause.
    pub fn clause(self) -> &'static str {
        match self {
            LineKind::Monthly(_) | LineKind::Grant(_) => "二(二)",
            LineKind::FuneralReimbursement => "二(五)",
            LineKind::MedicalRelief => "二(三)",
        }
    }

    /// Monthly kinds are booked per month; the others once.
    pub fn is_monthly(self) -> bool {
        matches!(self, LineKind::Monthly(_))
    }
}

/// Why a line exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nature {
    /// The run month's regular payment.
    Regular,
    /// 补发: due for an earlier month and not (fully) paid — facts corrected or approved late.
    Arrears,
    /// 追回: paid and not due (e.g. a death reported late); netted against the family's other
    /// payments or recorded as a debt.
    Recovery,
    /// A one-time grant, first award.
    Grant,
    /// An approved claim (funeral, medical).
    Claim,
}

impl Nature {
    pub const ALL: [Nature; 5] = [
        Nature::Regular,
        Nature::Arrears,
        Nature::Recovery,
        Nature::Grant,
        Nature::Claim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Nature::Regular => "regular",
            Nature::Arrears => "arrears",
            Nature::Recovery => "recovery",
            Nature::Grant => "grant",
            Nature::Claim => "claim",
        }
    }

    pub fn parse(text: &str) -> Option<Nature> {
        Nature::ALL.into_iter().find(|n| n.as_str() == text)
    }

    pub fn as_zh(self) -> &'static str {
        match self {
            Nature::Regular => "当月",
            Nature::Arrears => "补发",
            Nature::Recovery => "追回",
            Nature::Grant => "一次性",
            Nature::Claim => "报销",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_natures_round_trip() {
        for k in LineKind::ALL {
            assert_eq!(LineKind::parse(k.as_str()), Some(k));
        }
        for n in Nature::ALL {
            assert_eq!(Nature::parse(n.as_str()), Some(n));
        }
        assert_eq!(LineKind::parse("pension"), None);
    }
}
