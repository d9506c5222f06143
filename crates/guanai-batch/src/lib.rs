//! The batch side of Guanai: the `guanai eval` contract (`docs/eval-contract.md`) — one JSON
//! line per family in, one out, same order — its streaming runner on all cores, the declarative
//! policy test runner, and the seeded generator of synthetic families. Money comes only from
//! `guanai_rules`.

pub mod contract;
pub mod generate;
pub mod runner;
pub mod suite;
