//! Dynamic adjustment of the local rates (二(二) last sentence, spec §7): a *proposal* computed
//! from income growth and prices with the pack's weights, rounded up to whole 10 yuan. Adopting a
//! proposal is a policy change with its own start month, made in the policy file.

use crate::money::Fen;
use crate::policy::{Decimal, Policy};

/// The growth indices a proposal is computed from, e.g. 0.081 for 8.1 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indices {
    pub urban_income_growth: Decimal,
    pub rural_income_growth: Decimal,
    pub cpi: Decimal,
}

/// One proposed rate with the arithmetic that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub old: Fen,
    /// `1 + w_u·g_u + w_r·g_r + w_p·g_p`, exact, in units of 10⁻¹⁸.
    pub factor_atto: i128,
    /// `old × factor` before rounding, in units of 10⁻¹⁸ fen.
    pub unrounded_atto_fen: i128,
    pub new: Fen,
}

const ATTO: i128 = Decimal::SCALE * Decimal::SCALE;

/// The adjustment factor `1 + Σ wᵢ·gᵢ`, exact in units of 10⁻¹⁸.
pub fn factor(policy: &Policy, indices: &Indices) -> i128 {
    let w = &policy.adjustment;
    ATTO + w.urban_income.nanos * indices.urban_income_growth.nanos
        + w.rural_income.nanos * indices.rural_income_growth.nanos
        + w.cpi.nanos * indices.cpi.nanos
}

/// Proposes a new rate for `old`: `round_up(old × factor, round_up_to)`; never below zero.
pub fn propose(policy: &Policy, indices: &Indices, old: Fen) -> Proposal {
    let factor_atto = factor(policy, indices);
    let unrounded = i128::from(old.get()) * factor_atto;
    let step = i128::from(policy.adjustment.round_up_to.get()) * ATTO;
    let rounded = if unrounded <= 0 {
        0
    } else {
        (unrounded + step - 1) / step * step
    };
    let new = i64::try_from(rounded / ATTO).unwrap_or(i64::MAX);
    Proposal {
        old,
        factor_atto,
        unrounded_atto_fen: unrounded,
        new: Fen(new),
    }
}

/// Shows an atto-scaled value with up to 18 decimals, trailing zeros trimmed.
pub fn show_atto(value: i128) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let int = abs / ATTO as u128;
    let frac = format!("{:018}", abs % ATTO as u128);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indices(u: &str, r: &str, p: &str) -> Indices {
        let d = |s: &str| Decimal::parse(s).expect("decimal");
        Indices {
            urban_income_growth: d(u),
            rural_income_growth: d(r),
            cpi: d(p),
        }
    }

    #[test]
    fn proposal_uses_the_weights_and_rounds_up_to_ten_yuan() {
        let policy = Policy::embedded("linyi-2014").expect("pack");
        let ix = indices("0.081", "0.112", "0.02");
        // 1 + 0.25·0.081 + 0.25·0.112 + 0.5·0.02 = 1.05825
        assert_eq!(show_atto(factor(&policy, &ix)), "1.05825");
        let bereaved = propose(&policy, &ix, Fen(50000));
        assert_eq!(show_atto(bereaved.unrounded_atto_fen), "52912.5");
        assert_eq!(bereaved.new, Fen(53000));
        assert_eq!(propose(&policy, &ix, Fen(30000)).new, Fen(32000));
    }

    #[test]
    fn an_exact_multiple_of_ten_yuan_is_not_rounded_further() {
        let policy = Policy::embedded("linyi-2014").expect("pack");
        assert_eq!(
            propose(&policy, &indices("0", "0", "0"), Fen(50000)).new,
            Fen(50000)
        );
        // 50000 × 1.02 = 51000 exactly.
        assert_eq!(
            propose(&policy, &indices("0", "0", "0.04"), Fen(50000)).new,
            Fen(51000)
        );
    }

    #[test]
    fn falling_prices_lower_the_proposal() {
        let policy = Policy::embedded("linyi-2014").expect("pack");
        let p = propose(&policy, &indices("0", "0", "-0.02"), Fen(50000));
        // 50000 × 0.99 = 49500 → rounded up to 49500 (a multiple of 1000 fen? no: 49500 → 50000)
        assert_eq!(p.new, Fen(50000));
        let p = propose(&policy, &indices("-0.1", "-0.1", "-0.1"), Fen(50000));
        // 50000 × 0.9 = 45000
        assert_eq!(p.new, Fen(45000));
    }
}
