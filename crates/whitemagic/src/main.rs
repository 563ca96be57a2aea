//! The `whitemagic` binary: parses the command line and wires the crates together.

mod cli;
mod commands;
mod config;
mod invalidation;
mod logging;
mod store;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
