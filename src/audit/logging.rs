//! The process's logging: every line masked on its way out, audit lines apart.
//!
//! * [`MaskingMakeWriter`] wraps any `tracing_subscriber` writer and masks each event's text
//!   (all of it: message, fields, span context) before it reaches the inner writer, so no log
//!   line from any module (ours, the AWS SDK's, hyper's) carries a secret out.
//! * [`audit_layer`] writes the `audit` target's events as bare JSON lines;
//!   [`log_layer`] writes everything else for people, filtered by `RUST_LOG`.
//! * [`init`] installs both for the process; [`configure`] then applies a loaded
//!   configuration (custom identifiers, the audit file).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use super::mask::Masker;
use super::TARGET;
use crate::config::Config;

/// A masker that can be replaced once the configuration (with its custom identifiers) is
/// loaded, after logging has started.
#[derive(Clone, Debug)]
pub struct SharedMasker(Arc<RwLock<Arc<Masker>>>);

impl SharedMasker {
    pub fn new(masker: Arc<Masker>) -> SharedMasker {
        SharedMasker(Arc::new(RwLock::new(masker)))
    }

    pub fn get(&self) -> Arc<Masker> {
        match self.0.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set(&self, masker: Arc<Masker>) {
        match self.0.write() {
            Ok(mut m) => *m = masker,
            Err(poisoned) => *poisoned.into_inner() = masker,
        }
    }
}

/// The process-wide masker of [`init`]'s writers (managed identifiers until [`configure`]).
pub fn global_masker() -> &'static SharedMasker {
    static MASKER: LazyLock<SharedMasker> =
        LazyLock::new(|| SharedMasker::new(Arc::new(Masker::managed())));
    &MASKER
}

/// Wraps a [`MakeWriter`] so every event is masked before it is written.
#[derive(Clone, Debug)]
pub struct MaskingMakeWriter<M> {
    inner: M,
    masker: SharedMasker,
}

impl<M> MaskingMakeWriter<M> {
    pub fn new(inner: M, masker: Arc<Masker>) -> MaskingMakeWriter<M> {
        MaskingMakeWriter {
            inner,
            masker: SharedMasker::new(masker),
        }
    }

    /// Masks with a masker that may be replaced later.
    pub fn shared(inner: M, masker: SharedMasker) -> MaskingMakeWriter<M> {
        MaskingMakeWriter { inner, masker }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for MaskingMakeWriter<M> {
    type Writer = MaskingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskingWriter::new(self.inner.make_writer(), self.masker.get())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        MaskingWriter::new(self.inner.make_writer_for(meta), self.masker.get())
    }
}

/// Collects one event's text and writes it masked when flushed or dropped. The `fmt` layer
/// makes one writer per event, so a secret split across `write` calls is still seen whole.
pub struct MaskingWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    masker: Arc<Masker>,
}

impl<W: Write> MaskingWriter<W> {
    fn new(inner: W, masker: Arc<Masker>) -> MaskingWriter<W> {
        MaskingWriter {
            inner,
            buf: Vec::new(),
            masker,
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf);
        let masked = self.masker.mask(&text);
        let result = self.inner.write_all(masked.as_bytes());
        self.buf.clear();
        result?;
        self.inner.flush()
    }
}

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()
    }
}

impl<W: Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}

/// Where audit lines go.
#[derive(Debug)]
pub enum AuditTarget {
    Stdout,
    Stderr,
    /// Appended to; the path is kept so that the file can be opened again after rotation.
    File {
        file: File,
        path: PathBuf,
    },
    /// Nowhere (the interactive commands, whose standard output is the reply).
    Off,
}

/// A [`MakeWriter`] for audit lines whose target can be changed after logging has started.
#[derive(Clone, Debug)]
pub struct AuditOutput(Arc<Mutex<AuditTarget>>);

impl AuditOutput {
    pub fn new(target: AuditTarget) -> AuditOutput {
        AuditOutput(Arc::new(Mutex::new(target)))
    }

    pub fn set(&self, target: AuditTarget) {
        match self.0.lock() {
            Ok(mut t) => *t = target,
            Err(poisoned) => *poisoned.into_inner() = target,
        }
    }

    /// Appends audit lines to this file from now on (created if missing).
    pub fn open_file(&self, path: &Path) -> io::Result<()> {
        let file = append_to(path)?;
        self.set(AuditTarget::File {
            file,
            path: path.to_owned(),
        });
        Ok(())
    }

    /// Opens the audit file again at its path, after logrotate (or anyone) moved it away:
    /// the lines after this go to a new file there. The file it names, or None when audit
    /// lines go to no file. On an error the lines keep going to the file open until now.
    pub fn reopen(&self) -> io::Result<Option<PathBuf>> {
        let mut target = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let AuditTarget::File { file, path } = &mut *target else {
            return Ok(None);
        };
        *file = append_to(path)?;
        Ok(Some(path.clone()))
    }
}

fn append_to(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// One audit line's writer: writes under the output's lock.
pub struct AuditOutputWriter(Arc<Mutex<AuditTarget>>);

impl Write for AuditOutputWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut target = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *target {
            AuditTarget::Stdout => io::stdout().lock().write_all(data)?,
            AuditTarget::Stderr => io::stderr().lock().write_all(data)?,
            AuditTarget::File { file, .. } => file.write_all(data)?,
            AuditTarget::Off => {}
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut target = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *target {
            AuditTarget::Stdout => io::stdout().flush(),
            AuditTarget::Stderr => io::stderr().flush(),
            AuditTarget::File { file, .. } => file.flush(),
            AuditTarget::Off => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for AuditOutput {
    type Writer = AuditOutputWriter;

    fn make_writer(&'a self) -> Self::Writer {
        AuditOutputWriter(self.0.clone())
    }
}

/// Formats an event as its message alone: the audit record's JSON line.
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageOnly;

impl<S, N> FormatEvent<S, N> for MessageOnly
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        struct Message<'w, 'x>(&'w mut Writer<'x>, std::fmt::Result);
        impl tracing::field::Visit for Message<'_, '_> {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "message" {
                    self.1 = self.0.write_str(value);
                }
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.1 = write!(self.0, "{value:?}");
                }
            }
        }
        let mut visitor = Message(&mut writer, Ok(()));
        event.record(&mut visitor);
        visitor.1?;
        writeln!(writer)
    }
}

/// The layer that writes audit lines (target `audit`, nothing else) to `writer`, masked.
pub fn audit_layer<S, W>(writer: W, masker: SharedMasker) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(MessageOnly)
        .with_writer(MaskingMakeWriter::shared(writer, masker))
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() == TARGET
        }))
}

/// The layer for people: every other event that `filter` lets through, masked.
pub fn log_layer<S, W>(
    writer: W,
    masker: SharedMasker,
    filter: EnvFilter,
) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = filter.add_directive(
        format!("{TARGET}=off")
            .parse()
            .expect("a static directive parses"),
    );
    // No colours: escape codes between a field's name and its value would hide
    // `secret=…` pairs from the masker.
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(MaskingMakeWriter::shared(writer, masker))
        .with_filter(filter)
}

/// The process's audit output (set up by [`init`]).
pub fn audit_output() -> &'static AuditOutput {
    static OUTPUT: LazyLock<AuditOutput> = LazyLock::new(|| AuditOutput::new(AuditTarget::Stdout));
    &OUTPUT
}

/// Installs the process's subscriber: logs for people on standard error (`filter`, usually
/// from `RUST_LOG`), audit lines to `audit` (until [`configure`] names a file), both masked
/// with the [`global_masker`]. Errors if a subscriber is already installed.
pub fn init(
    filter: EnvFilter,
    audit: AuditTarget,
) -> Result<(), tracing_subscriber::util::TryInitError> {
    audit_output().set(audit);
    let masker = global_masker().clone();
    tracing_subscriber::registry()
        .with(log_layer(io::stderr, masker.clone(), filter))
        .with(audit_layer(audit_output().clone(), masker))
        .try_init()
}

/// Applies a loaded configuration to the process's logging: its custom identifiers join the
/// masking of every line, and audit lines go to `[audit] file` when set.
pub fn configure(config: &Config) -> io::Result<()> {
    let masker = Masker::new(&config.audit.custom_identifiers)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    global_masker().set(Arc::new(masker));
    if let Some(path) = &config.audit.file {
        audit_output().open_file(path)?;
    }
    Ok(())
}

/// A subscriber that captures, masked with the managed identifiers, every event `filter`
/// lets through (`logs`) and every audit line (`audit`): for tests that check what reaches the
/// logs.
pub fn capture(filter: EnvFilter) -> (impl Subscriber + Send + Sync, MemoryWriter, MemoryWriter) {
    let logs = MemoryWriter::new();
    let audit = MemoryWriter::new();
    let masker = SharedMasker::new(Arc::new(Masker::managed()));
    let subscriber = tracing_subscriber::registry()
        .with(log_layer(logs.clone(), masker.clone(), filter))
        .with(audit_layer(audit.clone(), masker));
    (subscriber, logs, audit)
}

/// A writer into shared memory, for tests that read what was logged.
#[derive(Clone, Debug, Default)]
pub struct MemoryWriter(Arc<Mutex<Vec<u8>>>);

impl MemoryWriter {
    pub fn new() -> MemoryWriter {
        MemoryWriter::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

impl Write for MemoryWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for MemoryWriter {
    type Writer = MemoryWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_after_a_rotation_writes_to_a_new_file_at_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let rotated = dir.path().join("audit.log.1");
        let output = AuditOutput::new(AuditTarget::Off);
        assert_eq!(output.reopen().unwrap(), None, "no file, nothing to reopen");
        output.open_file(&path).unwrap();
        output.make_writer().write_all(b"first\n").unwrap();
        std::fs::rename(&path, &rotated).unwrap();
        // Until reopened, lines follow the file that was moved.
        output.make_writer().write_all(b"second\n").unwrap();
        assert_eq!(output.reopen().unwrap(), Some(path.clone()));
        output.make_writer().write_all(b"third\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&rotated).unwrap(),
            "first\nsecond\n"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "third\n");
        // Moved again, and the path can no longer be opened (a directory took its place): an
        // error, and the lines keep going to the file open until now.
        let rotated_again = dir.path().join("audit.log.2");
        std::fs::rename(&path, &rotated_again).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(output.reopen().is_err());
        output.make_writer().write_all(b"fourth\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&rotated_again).unwrap(),
            "third\nfourth\n"
        );
    }

    #[test]
    fn every_line_is_masked_and_audit_lines_are_bare_json() {
        let (subscriber, logs, audit) = capture(EnvFilter::new("trace"));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(key = "AKI\x41IOSFODNN7EXAMPLE", "mail jane@example.com");
            tracing::info!(target: "audit", "{}", r#"{"user":"U1","ip":"192.0.2.1"}"#);
        });
        let logs = logs.contents();
        assert!(logs.contains("****(AwsAccessKeyId)"), "{logs}");
        assert!(logs.contains("mail ****(EmailAddress)"), "{logs}");
        assert!(!logs.contains("AKIA") && !logs.contains("jane@"), "{logs}");
        assert!(
            !logs.contains("U1"),
            "audit lines stay out of the logs: {logs}"
        );
        assert_eq!(
            audit.contents(),
            "{\"user\":\"U1\",\"ip\":\"****(IpAddress)\"}\n"
        );
    }
}
