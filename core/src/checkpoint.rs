//! The JSONL writer of an export and its checkpoint, which make an export
//! resumable: killed at any point and started again with the same
//! arguments and output, it writes no conversation twice and loses none.
//!
//! How: conversations are written a page at a time; after each page the
//! output is flushed and fsynced, then the checkpoint is replaced
//! atomically (temp file, fsync, rename) with the output's committed length
//! and SHA-256, the walk's resume point and the stats. A restart checks the
//! output against that length and hash, cuts off whatever was written after
//! the last commit (a partial line included), rebuilds the set of ids
//! already written from the file, and continues from the resume point.
//! The checkpoint holds the arguments' fingerprint, never the token.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::export::{Export, ExportStats, WalkPosition};
use crate::raw_object::RawObject;

const FORMAT: &str = "messenger-handover-export-checkpoint";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    format: String,
    version: u32,
    /// SHA-256 of `arguments`: a checkpoint serves only the export that made it.
    fingerprint: String,
    /// The arguments, readable, for the error that refuses another export.
    arguments: Value,
    /// The output file, absolute.
    output: PathBuf,
    committed_bytes: u64,
    committed_sha256: String,
    walk: usize,
    after: Option<String>,
    done: bool,
    stats: ExportStats,
}

/// The output being written and what its checkpoint says about it.
struct Journal {
    out: BufWriter<File>,
    /// Lines handed out since the last commit.
    pending: Vec<u8>,
    /// SHA-256 of the committed bytes so far.
    hasher: Sha256,
    committed: u64,
    checkpoint: PathBuf,
    output: PathBuf,
    fingerprint: String,
    arguments: Value,
}

impl Journal {
    /// Writes and fsyncs the pending lines, then replaces the checkpoint.
    fn commit(&mut self, export: &Export) -> Result<()> {
        let output = &self.output;
        self.out.write_all(&self.pending).map_err(|e| io_error("write", output, &e))?;
        self.out.flush().map_err(|e| io_error("write", output, &e))?;
        self.out.get_ref().sync_data().map_err(|e| io_error("sync", output, &e))?;
        self.hasher.update(&self.pending);
        self.committed += self.pending.len() as u64;
        self.pending.clear();
        export.commit(&self.checkpoint, output, &self.fingerprint, &self.arguments, self.committed, &self.hasher)
    }
}

fn checkpoint_error(message: impl Into<String>) -> Error {
    Error::invalid("checkpoint", message.into())
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::invalid("output", format!("cannot {what} {}: {e}", path.display()))
}

impl Export {
    /// What identifies this export's result: every argument that changes
    /// which conversations are written (not the pacing, not the token).
    fn arguments(&self) -> Value {
        let o = &self.options;
        json!({
            "page_id": self.client.page_id(),
            "api_version": self.client.api_version(),
            "walks": self.walks().iter().map(|(f, p)| format!("{p}/{f}")).collect::<Vec<_>>(),
            "fields": o.fields,
            "messages": o.messages,
            "since": o.since.map(|t| t.to_rfc3339()),
            "page_size": o.page_size,
        })
    }

    /// Writes every conversation as one JSON object per line (Graph's
    /// object, `folder` and `platform` filled in) and returns the stats.
    ///
    /// Without a checkpoint the file is created or truncated. With one, an
    /// interrupted run continues where it stopped: see the module docs.
    /// Refused, with nothing overwritten: a checkpoint made with other
    /// arguments or for another output, a damaged checkpoint, an output that
    /// is not the one the checkpoint wrote, an existing non-empty output
    /// without a checkpoint. A run on an output another run is still writing
    /// (an aborted one, which stops at its next page) waits for it to stop.
    pub async fn write_jsonl(self, path: impl AsRef<Path>) -> Result<ExportStats> {
        self.write_jsonl_with_progress(path, |_| {}).await
    }

    /// [`write_jsonl`](Self::write_jsonl), calling `progress` with the stats
    /// after every page written (a binding's progress bar or `onProgress`).
    pub async fn write_jsonl_with_progress(
        mut self,
        path: impl AsRef<Path>,
        mut progress: impl FnMut(&ExportStats) + Send,
    ) -> Result<ExportStats> {
        let path = path.as_ref();
        let created = !path.exists();
        let file = open_locked(path).await?;
        let Some(checkpoint_path) = self.options.checkpoint.clone() else {
            file.set_len(0).map_err(|e| io_error("truncate", path, &e))?;
            let mut out = BufWriter::new(file);
            while let Some(conv) = self.next().await? {
                write_line(&mut out, &conv.raw, path)?;
                if self.at_page_end() {
                    progress(&self.stats());
                    tokio::task::yield_now().await;
                }
            }
            out.flush().map_err(|e| io_error("write", path, &e))?;
            return Ok(self.stats());
        };
        self.resume_jsonl(file, created, path, checkpoint_path, progress).await
    }

    /// The checkpointed half of [`write_jsonl_with_progress`](Self::write_jsonl_with_progress),
    /// on the output `file`, opened and locked.
    async fn resume_jsonl(
        &mut self,
        mut file: File,
        created: bool,
        path: &Path,
        checkpoint_path: PathBuf,
        mut progress: impl FnMut(&ExportStats) + Send,
    ) -> Result<ExportStats> {
        let output = absolute(path)?;
        let arguments = self.arguments();
        let fingerprint = hex::encode(Sha256::digest(arguments.to_string().as_bytes()));
        let (hasher, committed) = match self.check(&file, &output, &checkpoint_path, &fingerprint, &arguments) {
            Ok(checked) => checked,
            Err(e) => {
                // Refused before writing: an output this run created (empty) is not left behind.
                if created {
                    let _ = fs::remove_file(path);
                }
                return Err(e);
            }
        };
        // Whatever followed the last commit (a partial line included) is written again.
        file.set_len(committed).map_err(|e| io_error("truncate", &output, &e))?;
        file.seek(SeekFrom::Start(committed)).map_err(|e| io_error("seek", &output, &e))?;
        let mut journal = Journal {
            out: BufWriter::new(file),
            pending: Vec::new(),
            hasher,
            committed,
            checkpoint: checkpoint_path,
            output,
            fingerprint,
            arguments,
        };
        loop {
            let conv = match self.next().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    // What was handed out is written and committed; the error then stops the run.
                    journal.commit(self)?;
                    return Err(e);
                }
            };
            journal.pending.extend_from_slice(conv.raw.as_str().as_bytes());
            journal.pending.push(b'\n');
            if self.at_page_end() {
                journal.commit(self)?;
                progress(&self.stats());
                // A page boundary where an aborted run stops: the walk may
                // never wait (a prefetched page that already landed), and a
                // task stops only where it does.
                tokio::task::yield_now().await;
            }
        }
        journal.commit(self)?;
        Ok(self.stats())
    }

    /// Reads the checkpoint and checks the output `file` against it (or, with
    /// none, that the output is empty, and writes the first checkpoint).
    /// Returns the hash and length of what it committed; the walk is restored
    /// to where it stood.
    fn check(
        &mut self,
        file: &File,
        output: &Path,
        checkpoint_path: &Path,
        fingerprint: &str,
        arguments: &Value,
    ) -> Result<(Sha256, u64)> {
        let mut hasher = Sha256::new();
        let mut committed: u64 = 0;
        match read_checkpoint(checkpoint_path)? {
            Some(cp) => {
                if cp.fingerprint != fingerprint {
                    return Err(checkpoint_error(format!(
                        "{} was made by an export with other arguments ({}); this one has {}. \
                         Use another checkpoint path, or delete it to start over",
                        checkpoint_path.display(),
                        cp.arguments,
                        arguments
                    )));
                }
                if cp.output != output {
                    return Err(checkpoint_error(format!(
                        "{} belongs to the output {}, not {}",
                        checkpoint_path.display(),
                        cp.output.display(),
                        output.display()
                    )));
                }
                // The file must start with exactly what the checkpoint committed
                // (read through the locked handle: a lock may bar other ones).
                let mut reader = BufReader::new(file).take(cp.committed_bytes);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    let n = reader.read_until(b'\n', &mut line).map_err(|e| io_error("read", output, &e))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&line);
                    committed += n as u64;
                    if let Ok(obj) = serde_json::from_slice::<Value>(&line) {
                        if let Some(id) = obj.get("id").and_then(Value::as_str) {
                            self.seen.insert(id.to_owned());
                        }
                    }
                }
                if committed != cp.committed_bytes || hex::encode(hasher.clone().finalize()) != cp.committed_sha256 {
                    return Err(checkpoint_error(format!(
                        "the output {} is not the file this checkpoint wrote (its first {} bytes differ); \
                         nothing was overwritten",
                        output.display(),
                        cp.committed_bytes
                    )));
                }
                self.restore(WalkPosition { walk: cp.walk, after: cp.after }, cp.stats, cp.done);
            }
            None => {
                if fs::metadata(output).is_ok_and(|m| m.len() > 0) {
                    return Err(checkpoint_error(format!(
                        "{} does not exist but the output {} is not empty; nothing was overwritten \
                         (remove the output, or pass the checkpoint that wrote it)",
                        checkpoint_path.display(),
                        output.display()
                    )));
                }
                // The checkpoint is written before any line: a restart
                // always finds one once anything may have been written.
                self.commit(checkpoint_path, output, fingerprint, arguments, 0, &hasher)?;
            }
        }
        Ok((hasher, committed))
    }

    /// Replaces the checkpoint atomically: temp file, fsync, rename, fsync the directory.
    fn commit(
        &self,
        checkpoint: &Path,
        output: &Path,
        fingerprint: &str,
        arguments: &Value,
        committed: u64,
        hasher: &Sha256,
    ) -> Result<()> {
        let position = self.position();
        let cp = Checkpoint {
            format: FORMAT.into(),
            version: VERSION,
            fingerprint: fingerprint.into(),
            arguments: arguments.clone(),
            output: output.to_path_buf(),
            committed_bytes: committed,
            committed_sha256: hex::encode(hasher.clone().finalize()),
            walk: position.walk,
            after: position.after,
            done: self.is_finished(),
            stats: self.stats(),
        };
        let body = serde_json::to_vec_pretty(&cp).map_err(|e| checkpoint_error(format!("cannot serialise: {e}")))?;
        let mut tmp_name = checkpoint.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
            fs::rename(&tmp, checkpoint)?;
            if let Some(dir) = checkpoint.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Makes the rename itself durable; not every platform can open a directory.
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        };
        write().map_err(|e| checkpoint_error(format!("cannot write {}: {e}", checkpoint.display())))
    }
}

/// How long a run waits for another run writing the same output to stop.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The output, opened for writing (created if need be, nothing truncated
/// yet) and locked for the run (an advisory lock on the whole file). A run
/// that was aborted stops at its next page; until it has, a run on the same
/// output waits for it (up to [`LOCK_WAIT`]) instead of writing beside it:
/// two writers of one file and checkpoint each made the other's checkpoint
/// wrong, and the rerun was refused, at worst for good.
async fn open_locked(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io_error("open", path, &e))?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::invalid(
                    "output",
                    format!(
                        "{} is being written by another export (in this process or another) that has not \
                         stopped within {} s; nothing was written",
                        path.display(),
                        LOCK_WAIT.as_secs()
                    ),
                ))
            }
            // A file system without locks: written unlocked, as before.
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(file),
            Err(TryLockError::Error(e)) => return Err(io_error("lock", path, &e)),
        }
    }
}

fn write_line(out: &mut impl Write, raw: &RawObject, path: &Path) -> Result<()> {
    out.write_all(raw.as_str().as_bytes()).map_err(|e| io_error("write", path, &e))?;
    out.write_all(b"\n").map_err(|e| io_error("write", path, &e))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| io_error("resolve", path, &e))
}

fn read_checkpoint(path: &Path) -> Result<Option<Checkpoint>> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(checkpoint_error(format!("cannot read {}: {e}", path.display()))),
    };
    let cp: Checkpoint = serde_json::from_slice(&text).map_err(|e| {
        checkpoint_error(format!(
            "{} is not a readable export checkpoint ({e}); nothing was overwritten. Delete it to start over",
            path.display()
        ))
    })?;
    if cp.format != FORMAT || cp.version != VERSION {
        return Err(checkpoint_error(format!(
            "{} is not a version {VERSION} export checkpoint; nothing was overwritten",
            path.display()
        )));
    }
    Ok(Some(cp))
}
