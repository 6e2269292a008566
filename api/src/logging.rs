//! The process's logger: env_logger's filter and format, writing to standard error, with the
//! access log written in batches.
//!
//! The access log is one line per request. Written as it came, each line was a `write` to
//! standard error of its own, about a tenth of the CPU of a `GET /v1/account`. Its lines now
//! collect in a buffer that is written out every [`FLUSH_EVERY`], when it passes
//! [`FLUSH_AT_BYTES`], and before any other record: every other line (start-up, warnings,
//! errors) is written at once, after the access lines before it, so the order of the output is
//! the order of the records. What a process killed with SIGKILL can lose is the access lines of
//! its last [`FLUSH_EVERY`].

use log::{Log, Metadata, Record};
use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The target of the access log's records (actix's own, set explicitly so the two cannot drift).
pub const ACCESS_LOG_TARGET: &str = "actix_web::middleware::logger";

/// How long an access line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// A buffer this full is written out at once.
const FLUSH_AT_BYTES: usize = 64 * 1024;

/// Installs the logger (`RUST_LOG`, default `info`) and the thread that writes the buffer out.
pub fn init() {
    let sink = Arc::new(Sink::new(Box::new(io::stderr())));
    let logger = BatchedLogger::new(
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")),
        sink.clone(),
    );
    let max_level = logger.inner.filter();
    if log::set_boxed_logger(Box::new(logger)).is_err() {
        return;
    }
    log::set_max_level(max_level);
    // Without this thread access lines would still be written, only later (by size or the next
    // other record); failing to start it is not worth refusing to start the process for.
    let _ = std::thread::Builder::new()
        .name("log-flush".into())
        .spawn(move || {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                sink.write_out();
            }
        });
}

/// Writes out whatever the buffer holds (before the process exits).
pub fn flush() {
    log::logger().flush();
}

/// The buffer and where it is written out to, under one lock so lines keep their order.
struct Sink(Mutex<Buffered>);

struct Buffered {
    lines: Vec<u8>,
    out: Box<dyn Write + Send>,
}

impl Sink {
    fn new(out: Box<dyn Write + Send>) -> Self {
        Self(Mutex::new(Buffered {
            lines: Vec::new(),
            out,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Buffered> {
        // A poisoned buffer is still a buffer of complete lines: env_logger writes a record with
        // one `write_all` while holding its own lock.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends to the buffer with `append`, then writes the buffer out if it is full.
    fn append(&self, append: impl FnOnce(&mut Vec<u8>)) {
        let full = {
            let mut buffered = self.lock();
            append(&mut buffered.lines);
            buffered.lines.len() >= FLUSH_AT_BYTES
        };
        if full {
            self.write_out();
        }
    }

    fn write_out(&self) {
        let mut buffered = self.lock();
        let Buffered { lines, out } = &mut *buffered;
        if !lines.is_empty() {
            // Nowhere is left to report a failure to write the log to.
            let _ = out.write_all(lines).and_then(|()| out.flush());
            lines.clear();
        }
    }
}

/// What env_logger writes formatted records to.
struct SinkWriter(Arc<Sink>);

impl Write for SinkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.append(|lines| lines.extend_from_slice(bytes));
        Ok(bytes.len())
    }

    /// env_logger flushes after every record; when a record is written out is
    /// [`BatchedLogger`]'s decision.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct BatchedLogger {
    inner: env_logger::Logger,
    sink: Arc<Sink>,
}

impl BatchedLogger {
    fn new(mut builder: env_logger::Builder, sink: Arc<Sink>) -> Self {
        let inner = builder
            .format_timestamp_millis()
            .target(env_logger::Target::Pipe(Box::new(SinkWriter(sink.clone()))))
            .build();
        Self { inner, sink }
    }

    /// Appends an access line in env_logger's default format (`[<UTC time, ms> <LEVEL> <target>]
    /// <message>`), written here rather than by env_logger: its formatting, and its pass that
    /// strips colour codes from every line bound for a pipe (an access line has none), cost more
    /// than the line itself, on every request.
    fn buffer_access_line(&self, record: &Record<'_>) {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.sink.append(|lines| {
            // Writing to a Vec cannot fail.
            let _ = writeln!(
                lines,
                "[{time} {:<5} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        });
    }
}

impl Log for BatchedLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.inner.matches(record) {
            return;
        }
        if record.target() == ACCESS_LOG_TARGET {
            self.buffer_access_line(record);
            return;
        }
        self.inner.log(record);
        self.sink.write_out();
    }

    fn flush(&self) {
        self.sink.write_out();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Level;

    /// A writer whose output the test reads.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .expect("not poisoned")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("utf-8")
        }
    }

    fn logger() -> (BatchedLogger, Captured) {
        let captured = Captured::default();
        let mut builder = env_logger::Builder::new();
        builder.filter_level(log::LevelFilter::Info);
        let sink = Arc::new(Sink::new(Box::new(captured.clone())));
        (BatchedLogger::new(builder, sink), captured)
    }

    fn log(logger: &BatchedLogger, target: &str, level: Level, message: &str) {
        logger.log(
            &Record::builder()
                .target(target)
                .level(level)
                .args(format_args!("{message}"))
                .build(),
        );
    }

    #[test]
    fn access_lines_wait_for_the_next_write_out_and_other_lines_go_at_once_in_order() {
        let (logger, captured) = logger();
        log(
            &logger,
            ACCESS_LOG_TARGET,
            Level::Info,
            "GET /v1/account 200",
        );
        assert_eq!(captured.text(), "");
        log(&logger, "api::server", Level::Warn, "WAL checkpoint failed");
        let text = captured.text();
        let access = text
            .find("GET /v1/account 200")
            .expect("the access line is out");
        let warning = text
            .find("WAL checkpoint failed")
            .expect("the warning is out");
        assert!(access < warning, "{text}");

        log(&logger, ACCESS_LOG_TARGET, Level::Info, "GET /v1/me 200");
        assert!(!captured.text().contains("GET /v1/me"));
        logger.flush();
        assert!(captured.text().contains("GET /v1/me 200"));
    }

    /// `[2026-11-22T07:50:29.343Z INFO  target] message`: what env_logger writes.
    fn assert_line_shape(line: &str, level: &str, target: &str, message: &str) {
        let (time, rest) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once(' '))
            .unwrap_or_else(|| panic!("{line:?}"));
        assert_eq!(time.len(), 24, "{line:?}");
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok() && time.ends_with('Z'),
            "{line:?}"
        );
        assert_eq!(&time[19..20], ".", "milliseconds: {line:?}");
        assert_eq!(rest, format!("{level:<5} {target}] {message}"), "{line:?}");
    }

    #[test]
    fn access_lines_have_the_format_of_every_other_line() {
        let (logger, captured) = logger();
        log(&logger, ACCESS_LOG_TARGET, Level::Info, "GET /v1/me 200");
        log(&logger, "api::server", Level::Warn, "slow");
        let text = captured.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_line_shape(lines[0], "INFO", ACCESS_LOG_TARGET, "GET /v1/me 200");
        assert_line_shape(lines[1], "WARN", "api::server", "slow");
    }

    #[test]
    fn a_filtered_out_record_writes_nothing() {
        let (logger, captured) = logger();
        log(&logger, "api::server", Level::Debug, "not shown");
        logger.flush();
        assert_eq!(captured.text(), "");
    }
}
