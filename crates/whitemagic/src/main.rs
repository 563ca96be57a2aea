//! The `whitemagic` binary: parses the command line and wires the crates together.

mod cli;
mod commands;
mod config;
mod invalidation;
mod logging;
mod store;

use clap::Parser;

/// mimalloc instead of the system allocator: a request allocates many small objects on
/// two or more worker threads, where glibc's malloc spent ~12% of the server's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
