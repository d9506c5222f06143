//! The `guanai` binary: a thin command line over the rules engine and the batch contract.
//! Exit codes follow `docs/eval-contract.md`: 0 all good, 1 some input rejected or a test
//! failed, 2 a usage error (bad arguments, unknown policy, unreadable input or unwritable output).

mod archive_cmd;
mod audit_cmd;
mod case_cmd;
mod claim_cmd;
mod cli;
mod demo;
mod pay_cmd;
mod report_cmd;
mod visit_cmd;
mod web_cmd;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        // Output piped into `head` and closed early is not an error worth a message.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guanai: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
