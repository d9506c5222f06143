//! The `guanai` binary: a thin command line over the rules engine and the batch contract.
//! Exit codes follow `docs/eval-contract.md`: 0 all good, 1 some input rejected or a test
//! failed, 2 a usage error (bad arguments, unknown policy, unreadable input or unwritable output).

mod archive_cmd;
mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("guanai: {e:#}");
            ExitCode::from(2)
        }
    }
}
