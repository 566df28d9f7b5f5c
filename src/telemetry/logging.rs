//! Structured logging (JSON or text) through `tracing`.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::cli::LogFormat;

/// Install the global subscriber. Safe to call once per process; later calls are ignored.
pub fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid log filter {filter:?}: {e}"))?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())),
            )
            .try_init(),
    };
    // Already initialised (tests): keep the first subscriber.
    let _ = result;
    Ok(())
}
