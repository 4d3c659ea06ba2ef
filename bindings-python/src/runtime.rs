//! The one tokio runtime of the process, and the two ways Python waits on it:
//! an asyncio future (finished calls are queued in the loop's mailbox and
//! resolved in batches on the loop's thread; cancelling the future aborts the
//! task) and a blocking wait that releases the GIL and wakes for Ctrl-C.

use std::future::Future;
#[cfg(unix)]
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::io::AsRawFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use messenger_handover::validate;
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::AbortHandle;

use crate::errors::to_pyerr;

/// The runtime and the process it was made in. A forked child inherits the
/// memory but not the worker threads, so it makes its own and leaks the
/// parent's (dropping it would wait on threads that do not exist).
static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// Tokio threads inside a Python call right now, and whether the interpreter
/// is shutting down. A thread that takes the GIL back during finalisation is
/// killed by CPython with `pthread_exit`, which aborts the process when it
/// unwinds through Rust frames (PyO3/pyo3#4874): so once `before_exit` has
/// run, no tokio thread enters Python again, and it waits for those inside.
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);
static FINALIZING: AtomicBool = AtomicBool::new(false);

/// Runs `f` with the GIL from a tokio thread, unless the interpreter is
/// shutting down (then the result has nobody to go to anyway).
pub(crate) fn from_tokio_thread<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    IN_PYTHON.fetch_add(1, SeqCst);
    let result = if FINALIZING.load(SeqCst) { None } else { Python::try_attach(f) };
    IN_PYTHON.fetch_sub(1, SeqCst);
    result
}

/// Registered with `atexit` when the module loads: stops tokio threads from
/// entering Python and waits (GIL released, at most 2 s) for those inside.
#[pyfunction]
pub fn before_exit(py: Python<'_>) {
    FINALIZING.store(true, SeqCst);
    py.detach(|| {
        let deadline = Instant::now() + Duration::from_secs(2);
        while IN_PYTHON.load(SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// How often a blocking wait wakes to let Python handle signals (Ctrl-C).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The current process's runtime, made on first use (and again after a fork).
pub fn handle() -> PyResult<Handle> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, rt)) = *slot {
        if owner == pid {
            return Ok(rt.handle().clone());
        }
    }
    // A bad TOKIO_WORKER_THREADS is a ValueError here, not tokio's panic
    // (made with the lock released: attaching may wait for the GIL).
    let threads = match validate::worker_threads_from_env() {
        Ok(threads) => threads,
        Err(e) => {
            drop(slot);
            return Err(Python::attach(|py| to_pyerr(py, e)));
        }
    };
    let mut builder = Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n);
    }
    let rt = builder
        .enable_all()
        .thread_name("messenger-handover")
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the tokio runtime: {e}")))?;
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    // A forked child has none of the parent's threads, whatever they were doing.
    IN_PYTHON.store(0, SeqCst);
    *slot = Some((pid, rt));
    Ok(rt.handle().clone())
}

/// Runs `fut` on the runtime and blocks this thread until it is done, with
/// the GIL released. Works from any thread, including one that runs an
/// asyncio loop (Jupyter). A pending signal (Ctrl-C) aborts the task and
/// raises.
pub fn block_on<F, T, E>(py: Python<'_>, fut: F) -> PyResult<Result<T, E>>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    block_on_or_give_back(py, fut, drop)
}

/// [`block_on`], handing an output that was already there when a signal
/// stopped the wait to `give_back` instead of dropping it (a pager puts its
/// page back: the caller never got it).
fn block_on_or_give_back<F, T, E>(
    py: Python<'_>,
    fut: F,
    give_back: impl FnOnce(Result<T, E>),
) -> PyResult<Result<T, E>>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let (tx, rx) = sync_channel(1);
    let task = handle()?.spawn(async move {
        let _ = tx.send(fut.await);
    });
    let mut rx = rx;
    loop {
        let (received, back) = py.detach(move || (rx.recv_timeout(SIGNAL_POLL), rx));
        rx = back;
        match received {
            Ok(result) => return Ok(result),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(signal) = py.check_signals() {
                    task.abort();
                    // Stopped at its next await, or finished: then its output is here.
                    let rx = py.detach(move || {
                        if tokio::runtime::Handle::try_current().is_err() {
                            let _ = handle().map(|h| h.block_on(task));
                        }
                        rx
                    });
                    if let Ok(output) = rx.try_recv() {
                        give_back(output);
                    }
                    return Err(signal);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("the request task stopped without an answer"));
            }
        }
    }
}

/// Runs `call` on the runtime and returns an asyncio future of its result,
/// bound to the running loop. Its output becomes a Python value (or
/// exception) on the loop's thread, in a batch with every other call that
/// finished meanwhile (see `Mailbox`), so a tokio thread never takes the GIL
/// to hand a result over. Cancelling the asyncio future aborts the tokio
/// task, which drops the HTTP request at once; an output that had already
/// finished is given back (see [`Outcome::give_back`]).
fn spawn_future<'py>(py: Python<'py>, call: Call) -> PyResult<Bound<'py, PyAny>> {
    let event_loop = get_running_loop(py)?;
    let mailbox = mailbox_for(&event_loop)?;
    let py_future = event_loop.call_method0(intern!(py, "create_future"))?;
    let future_ref = py_future.clone().unbind();
    let task = handle()?.spawn(async move {
        let ready = call.await;
        mailbox.post(Finished { future: future_ref, ready });
    });
    let canceller = Bound::new(py, AbortOnCancel { handle: task.abort_handle() })?;
    py_future.call_method1(intern!(py, "add_done_callback"), (canceller,))?;
    Ok(py_future)
}

/// A call that finished on the runtime, waiting for its loop's thread.
struct Finished {
    future: Py<PyAny>,
    ready: Ready,
}

/// How a mailbox tells its loop that calls finished.
enum Wake {
    /// The write end of a socket pair whose read end the loop watches
    /// (`loop.add_reader`): one byte, no GIL.
    #[cfg(unix)]
    Socket { writer: UnixStream, reader: UnixStream },
    /// Loops without `add_reader` (Windows' proactor loop, a loop object that
    /// cannot be weakly referenced): one `call_soon_threadsafe` per batch,
    /// the GIL taken once per batch instead of once per call. Holds the loop,
    /// or a weak reference to it when the mailbox is remembered beside it.
    Threadsafe { event_loop: Py<PyAny>, weak: bool },
}

/// The finished calls of one event loop. Tokio threads push into `queue` and
/// wake the loop only when it was empty; the loop's thread takes the whole
/// queue in one wake-up and resolves every future in it.
struct Mailbox {
    queue: Mutex<Vec<Finished>>,
    wake: Wake,
    /// The process that made it: a forked child makes its own (the socket
    /// pair would be shared with the parent).
    pid: u32,
}

impl Mailbox {
    fn post(self: &Arc<Self>, finished: Finished) {
        let was_empty = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.push(finished);
            queue.len() == 1
        };
        if !was_empty {
            return; // a wake-up is already on its way and will take this one too
        }
        match &self.wake {
            #[cfg(unix)]
            Wake::Socket { writer, .. } => {
                // WouldBlock means the buffer is full of wake-ups already.
                let _ = (&*writer).write(&[1]);
            }
            Wake::Threadsafe { event_loop, weak } => {
                let mailbox = self.clone();
                // During interpreter shutdown there is nobody left to tell; a
                // closed or collected loop has no taker either.
                from_tokio_thread(|py| -> PyResult<()> {
                    let event_loop = if *weak { event_loop.bind(py).call0()? } else { event_loop.bind(py).clone() };
                    let drain = Bound::new(py, Drain { mailbox })?;
                    event_loop.call_method1(intern!(py, "call_soon_threadsafe"), (drain,))?;
                    Ok(())
                });
            }
        }
    }

    /// Runs on the loop's thread: resolves every finished call.
    fn drain(&self, py: Python<'_>) {
        // Empty the socket before taking the queue: a call posted after the
        // take then leaves a byte behind and wakes the loop again.
        #[cfg(unix)]
        if let Wake::Socket { reader, .. } = &self.wake {
            let mut buf = [0u8; 256];
            while matches!((&*reader).read(&mut buf), Ok(n) if n > 0) {}
        }
        let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
        for finished in batch {
            if let Err(e) = resolve(py, finished) {
                e.write_unraisable(py, None);
            }
        }
    }
}

/// Sets the future's result or exception unless it was cancelled meanwhile
/// (then the output is given back).
fn resolve(py: Python<'_>, finished: Finished) -> PyResult<()> {
    let future = finished.future.bind(py);
    if future.call_method0(intern!(py, "done"))?.is_truthy()? {
        finished.ready.give_back();
        return Ok(());
    }
    match finished.ready.deliver(py) {
        Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
        Err(e) => future.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
}

/// The loop's callback (reader or `call_soon_threadsafe`) that drains a mailbox.
#[pyclass(frozen, module = "messenger_handover._native")]
pub struct Drain {
    mailbox: Arc<Mailbox>,
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) {
        self.mailbox.drain(py);
    }
}

/// The mailbox of `event_loop`, made and registered on first use. Kept in a
/// `WeakKeyDictionary` keyed by the loop, so it goes with the loop.
fn mailbox_for(event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Mailbox>> {
    static MAILBOXES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = event_loop.py();
    let pid = std::process::id();
    let mailboxes = MAILBOXES.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("weakref")?.getattr("WeakKeyDictionary")?.call0()?.unbind())
    })?;
    let mailboxes = mailboxes.bind(py);
    let known = mailboxes.call_method1(intern!(py, "get"), (event_loop,));
    if let Ok(known) = &known {
        if let Ok(drain) = known.cast::<Drain>() {
            let mailbox = &drain.get().mailbox;
            if mailbox.pid == pid {
                return Ok(mailbox.clone());
            }
            // Inherited across a fork: stop watching the parent's socket.
            #[cfg(unix)]
            if let Wake::Socket { reader, .. } = &mailbox.wake {
                let _ = event_loop.call_method1("remove_reader", (reader.as_raw_fd(),));
            }
        }
    }
    let queue = Mutex::new(Vec::new());
    if known.is_err() {
        // Not weakly referenceable: a mailbox for this one call.
        let wake = Wake::Threadsafe { event_loop: event_loop.clone().unbind(), weak: false };
        return Ok(Arc::new(Mailbox { queue, wake, pid }));
    }
    #[cfg(unix)]
    if let Ok((writer, reader)) = UnixStream::pair() {
        if writer.set_nonblocking(true).is_ok() && reader.set_nonblocking(true).is_ok() {
            let fd = reader.as_raw_fd();
            let mailbox = Arc::new(Mailbox { queue, wake: Wake::Socket { writer, reader }, pid });
            let drain = Bound::new(py, Drain { mailbox: mailbox.clone() })?;
            if event_loop.call_method1("add_reader", (fd, &drain)).is_ok() {
                mailboxes.set_item(event_loop, drain)?;
                return Ok(mailbox);
            }
            return remember_threadsafe(mailboxes, event_loop, pid);
        }
    }
    remember_threadsafe(mailboxes, event_loop, pid)
}

fn remember_threadsafe(
    mailboxes: &Bound<'_, PyAny>,
    event_loop: &Bound<'_, PyAny>,
    pid: u32,
) -> PyResult<Arc<Mailbox>> {
    // A weak reference: a strong one in the value would keep the key alive.
    let py = event_loop.py();
    let weak = py.import("weakref")?.getattr("ref")?.call1((event_loop,))?.unbind();
    let wake = Wake::Threadsafe { event_loop: weak, weak: true };
    let mailbox = Arc::new(Mailbox { queue: Mutex::new(Vec::new()), wake, pid });
    mailboxes.set_item(event_loop, Bound::new(py, Drain { mailbox: mailbox.clone() })?)?;
    Ok(mailbox)
}

fn get_running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    GET_RUNNING_LOOP.import(py, "asyncio", "get_running_loop")?.call0()
}

/// Done-callback of an asyncio future: aborts the tokio task when the
/// future was cancelled.
#[pyclass(frozen, module = "messenger_handover._native")]
pub struct AbortOnCancel {
    handle: AbortHandle,
}

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.handle.abort();
        }
        Ok(())
    }
}

/// What a finished call hands to Python.
pub trait Outcome: Send {
    /// Its value or exception, built with the GIL held.
    fn deliver(self: Box<Self>, py: Python<'_>) -> PyResult<Py<PyAny>>;
    /// Nobody receives it (the asyncio future was cancelled, Ctrl-C stopped
    /// the wait): what the call took is put back, so that nothing is lost.
    fn give_back(self: Box<Self>);
}

/// An output with what delivers it and what gives it back.
struct Output<T, D, G> {
    value: T,
    deliver: D,
    give_back: G,
}

impl<T, D, G> Outcome for Output<T, D, G>
where
    T: Send,
    D: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send,
    G: FnOnce(T) + Send,
{
    fn deliver(self: Box<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        (self.deliver)(py, self.value)
    }
    fn give_back(self: Box<Self>) {
        (self.give_back)(self.value)
    }
}

type Ready = Box<dyn Outcome>;
type Call = Pin<Box<dyn Future<Output = Ready> + Send>>;

/// One call of the core, not started yet. `await call` runs it on the
/// runtime (the `AsyncClient`); `call.wait()` runs it and blocks with the GIL
/// released, waking for Ctrl-C (the `Client`). One native signature per
/// operation serves both clients.
#[pyclass(frozen, module = "messenger_handover._native")]
pub struct PendingCall {
    call: Mutex<Option<Call>>,
}

impl PendingCall {
    /// The call `fut`, whose output `convert` turns into a Python value (a
    /// core error into its typed exception).
    pub fn new<T, F, C>(fut: F, convert: C) -> Self
    where
        F: Future<Output = Result<T, messenger_handover::Error>> + Send + 'static,
        T: Send + 'static,
        C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        Self::with(fut, move |py, output| match output {
            Ok(v) => convert(py, v),
            Err(e) => Err(to_pyerr(py, e)),
        })
    }

    /// The call `fut`, whose whole output `deliver` turns into a Python value
    /// or exception (for futures that are not core calls, like the emulator's).
    pub fn with<T, F, D>(fut: F, deliver: D) -> Self
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
        D: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        Self::with_give_back(fut, deliver, drop)
    }

    /// [`with`](Self::with), with what puts the output back when nobody
    /// receives it (see [`Outcome::give_back`]).
    pub fn with_give_back<T, F, D, G>(fut: F, deliver: D, give_back: G) -> Self
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
        D: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
        G: FnOnce(T) + Send + 'static,
    {
        let call: Call = Box::pin(async move {
            let value = fut.await;
            Box::new(Output { value, deliver, give_back }) as Ready
        });
        PendingCall { call: Mutex::new(Some(call)) }
    }

    fn take(&self) -> PyResult<Call> {
        self.call
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this call was already awaited or waited for"))
    }
}

#[pymethods]
impl PendingCall {
    /// Runs the call and blocks until it is done.
    fn wait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let call = self.take()?;
        let give_back = |output: Result<Ready, std::convert::Infallible>| match output {
            Ok(ready) => ready.give_back(),
            Err(never) => match never {},
        };
        match block_on_or_give_back(py, async move { Ok::<Ready, std::convert::Infallible>(call.await) }, give_back)? {
            Ok(ready) => ready.deliver(py),
            Err(never) => match never {},
        }
    }

    fn __await__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let call = self.take()?;
        spawn_future(py, call)?.call_method0("__await__")
    }
}
