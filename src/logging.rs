//! JSON logs for Lambda's JSON log format: one object per line with `timestamp`, `level`,
//! the event's fields at the top level, and the invocation's `requestId` in `span`.
//!
//! The level is the configuration's (`AWS_LAMBDA_LOG_LEVEL`, set by Lambda's advanced logging
//! controls; default INFO). Audit lines (target `audit`) are INFO and always written. The Lambda runtime
//! and the AWS SDK's HTTP and TLS layers are capped at WARN whatever the level: at TRACE the
//! runtime logs every raw event (with its body, which may carry a password, and the caller's
//! token), and the transport layers could log request bodies.

use tracing::Level;
use tracing_subscriber::{
    Layer, filter::Targets, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

/// Targets whose verbose output could include request or response bodies: the AWS SDK's
/// transport and, above all, the Lambda runtime, which at TRACE logs every raw event it
/// receives ("raw JSON event received from Lambda"): body, password and `Authorization` header.
const CAPPED_TARGETS: [&str; 10] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sigv4",
    "aws_runtime",
    "hyper",
    "hyper_util",
    "rustls",
];

/// The filter: `level` for everything, WARN at most for the SDK's transport, INFO for audit.
pub fn filter(level: Level) -> Targets {
    let capped = if level < Level::WARN {
        level
    } else {
        Level::WARN
    };
    let mut targets = Targets::new()
        .with_default(level)
        .with_target("audit", Level::INFO)
        .with_target(EMF, Level::INFO);
    for target in CAPPED_TARGETS {
        targets = targets.with_target(target, capped);
    }
    targets
}

/// Builds the JSON subscriber writing to `writer` (stdout in Lambda; a buffer in tests): the
/// JSON log lines, and the metrics' EMF lines (target `emf`) written as they are.
pub fn subscriber<W>(level: Level, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Clone + Send + Sync + 'static,
{
    let raw = RawLines {
        writer: writer.clone(),
    };
    let format = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        // The audit line has a `target` field of its own (the reset target); tracing's
        // target would be a second `target` key in the same object.
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
        .with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
            metadata.target() != EMF
        }));
    tracing_subscriber::registry()
        .with(format)
        .with(raw)
        .with(filter(level))
}

/// The target of the metrics' lines (`metrics::emit`).
const EMF: &str = "emf";

/// Writes the `emf` field of events of the target `emf` as a line of its own: an EMF object
/// must be a whole line of the log stream, not a field of another object.
struct RawLines<W> {
    writer: W,
}

impl<S, W> tracing_subscriber::Layer<S> for RawLines<W>
where
    S: tracing::Subscriber,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != EMF {
            return;
        }
        struct Line(String);
        impl tracing::field::Visit for Line {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == EMF {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut line = Line(String::new());
        event.record(&mut line);
        if !line.0.is_empty() {
            use std::io::Write;
            let _ = writeln!(self.writer.make_writer(), "{}", line.0);
        }
    }
}

/// Installs the JSON subscriber on stdout for the whole process at `level` (from the
/// configuration: `config::log_level`), and the panic hook.
pub fn init(level: Level) {
    subscriber(level, std::io::stdout).init();
    install_panic_hook();
}

/// Replaces the default panic hook, which prints the panic's message to stderr: a message can
/// quote anything, a password included. This one logs only where the panic happened.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let (file, line) = info
            .location()
            .map_or(("unknown", 0), |l| (l.file(), l.line()));
        tracing::error!(
            panic.file = file,
            panic.line = line,
            "panic (message withheld)"
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_events_and_transport_stay_out_of_the_logs_at_every_level() {
        for level in [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ] {
            let filter = filter(level);
            for target in [
                "lambda_runtime::layers::api_response",
                "lambda_runtime_api_client",
                "aws_smithy_runtime::client::orchestrator",
                "hyper_util::client",
            ] {
                assert!(
                    !filter.would_enable(target, &Level::TRACE),
                    "{target} at {level}"
                );
                assert!(
                    !filter.would_enable(target, &Level::DEBUG),
                    "{target} at {level}"
                );
                assert!(
                    !filter.would_enable(target, &Level::INFO),
                    "{target} at {level}"
                );
            }
            assert!(
                filter.would_enable("audit", &Level::INFO),
                "audit lines at {level}"
            );
            assert!(filter.would_enable("lambda_runtime", &Level::ERROR));
        }
        assert!(filter(Level::TRACE).would_enable("resetgate::http", &Level::TRACE));
        assert!(!filter(Level::INFO).would_enable("resetgate::http", &Level::DEBUG));
    }
}
