//! `NativePager`: one page at a time from the core pager (which prefetches
//! the next page while Python handles this one). Items are iterated in Python.

use std::sync::{Arc, Mutex, PoisonError};

use messenger_handover::ConversationPager;
use pyo3::prelude::*;

use crate::models::Page;
use crate::runtime::run;

#[derive(Default)]
struct Progress {
    after: Option<String>,
    finished: bool,
}

#[pyclass(frozen, module = "messenger_handover._native")]
pub struct NativePager {
    pager: Arc<tokio::sync::Mutex<ConversationPager>>,
    progress: Arc<Mutex<Progress>>,
}

impl NativePager {
    pub fn new(pager: ConversationPager) -> Self {
        let progress = Progress { after: pager.after().map(str::to_owned), finished: pager.is_finished() };
        NativePager { pager: Arc::new(tokio::sync::Mutex::new(pager)), progress: Arc::new(Mutex::new(progress)) }
    }
}

#[pymethods]
impl NativePager {
    /// The cursor after the last page read (or the one it started from).
    #[getter]
    fn after(&self) -> Option<String> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner).after.clone()
    }

    /// True once the last page was read.
    #[getter]
    fn finished(&self) -> bool {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner).finished
    }

    /// The next `Page`, or None after the last one.
    fn next_page<'py>(&self, py: Python<'py>, blocking: bool) -> PyResult<Bound<'py, PyAny>> {
        let pager = self.pager.clone();
        let progress = self.progress.clone();
        let fut = async move {
            let mut pager = pager.lock_owned().await;
            let page = pager.next_page().await;
            let mut p = progress.lock().unwrap_or_else(PoisonError::into_inner);
            p.after = pager.after().map(str::to_owned);
            p.finished = pager.is_finished();
            page
        };
        run(py, blocking, fut, |py, page| {
            Ok(match page {
                Some(page) => Bound::new(py, Page::from_core(py, page)?)?.into_any().unbind(),
                None => py.None(),
            })
        })
    }
}
