//! Faults a worker process commits when told to, so the tests can check what the parent does
//! with a reply it cannot trust: the reply to one task is rewritten on its way out as bytes that
//! are not UTF-8, as a line that does not parse, or as a reply for a task the worker was never
//! given. The worker reads the order from [`FAULT_ENV`] (`KIND:TASK`, e.g. `garbled:3`) in its
//! entry point; the executors know nothing of it. An environment variable rather than a flag,
//! so no command-line option exists only for tests.

use std::io::{self, Write};

/// `KIND:TASK`: which fault to commit on the reply to which task (in every worker process that
/// inherits it, so a replacement commits it too if it is given that task).
pub const FAULT_ENV: &str = "EXECUTOR_COMPLETED_WORKER_FAULT";

/// What to write instead of the reply to one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Bytes that are not UTF-8: the parent's `read_line` fails.
    NotUtf8(u64),
    /// A line of the right shape with a kind no reply has.
    Garbled(u64),
    /// The reply, under the id of a task this worker was never given.
    Stranger(u64),
}

impl Fault {
    /// The fault ordered in [`FAULT_ENV`], if any; an order that cannot be read is an error.
    pub fn from_env() -> io::Result<Option<Self>> {
        let Some(spec) = std::env::var_os(FAULT_ENV) else {
            return Ok(None);
        };
        let spec = spec.to_string_lossy();
        Self::parse(&spec).map(Some).ok_or_else(|| {
            let want = "not-utf8, garbled or stranger, a colon, a task id";
            let msg = format!("{FAULT_ENV}={spec:?}: want {want}");
            io::Error::new(io::ErrorKind::InvalidInput, msg)
        })
    }

    /// Reads `KIND:TASK`.
    fn parse(spec: &str) -> Option<Self> {
        let (kind, id) = spec.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "not-utf8" => Some(Self::NotUtf8(id)),
            "garbled" => Some(Self::Garbled(id)),
            "stranger" => Some(Self::Stranger(id)),
            _ => None,
        }
    }

    /// `line` (one reply, newline included) as the fault rewrites it: changed if it is the
    /// reply to the fault's task, as it was otherwise.
    fn rewrite(self, line: &[u8]) -> Vec<u8> {
        let (Self::NotUtf8(id) | Self::Garbled(id) | Self::Stranger(id)) = self;
        let Some(rest) = line.strip_prefix(format!("{id} ").as_bytes()) else {
            return line.to_vec();
        };
        match self {
            Self::NotUtf8(_) => [format!("{id} ok ").as_bytes(), b"\xff\xfe\n"].concat(),
            Self::Garbled(_) => format!("{id} garbled\n").into_bytes(),
            // Far past any id a run hands out.
            Self::Stranger(_) => [format!("{} ", id + (1 << 40)).as_bytes(), rest].concat(),
        }
    }
}

/// A writer that passes replies through, whole lines at a time, with one rewritten by `fault`.
#[derive(Debug)]
pub struct FaultyReplies<W: Write> {
    inner: W,
    fault: Fault,
    /// The start of a line whose newline has not been written yet.
    partial: Vec<u8>,
}

impl<W: Write> FaultyReplies<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, fault: Fault) -> Self {
        let partial = Vec::new();
        Self {
            inner,
            fault,
            partial,
        }
    }
}

impl<W: Write> Write for FaultyReplies<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.partial.extend_from_slice(buf);
        // Whole lines go on at once; a line's start waits here for its end (the worker writes
        // whole lines before it flushes, so nothing it means to send waits here).
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.inner.write_all(&self.fault.rewrite(&line))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(fault: Fault, text: &[u8]) -> Vec<u8> {
        let mut out = FaultyReplies::new(Vec::new(), fault);
        // Split mid-line on purpose: lines are rewritten whole all the same.
        for chunk in text.chunks(5) {
            out.write_all(chunk).unwrap();
        }
        out.inner
    }

    #[test]
    fn only_the_named_task_reply_changes() {
        let replies = b"13 ok 169\n3 ok 9\n4 ok 16\n";
        let garbled = through(Fault::Garbled(3), replies);
        assert_eq!(garbled, b"13 ok 169\n3 garbled\n4 ok 16\n");
        let stranger = through(Fault::Stranger(3), replies);
        assert_eq!(stranger, b"13 ok 169\n1099511627779 ok 9\n4 ok 16\n");
        let not_utf8 = through(Fault::NotUtf8(4), replies);
        assert!(std::str::from_utf8(&not_utf8).is_err());
        assert!(not_utf8.starts_with(b"13 ok 169\n3 ok 9\n4 ok "));
    }

    #[test]
    fn orders_are_kind_colon_task() {
        assert_eq!(Fault::parse("garbled:3"), Some(Fault::Garbled(3)));
        assert_eq!(Fault::parse("stranger:0"), Some(Fault::Stranger(0)));
        assert_eq!(Fault::parse("not-utf8:7"), Some(Fault::NotUtf8(7)));
        for bad in ["garbled", "garbled:x", "dance:3", ""] {
            assert_eq!(Fault::parse(bad), None, "{bad}");
        }
    }
}
