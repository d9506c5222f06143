//! Publicity without exposure (三(四) of 临政办发〔2014〕42号): before a table is published, counts
//! small enough to point at a family are withheld, together with the cells that would let a reader
//! work them out again from the totals, and the money beside them.

use crate::table::{Cell, ColumnKind, Label, Table};

/// The note that explains the withheld cells, for a threshold of `min_cell`.
pub fn suppression_note(min_cell: i64) -> Label {
    Label::new(
        format!("少于 {min_cell} 户（人）的单元格不予公开，以“*”表示（三(四)）"),
        format!("Cells under {min_cell} families/persons are withheld, shown as “*” (三(四))"),
    )
}

/// The table as it may be published: small counts withheld.
///
/// * Every count `n` with `0 < n < min_cell` becomes [`Cell::Suppressed`]; zero identifies nobody
///   and stays.
/// * Complementary suppression, repeated until nothing changes: a row, or a count column, with
///   exactly one withheld count loses its smallest other non-zero count too, so the withheld value
///   cannot be recovered from the totals. (A withheld count that is the only non-zero count of its
///   row or column stays alone: there is nothing to pair it with.)
/// * In a row with a withheld count, money and shares are withheld as well: an amount or a rate
///   beside a small count would reveal a family's payment or the count itself.
/// * The totals row is a sum over many families and stays, except a count total below `min_cell`
///   (and then, as in any row, the money and shares of the totals row).
///
/// A note stating the rule is added (once) to the notes.
pub fn suppress(table: &Table, min_cell: i64) -> Table {
    let mut out = table.clone();
    let counts: Vec<usize> = kind_columns(table, ColumnKind::Count);

    for row in &mut out.rows {
        withhold_small(row, &counts, min_cell);
    }

    loop {
        let mut changed = false;
        for row in &mut out.rows {
            changed |= complete_line(
                row.iter_mut()
                    .enumerate()
                    .filter_map(|(i, cell)| counts.contains(&i).then_some(cell)),
            );
        }
        for &c in &counts {
            changed |= complete_line(out.rows.iter_mut().filter_map(|row| row.get_mut(c)));
        }
        if !changed {
            break;
        }
    }

    for row in &mut out.rows {
        withhold_money_beside(row, table, &counts);
    }

    if let Some(totals) = &mut out.totals {
        withhold_small(totals, &counts, min_cell);
        withhold_money_beside(totals, table, &counts);
    }

    let note = suppression_note(min_cell);
    if !out.notes.contains(&note) {
        out.notes.push(note);
    }
    out
}

fn kind_columns(table: &Table, kind: ColumnKind) -> Vec<usize> {
    table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == kind)
        .map(|(i, _)| i)
        .collect()
}

/// Primary suppression: counts in `1..min_cell` are withheld.
fn withhold_small(row: &mut [Cell], counts: &[usize], min_cell: i64) {
    for &c in counts {
        if let Some(cell) = row.get_mut(c)
            && let Cell::Count(n) = *cell
            && 0 < n
            && n < min_cell
        {
            *cell = Cell::Suppressed;
        }
    }
}

/// Complementary suppression along one line (a row's counts or a count column): with exactly one
/// withheld cell, the smallest other non-zero count is withheld too. Returns whether it changed.
fn complete_line<'a>(cells: impl Iterator<Item = &'a mut Cell>) -> bool {
    let mut cells: Vec<&mut Cell> = cells.collect();
    let withheld = cells
        .iter()
        .filter(|c| matches!(c, Cell::Suppressed))
        .count();
    if withheld != 1 {
        return false;
    }
    let smallest = cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Cell::Count(n) if *n != 0 => Some((*n, i)),
            _ => None,
        })
        .min();
    match smallest.and_then(|(_, i)| cells.get_mut(i)) {
        Some(cell) => {
            **cell = Cell::Suppressed;
            true
        }
        None => false,
    }
}

/// In a row with a withheld count, the money and shares are withheld too.
fn withhold_money_beside(row: &mut [Cell], table: &Table, counts: &[usize]) {
    let any_withheld = counts
        .iter()
        .any(|&c| matches!(row.get(c), Some(Cell::Suppressed)));
    if !any_withheld {
        return;
    }
    for (cell, column) in row.iter_mut().zip(&table.columns) {
        if matches!(column.kind, ColumnKind::Fen | ColumnKind::Share) {
            *cell = Cell::Suppressed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;
    use guanai_rules::Fen;
    use proptest::prelude::*;

    fn columns() -> Vec<Column> {
        vec![
            Column::new(ColumnKind::Text, "县区", "County"),
            Column::new(ColumnKind::Count, "户数", "Families"),
            Column::new(ColumnKind::Count, "人数", "Persons"),
            Column::new(ColumnKind::Fen, "金额", "Amount"),
            Column::new(ColumnKind::Share, "走访率", "Visit coverage"),
        ]
    }

    fn row(name: &str, families: i64, persons: i64, fen: i64) -> Vec<Cell> {
        vec![
            Cell::Text(name.into()),
            Cell::Count(families),
            Cell::Count(persons),
            Cell::Fen(Fen(fen)),
            Cell::Share(Some(5000)),
        ]
    }

    fn table(rows: Vec<Vec<Cell>>) -> Table {
        let mut t = Table {
            key: "families".into(),
            title: Label::new("特扶家庭", "Families"),
            subtitle: Label::new("临沂市 2026", "Linyi 2026"),
            columns: columns(),
            rows,
            totals: None,
            notes: vec![],
        };
        t.totals = Some(t.sum_rows(|_, _| Some(5000)));
        t
    }

    #[test]
    fn small_counts_are_withheld_with_a_partner_and_their_money() {
        let t = table(vec![
            row("兰山区", 40, 90, 1_000_000),
            row("费县", 2, 30, 50_000),
            row("平邑县", 25, 60, 600_000),
            row("蒙阴县", 0, 0, 0),
        ]);
        let out = suppress(&t, 5);
        // 费县's 2 families is withheld; its row partner (30 persons) and money go with it.
        assert_eq!(out.rows[1][1], Cell::Suppressed);
        assert_eq!(out.rows[1][2], Cell::Suppressed);
        assert_eq!(out.rows[1][3], Cell::Suppressed);
        assert_eq!(out.rows[1][4], Cell::Suppressed);
        // Column partners: the smallest other non-zero families (25) and persons (60).
        assert_eq!(out.rows[2][1], Cell::Suppressed);
        assert_eq!(out.rows[2][2], Cell::Suppressed);
        assert_eq!(out.rows[0], t.rows[0]);
        // Zero identifies nobody.
        assert_eq!(out.rows[3], t.rows[3]);
        // The totals stay.
        assert_eq!(out.totals, t.totals);
        assert_eq!(out.notes, vec![suppression_note(5)]);
        assert_eq!(
            out.notes[0].zh,
            "少于 5 户（人）的单元格不予公开，以“*”表示（三(四)）"
        );
    }

    #[test]
    fn a_small_total_is_withheld_and_the_note_is_added_once() {
        let t = table(vec![row("费县", 1, 0, 100), row("平邑县", 2, 0, 200)]);
        let out = suppress(&suppress(&t, 5), 5);
        let totals = out.totals.clone().unwrap_or_default();
        assert_eq!(totals[0], Cell::Text("合计".into()));
        assert_eq!(totals[1], Cell::Suppressed);
        assert_eq!(totals[2], Cell::Count(0));
        assert_eq!(totals[3], Cell::Suppressed);
        assert_eq!(out.notes.len(), 1);
    }

    #[test]
    fn a_lone_non_zero_cell_has_no_partner() {
        let t = table(vec![row("费县", 3, 0, 100), row("平邑县", 0, 0, 0)]);
        let out = suppress(&t, 5);
        assert_eq!(out.rows[0][1], Cell::Suppressed);
        assert_eq!(out.rows[0][2], Cell::Count(0));
        assert_eq!(out.rows[1], t.rows[1]);
    }

    #[test]
    fn nothing_small_leaves_the_figures_alone() {
        let t = table(vec![
            row("兰山区", 40, 90, 1_000_000),
            row("费县", 12, 30, 50_000),
        ]);
        let out = suppress(&t, 5);
        assert_eq!(out.rows, t.rows);
        assert_eq!(out.totals, t.totals);
    }

    fn count_cols() -> [usize; 2] {
        [1, 2]
    }

    fn lines(t: &Table) -> Vec<Vec<(usize, usize)>> {
        let mut lines: Vec<Vec<(usize, usize)>> = (0..t.rows.len())
            .map(|r| count_cols().iter().map(|&c| (r, c)).collect())
            .collect();
        for c in count_cols() {
            lines.push((0..t.rows.len()).map(|r| (r, c)).collect());
        }
        lines
    }

    proptest! {
        #[test]
        fn suppression_is_safe_and_truthful(
            cells in prop::collection::vec((0i64..30, 0i64..30, -500i64..100_000), 1..8),
            min_cell in 1i64..12,
        ) {
            let t = table(cells.iter().enumerate().map(|(i, &(f, p, m))| row(&format!("{i}"), f, p, m)).collect());
            let out = suppress(&t, min_cell);
            prop_assert_eq!(out.rows.len(), t.rows.len());

            let mut all_out: Vec<&Vec<Cell>> = out.rows.iter().collect();
            let mut all_in: Vec<&Vec<Cell>> = t.rows.iter().collect();
            all_out.extend(out.totals.as_ref());
            all_in.extend(t.totals.as_ref());
            for (o, i) in all_out.iter().zip(&all_in) {
                prop_assert_eq!(o.len(), i.len());
                for (oc, ic) in o.iter().zip(i.iter()) {
                    // Published cells are the input cells.
                    if *oc != Cell::Suppressed {
                        prop_assert_eq!(oc, ic);
                    }
                    // No published count is small.
                    if let Cell::Count(n) = oc {
                        prop_assert!(!(0 < *n && *n < min_cell));
                    }
                }
                // Money beside a withheld count is withheld.
                if count_cols().iter().any(|&c| o[c] == Cell::Suppressed) {
                    prop_assert_eq!(&o[3], &Cell::Suppressed);
                }
            }

            // No row or count column has exactly one withheld count, unless it is the line's only
            // non-zero count.
            for line in lines(&t) {
                let withheld: Vec<_> = line.iter().filter(|&&(r, c)| out.rows[r][c] == Cell::Suppressed).collect();
                if withheld.len() == 1 {
                    let non_zero = line.iter().filter(|&&(r, c)| t.rows[r][c] != Cell::Count(0)).count();
                    prop_assert_eq!(non_zero, 1, "line {:?} of {:?} -> {:?}", line, t.rows, out.rows);
                }
            }
        }
    }
}
