//! The one tokio runtime of the process, and the two ways Python waits on it:
//! an asyncio future (resolved from a tokio thread with
//! `loop.call_soon_threadsafe`, aborting the task when the future is
//! cancelled) and a blocking wait that releases the GIL and wakes for Ctrl-C.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;
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
    let rt = Builder::new_multi_thread()
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
                    return Err(signal);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("the request task stopped without an answer"));
            }
        }
    }
}

/// What a finished task hands back to Python: built with the GIL held on
/// the tokio thread, delivered on the loop's thread.
pub type Delivered = Result<Py<PyAny>, PyErr>;

/// Runs `fut` on the runtime and returns an asyncio future of its result,
/// bound to the running loop. `convert` turns the output into a Python
/// value (or exception) with the GIL held. Cancelling the asyncio future
/// aborts the tokio task, which drops the HTTP request at once.
pub fn spawn_future<'py, F, T, C>(py: Python<'py>, fut: F, convert: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> Delivered + Send + 'static,
{
    let event_loop = get_running_loop(py)?;
    let py_future = event_loop.call_method0("create_future")?;
    let loop_ref = event_loop.unbind();
    let future_ref = py_future.clone().unbind();
    let task = handle()?.spawn(async move {
        let output = fut.await;
        // During interpreter shutdown there is nobody left to tell.
        from_tokio_thread(|py| {
            let delivered = convert(py, output);
            let (ok, value) = match delivered {
                Ok(v) => (true, v),
                Err(e) => (false, e.into_value(py).into_any()),
            };
            if let Ok(resolver) = resolver(py) {
                // Fails only when the loop is closed: the result has no taker.
                let _ = loop_ref.bind(py).call_method1("call_soon_threadsafe", (resolver, future_ref, ok, value));
            }
        });
    });
    let canceller = Bound::new(py, AbortOnCancel { handle: task.abort_handle() })?;
    py_future.call_method1("add_done_callback", (canceller,))?;
    Ok(py_future)
}

fn get_running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    GET_RUNNING_LOOP.import(py, "asyncio", "get_running_loop")?.call0()
}

/// `_resolve(future, ok, value)`: sets the result or exception unless the
/// future was cancelled meanwhile. Runs on the loop's thread.
fn resolver(py: Python<'_>) -> PyResult<&Bound<'_, PyCFunction>> {
    static RESOLVER: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
    RESOLVER
        .get_or_try_init(py, || {
            PyCFunction::new_closure(py, Some(c"_resolve"), None, |args, _kwargs| -> PyResult<()> {
                let (future, ok, value): (Bound<'_, PyAny>, bool, Bound<'_, PyAny>) = args.extract()?;
                if future.call_method0("done")?.is_truthy()? {
                    return Ok(());
                }
                if ok {
                    future.call_method1("set_result", (value,))?;
                } else {
                    future.call_method1("set_exception", (value,))?;
                }
                Ok(())
            })
            .map(Bound::unbind)
        })
        .map(|f| f.bind(py))
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

/// Runs one core call either way and converts its output with `convert`.
pub fn run<'py, T, F, C>(py: Python<'py>, blocking: bool, fut: F, convert: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, messenger_handover::Error>> + Send + 'static,
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    if blocking {
        match block_on(py, fut)? {
            Ok(v) => Ok(convert(py, v)?.into_bound(py)),
            Err(e) => Err(to_pyerr(py, e)),
        }
    } else {
        spawn_future(py, fut, move |py, r| match r {
            Ok(v) => convert(py, v),
            Err(e) => Err(to_pyerr(py, e)),
        })
    }
}

/// What a finished call hands to Python: its value or exception, built with
/// the GIL held.
type Ready = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Py<PyAny>> + Send>;
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
    /// The call `fut`, whose output `convert` turns into a Python value.
    pub fn new<T, F, C>(fut: F, convert: C) -> Self
    where
        F: Future<Output = Result<T, messenger_handover::Error>> + Send + 'static,
        T: Send + 'static,
        C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        let call: Call = Box::pin(async move {
            let output = fut.await;
            Box::new(move |py: Python<'_>| match output {
                Ok(v) => convert(py, v),
                Err(e) => Err(to_pyerr(py, e)),
            }) as Ready
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
        match block_on(py, async move { Ok::<Ready, std::convert::Infallible>(call.await) })? {
            Ok(ready) => ready(py),
            Err(never) => match never {},
        }
    }

    fn __await__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let call = self.take()?;
        spawn_future(py, call, |py, ready: Ready| ready(py))?.call_method0("__await__")
    }
}
