//! Netting a family's balances into bank transfers. Each person of the family has a payable
//! balance (what is owed to them: earlier failed or held transfers plus this run's lines). A
//! deceased or flagged person's positive balance goes to the family's primary payee; a negative
//! balance (a recovery, 追回) is set against the family's other payments; what cannot be set off
//! becomes the family's debt to collect (recoveries receivable), itself set against later
//! payments. Every positive balance of a person who can receive and has a usable account becomes
//! one transfer; the rest is held, with the reason, and stays owed.

use guanai_rules::Fen;

/// One person's position in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    /// Owed before this run (failed or held transfers).
    pub before: Fen,
    /// The sum of this run's lines for the person.
    pub lines: Fen,
    /// Alive and not flagged by the death cross-check.
    pub can_receive: bool,
    /// Why a transfer cannot go to this person now (no usable bank account …).
    pub blocked: Option<String>,
}

/// Moves of owed balance within the family, debt and transfers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Netting {
    /// `(from, to, amount)`: `amount` of what is owed moves from person `from` to person `to`.
    pub moves: Vec<(usize, usize, Fen)>,
    /// New debt: negative balances nobody in the family could cover (recoveries receivable).
    pub new_debt: Fen,
    /// Which persons' negative balances became that debt: `(person, amount)`.
    pub debt_from: Vec<(usize, Fen)>,
    /// Debt (old or new) set off against positive balances in this run.
    pub debt_offset: Fen,
    /// Whose positive balances it was set off against: `(person, amount)`.
    pub offset_from: Vec<(usize, Fen)>,
    /// Transfers to send: `(person, amount)`, amount > 0.
    pub transfers: Vec<(usize, Fen)>,
    /// Positive balances that stay owed: `(person, amount, reason)`.
    pub held: Vec<(usize, Fen, String)>,
    /// The debt left after this run.
    pub debt_after: Fen,
}

/// Nets one family. `primary` receives balances of persons who cannot; `debt_before` is the
/// family's outstanding debt from earlier recoveries.
pub fn net_family(payees: &[Payee], primary: Option<usize>, debt_before: Fen) -> Netting {
    let mut out = Netting::default();
    let mut owed: Vec<Fen> = payees.iter().map(|p| p.before + p.lines).collect();
    let primary = primary.filter(|q| payees.get(*q).is_some_and(|p| p.can_receive));
    let mut order: Vec<usize> = (0..payees.len()).collect();
    if let Some(q) = primary {
        order.retain(|i| *i != q);
        order.insert(0, q);
    }
    let mut shift = |owed: &mut Vec<Fen>, from: usize, to: usize, amount: Fen| {
        if amount > Fen::ZERO {
            owed[from] = owed[from] - amount;
            owed[to] = owed[to] + amount;
            out.moves.push((from, to, amount));
        }
    };
    // 1. Balances of persons who cannot receive go to the primary payee.
    if let Some(q) = primary {
        for i in 0..payees.len() {
            if i != q && !payees[i].can_receive && owed[i] > Fen::ZERO {
                let x = owed[i];
                shift(&mut owed, i, q, x);
            }
        }
    }
    // 2. Negative balances are covered by the family's positive ones, primary first.
    for i in 0..payees.len() {
        for &q in &order {
            if owed[i] >= Fen::ZERO {
                break;
            }
            if q != i && owed[q] > Fen::ZERO {
                let x = owed[q].min(Fen(-owed[i].get()));
                shift(&mut owed, q, i, x);
            }
        }
    }
    // 3. What is still negative becomes the family's debt.
    for (i, o) in owed.iter_mut().enumerate() {
        if *o < Fen::ZERO {
            out.new_debt = out.new_debt - *o;
            out.debt_from.push((i, Fen(-o.get())));
            *o = Fen::ZERO;
        }
    }
    // 4. Debt is set off against what is owed, primary first.
    let mut debt = debt_before + out.new_debt;
    for &q in &order {
        if debt <= Fen::ZERO {
            break;
        }
        let y = owed[q].min(debt);
        if y > Fen::ZERO {
            owed[q] = owed[q] - y;
            debt = debt - y;
            out.debt_offset = out.debt_offset + y;
            out.offset_from.push((q, y));
        }
    }
    out.debt_after = debt;
    // 5. Transfers, or held with the reason.
    for (i, p) in payees.iter().enumerate() {
        if owed[i] <= Fen::ZERO {
            continue;
        }
        let why = if !p.can_receive {
            Some("收款人已去世或被死亡比对标记，且家庭无其他收款人".to_owned())
        } else {
            p.blocked.clone()
        };
        match why {
            None => out.transfers.push((i, owed[i])),
            Some(why) => out.held.push((i, owed[i], why)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payee(before: i64, lines: i64) -> Payee {
        Payee {
            before: Fen(before),
            lines: Fen(lines),
            can_receive: true,
            blocked: None,
        }
    }

    /// What the family is owed before equals what is transferred, held, moved to debt or set off.
    fn conserved(payees: &[Payee], debt_before: Fen, n: &Netting) {
        let owed: i64 = payees.iter().map(|p| (p.before + p.lines).get()).sum();
        let out: i64 = n.transfers.iter().map(|t| t.1.get()).sum::<i64>()
            + n.held.iter().map(|h| h.1.get()).sum::<i64>();
        assert_eq!(owed + n.new_debt.get() - n.debt_offset.get(), out);
        assert_eq!(
            debt_before.get() + n.new_debt.get() - n.debt_offset.get(),
            n.debt_after.get()
        );
    }

    #[test]
    fn each_parent_is_paid_their_own_lines() {
        let p = [payee(0, 50000), payee(0, 50000)];
        let n = net_family(&p, Some(0), Fen::ZERO);
        assert_eq!(n.transfers, vec![(0, Fen(50000)), (1, Fen(50000))]);
        conserved(&p, Fen::ZERO, &n);
    }

    #[test]
    fn a_late_death_is_recovered_from_the_surviving_parent() {
        // The father died in March; April and May were paid; the mother is owed June.
        let mut father = payee(0, -100000);
        father.can_receive = false;
        let p = [payee(0, 50000), father];
        let n = net_family(&p, Some(0), Fen::ZERO);
        assert_eq!(n.moves, vec![(0, 1, Fen(50000))]);
        assert_eq!(n.new_debt, Fen(50000));
        assert!(n.transfers.is_empty());
        assert_eq!(n.debt_after, Fen(50000));
        conserved(&p, Fen::ZERO, &n);
        // Next month the debt is set off against her payment.
        let p = [payee(0, 50000), payee(0, 0)];
        let n = net_family(&p, Some(0), Fen(50000));
        assert_eq!(n.debt_offset, Fen(50000));
        assert!(n.transfers.is_empty());
        assert_eq!(n.debt_after, Fen::ZERO);
        conserved(&p, Fen(50000), &n);
    }

    #[test]
    fn arrears_of_a_deceased_parent_go_to_the_primary_payee() {
        let mut father = payee(0, 30000);
        father.can_receive = false;
        let p = [payee(0, 50000), father];
        let n = net_family(&p, Some(0), Fen::ZERO);
        assert_eq!(n.transfers, vec![(0, Fen(80000))]);
        conserved(&p, Fen::ZERO, &n);
    }

    #[test]
    fn a_blocked_account_holds_the_money_owed() {
        let mut mother = payee(40000, 50000);
        mother.blocked = Some("银行账户缺失".to_owned());
        let p = [mother];
        let n = net_family(&p, Some(0), Fen::ZERO);
        assert!(n.transfers.is_empty());
        assert_eq!(n.held, vec![(0, Fen(90000), "银行账户缺失".to_owned())]);
        conserved(&p, Fen::ZERO, &n);
    }

    #[test]
    fn nobody_to_receive_holds_and_keeps_debt() {
        let mut only = payee(0, 20000);
        only.can_receive = false;
        let p = [only];
        let n = net_family(&p, None, Fen(5000));
        assert_eq!(n.debt_offset, Fen(5000));
        assert_eq!(n.held.len(), 1);
        assert_eq!(n.held[0].1, Fen(15000));
        conserved(&p, Fen(5000), &n);
    }

    proptest::proptest! {
        #[test]
        fn netting_conserves_money(
            a in -200_000i64..200_000, b in -200_000i64..200_000,
            c in 0i64..100_000, d in 0i64..100_000,
            alive_a: bool, alive_b: bool, blocked_b: bool, debt in 0i64..100_000,
            primary in proptest::option::of(0usize..2),
        ) {
            let p = [
                Payee { before: Fen(c), lines: Fen(a), can_receive: alive_a, blocked: None },
                Payee { before: Fen(d), lines: Fen(b), can_receive: alive_b,
                        blocked: blocked_b.then(|| "x".to_owned()) },
            ];
            let n = net_family(&p, primary, Fen(debt));
            conserved(&p, Fen(debt), &n);
            proptest::prop_assert!(n.transfers.iter().all(|t| t.1 > Fen::ZERO));
            proptest::prop_assert!(n.debt_after >= Fen::ZERO);
            // Debt and money owed never both remain unset-off.
            let held: i64 = n.held.iter().map(|h| h.1.get()).sum();
            let sent: i64 = n.transfers.iter().map(|t| t.1.get()).sum();
            proptest::prop_assert!(n.debt_after == Fen::ZERO || held + sent == 0);
        }
    }
}
