//! The `ferrite` binary: parse redis-server style arguments, set up logging, serve until a signal.

use std::process::ExitCode;

use clap::Parser;
use ferrite::config::Config;
use ferrite::server;

#[global_allocator]
static GLOBAL: ferrite::alloc::Counting = ferrite::alloc::Counting;

/// A Redis-compatible in-memory data structure server.
///
/// Takes the same arguments as redis-server: an optional config file, then any directive as
/// `--name value` (for example `ferrite /etc/redis.conf --port 6380 --requirepass s3cret`).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Check the configuration and exit.
    #[arg(long = "test-config")]
    test_config: bool,
    /// `[/path/to/redis.conf] [--directive value ...]`
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

fn log_filter(level: &str) -> &'static str {
    match level {
        "debug" => "debug",
        "verbose" => "info",
        "notice" => "info",
        "warning" => "warn",
        _ => "off",
    }
}

fn main() -> ExitCode {
    ferrite::alloc::mark_installed();
    let mut cli = Cli::parse();
    // `--test-config` may also follow the config file, where clap sees it as a directive.
    if let Some(pos) = cli.args.iter().position(|a| a == "--test-config") {
        cli.args.remove(pos);
        cli.test_config = true;
    }
    let config = match Config::from_args(&cli.args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if cli.test_config {
        println!("Configuration OK");
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(log_filter(&config.loglevel))
            }),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    // The main runtime only accepts connections and waits for signals; clients are served by the
    // I/O threads that `server::serve` starts.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let listeners = match server::bind(&config).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "Could not create server TCP listening socket {}:{}: {e}",
                    config.bind.join(" "),
                    config.port
                );
                return ExitCode::FAILURE;
            }
        };
        let srv = server::Server::new(config);
        let signals = srv.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::warn!("Received shutdown signal, scheduling shutdown...");
            signals.request_shutdown();
        });
        tracing::info!(
            version = server::FERRITE_VERSION,
            "Ferrite ready to accept connections"
        );
        server::serve(srv, listeners).await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
